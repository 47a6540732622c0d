"""The paper's three teachers at full size, against hand-written references.

ResNet-50, ViT-B/16 and BERT-base are built with random weights (nothing is
downloaded): what is checked is the structure, i.e. that the extractor reads
exactly the feature the paper uses, computed the way the reference code
computes it.
"""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from torch import nn

from sklearn_subspace.teachers import TorchFeatureExtractor, clear_model_cache

torchvision = pytest.importorskip("torchvision")

WORDS = ["the", "cat", "dog", "sat", "on", "mat", "a", "big", "red", "ran", "fast"]


def _paper_extractor(model, **params):
    params = {"device": "cpu", "batch_size": 2, "random_state": 7, **params}
    return TorchFeatureExtractor(model, **params)


@pytest.fixture(scope="module")
def images():
    """Two already preprocessed (normalised, NCHW float32) 224 x 224 images."""
    return np.random.RandomState(0).randn(2, 3, 224, 224).astype(np.float32)


def _reference_with_weights_of(reference, extractor):
    """``reference`` holding the extractor's weights, in eval mode.

    ``strict=True`` also proves that the extractor's teacher is the stock
    torchvision architecture: every parameter and buffer name matches.
    """
    reference.load_state_dict(extractor.model_.state_dict(), strict=True)
    return reference.eval()


@pytest.mark.slow
def test_resnet50_features_are_the_input_of_its_classifier(images):
    extractor = _paper_extractor("resnet50", weights=None)
    features = extractor.fit_transform(images)

    reference = _reference_with_weights_of(
        torchvision.models.resnet50(weights=None), extractor
    )
    reference.fc = nn.Identity()
    with torch.inference_mode():
        expected = reference(torch.from_numpy(images)).numpy()

    assert features.shape == (2, 2048)
    assert features.dtype == np.float32
    assert extractor.n_features_out_ == 2048
    # Global average pool of ReLU maps: non-negative, and not all zero.
    assert (features >= 0).all() and (features > 0).any()
    assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_resnet50_random_weights_follow_random_state(images):
    def conv1_weights(random_state):
        clear_model_cache()  # rebuild, rather than reuse the loaded teacher
        extractor = _paper_extractor(
            "resnet50", weights=None, random_state=random_state
        )
        return extractor.fit(images[:1]).model_.conv1.weight.detach().clone()

    first = conv1_weights(7)
    assert torch.equal(first, conv1_weights(7))
    assert not torch.equal(first, conv1_weights(8))


def _vit_class_token(model, x):
    """ViT-B/16's feature, from its public submodules.

    What ``VisionTransformer.forward`` hands to ``heads``: patches embedded by
    ``conv_proj``, the class token prepended, the encoder (position
    embedding, blocks, final LayerNorm), then the class token.
    """
    n = x.shape[0]
    patches = model.conv_proj(x)  # (n, 768, 14, 14)
    tokens = patches.flatten(2).transpose(1, 2)  # (n, 196, 768)
    tokens = torch.cat([model.class_token.expand(n, -1, -1), tokens], dim=1)
    return model.encoder(tokens)[:, 0]


@pytest.mark.slow
def test_vit_b_16_features_are_the_class_token_after_the_final_norm(images):
    extractor = _paper_extractor("vit_b_16", weights=None)
    features = extractor.fit_transform(images)

    reference = _reference_with_weights_of(
        torchvision.models.vit_b_16(weights=None), extractor
    )
    with torch.inference_mode():
        expected = _vit_class_token(reference, torch.from_numpy(images)).numpy()
        # The hand-built feature is what the stock forward classifies (one
        # image is enough to check that, and halves the cost).
        logits = reference(torch.from_numpy(images[:1]))
        assert_allclose(
            reference.heads(torch.from_numpy(expected[:1])).numpy(),
            logits.numpy(),
            rtol=1e-4,
            atol=1e-5,
        )

    assert features.shape == (2, 768)
    assert features.dtype == np.float32
    # Right after a LayerNorm (weight 1, bias 0 at init): zero mean, unit
    # variance over the 768 features of each sample.
    assert_allclose(features.mean(axis=1), 0.0, atol=1e-4)
    assert_allclose(features.var(axis=1), 1.0, rtol=1e-3)
    assert_allclose(features, expected, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def bert_base_dir(tmp_path_factory):
    """A BERT-base-sized random ``BertModel`` and a tiny tokenizer, saved."""
    transformers = pytest.importorskip("transformers")
    path = tmp_path_factory.mktemp("bert_base")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (path / "vocab.txt").write_text("\n".join(vocab))
    tokenizer = transformers.BertTokenizerFast(vocab=str(path / "vocab.txt"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.BertModel(transformers.BertConfig())
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path, model.eval(), tokenizer


def _own_pooler_output(model, tokenizer, first, second=None):
    encoded = tokenizer(
        first,
        second,
        padding=True,
        truncation=True,
        max_length=128,
        return_tensors="pt",
    )
    with torch.inference_mode():
        return model(**encoded).pooler_output.numpy(), encoded


@pytest.fixture(scope="module")
def bert_extractor(bert_base_dir):
    path, _, _ = bert_base_dir
    return _paper_extractor("hf:" + str(path))


TEXTS = ["the cat sat on the mat", "a big red dog ran fast on the mat today"]
PAIRS = [
    ("the cat sat on the mat", "a cat sat"),
    ("a big red dog ran fast", "the dog sat on a big red mat"),
]


@pytest.mark.slow
def test_bert_base_features_are_its_own_pooler_output(bert_base_dir, bert_extractor):
    _, model, tokenizer = bert_base_dir
    assert model.config.hidden_size == 768 and model.config.num_hidden_layers == 12
    features = bert_extractor.fit_transform(TEXTS)
    expected, encoded = _own_pooler_output(model, tokenizer, TEXTS)

    # The batch is padded: the shorter text has masked positions.
    assert (encoded["attention_mask"] == 0).any()
    assert features.shape == (2, 768)
    assert features.dtype == np.float32
    assert bert_extractor.modality_ == "text"
    assert_allclose(features, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_bert_base_pairs_are_one_sequence_with_segment_ids(
    bert_base_dir, bert_extractor
):
    _, model, tokenizer = bert_base_dir
    features = bert_extractor.fit_transform(PAIRS)
    premises, hypotheses = zip(*PAIRS)
    expected, encoded = _own_pooler_output(
        model, tokenizer, list(premises), list(hypotheses)
    )

    # Premise and hypothesis are one sequence, told apart by segment ids.
    assert (encoded["token_type_ids"] == 1).any()
    assert features.shape == (2, 768)
    assert_allclose(features, expected, rtol=1e-4, atol=1e-5)
    # Pairs are not the premises alone.
    alone, _ = _own_pooler_output(model, tokenizer, list(premises))
    assert np.abs(features - alone).max() > 1e-3
