"""Tiny, randomly initialised teachers built locally (no downloads)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

# The helper module is also run as a script by subprocess tests; make it
# importable whatever pytest import mode is used.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

WORDS = ["the", "cat", "dog", "sat", "on", "mat", "a", "big", "red", "ran", "fast"]


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    """Tests never touch the network: weights come from local files only."""
    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory):
    """A 2-layer BERT (hidden size 32) and its tokenizer, saved to a folder."""
    transformers = pytest.importorskip("transformers")
    path = tmp_path_factory.mktemp("tiny_bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (path / "vocab.txt").write_text("\n".join(vocab))
    tokenizer = transformers.BertTokenizerFast(vocab=str(path / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_vit_dir(tmp_path_factory):
    """A 2-layer ViT on 32x32 images (patch 8) and its image processor."""
    transformers = pytest.importorskip("transformers")
    path = tmp_path_factory.mktemp("tiny_vit")
    config = transformers.ViTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
    )
    torch.manual_seed(0)
    transformers.ViTModel(config).save_pretrained(path)
    processor = transformers.ViTImageProcessor(size={"height": 32, "width": 32})
    processor.save_pretrained(path)
    return path


@pytest.fixture
def rng():
    return np.random.RandomState(0)
