"""Text teachers: BERT's pooler output, mask-aware pooling, pairs, truncation."""

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_subspace.teachers import TorchFeatureExtractor

transformers = pytest.importorskip("transformers")

TEXTS = ["the cat sat", "a big red dog ran fast", "the mat", "cat on the mat"]


@pytest.fixture(scope="module")
def bert(tiny_bert_dir):
    model = transformers.AutoModel.from_pretrained(tiny_bert_dir).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert_dir)
    return model, tokenizer


def _reference(bert, first, second=None, **kwargs):
    model, tokenizer = bert
    with torch.inference_mode():
        encoded = tokenizer(first, second, padding=True, return_tensors="pt", **kwargs)
        return model(**encoded), encoded["attention_mask"]


def _extractor(tiny_bert_dir, **params):
    return TorchFeatureExtractor(f"hf:{tiny_bert_dir}", device="cpu", **params)


def test_bert_features_are_the_pooler_output(tiny_bert_dir, bert):
    features = _extractor(tiny_bert_dir).fit_transform(TEXTS)
    output, _ = _reference(bert, TEXTS)
    assert features.shape == (4, 32)
    assert features.dtype == np.float32
    assert_allclose(features, output.pooler_output.numpy(), rtol=1e-5, atol=1e-6)


def test_mean_pooling_averages_only_real_tokens(tiny_bert_dir, bert):
    features = _extractor(tiny_bert_dir, pooling="mean").fit_transform(TEXTS)
    output, mask = _reference(bert, TEXTS)
    mask = mask[..., None].float()
    expected = (output.last_hidden_state * mask).sum(1) / mask.sum(1)
    assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)
    # Padding to a longer neighbour in the batch does not change a text's row.
    alone = _extractor(tiny_bert_dir, pooling="mean").fit_transform(TEXTS[2:3])
    assert_allclose(alone[0], features[2], rtol=1e-5, atol=1e-6)


def test_cls_and_max_pooling_read_the_last_hidden_state(tiny_bert_dir, bert):
    output, mask = _reference(bert, TEXTS)
    hidden = output.last_hidden_state
    cls = _extractor(tiny_bert_dir, pooling="cls").fit_transform(TEXTS)
    assert_allclose(cls, hidden[:, 0].numpy(), rtol=1e-5, atol=1e-6)
    masked = hidden.masked_fill(mask[..., None] == 0, -torch.inf)
    top = _extractor(tiny_bert_dir, pooling="max").fit_transform(TEXTS)
    assert_allclose(top, masked.amax(1).numpy(), rtol=1e-5, atol=1e-6)


def test_text_pairs_are_encoded_as_one_sequence(tiny_bert_dir, bert):
    pairs = [("the cat sat", "on the mat"), ("a dog", "ran fast")]
    features = _extractor(tiny_bert_dir).fit_transform(pairs)
    output, _ = _reference(bert, [a for a, _ in pairs], [b for _, b in pairs])
    assert features.shape == (2, 32)
    assert_allclose(features, output.pooler_output.numpy(), rtol=1e-5, atol=1e-6)
    premises_only = _extractor(tiny_bert_dir).fit_transform([a for a, _ in pairs])
    assert not np.allclose(features, premises_only)


def test_pairs_from_a_dataframe_or_array_match_a_list(tiny_bert_dir):
    pairs = [("the cat sat", "on the mat"), ("a dog", "ran fast")]
    extractor = _extractor(tiny_bert_dir).fit(pairs)
    from_list = extractor.transform(pairs)
    frame = pd.DataFrame(pairs, columns=["premise", "hypothesis"])
    assert_allclose(extractor.transform(frame), from_list, rtol=1e-6)
    assert_allclose(extractor.transform(np.array(pairs)), from_list, rtol=1e-6)
    assert_allclose(
        extractor.transform(pd.Series(TEXTS)),
        extractor.transform(TEXTS),
        rtol=1e-6,
    )


def test_max_length_truncates_the_token_sequence(tiny_bert_dir):
    # Same first two words, different tails: 4 tokens = [CLS] w1 w2 [SEP].
    texts = ["the cat sat on the mat", "the cat ran fast"]
    short = _extractor(tiny_bert_dir, max_length=4).fit_transform(texts)
    full = _extractor(tiny_bert_dir).fit_transform(texts)
    assert_allclose(short[0], short[1], rtol=1e-6)
    assert not np.allclose(full[0], full[1])


def test_layer_selects_a_hidden_layer(tiny_bert_dir, bert):
    features = _extractor(tiny_bert_dir, layer="encoder.layer.0").fit_transform(TEXTS)
    model, tokenizer = bert
    with torch.inference_mode():
        encoded = tokenizer(TEXTS, padding=True, return_tensors="pt")
        hidden = model(**encoded, output_hidden_states=True).hidden_states[1]
    assert_allclose(features, hidden[:, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_a_pretrained_model_instance_finds_its_saved_tokenizer(tiny_bert_dir, bert):
    model, _ = bert
    extractor = TorchFeatureExtractor(model, device="cpu")
    features = extractor.fit_transform(TEXTS)
    assert extractor.modality_ == "text"
    by_path = _extractor(tiny_bert_dir).fit_transform(TEXTS)
    assert_allclose(features, by_path, rtol=1e-5, atol=1e-6)


def test_a_model_instance_without_tokenizer_says_how_to_save_one(bert):
    model, _ = bert
    orphan = transformers.BertModel(model.config)
    orphan.name_or_path = orphan.config.name_or_path = ""  # saved nowhere
    with pytest.raises(ValueError, match="No tokenizer was found.*save_pretrained"):
        TorchFeatureExtractor(orphan, device="cpu").fit(TEXTS)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (["the cat", None], TypeError, "X\\[1\\] is NoneType"),
        (["the cat", ("a", "b")], TypeError, "mixes single texts and text pairs"),
        (pd.DataFrame({"a": ["x"], "b": ["y"], "c": ["z"]}), ValueError, "1 column"),
        (np.array([["a", "b", "c"]]), ValueError, "2 columns"),
        ("the cat", TypeError, "Wrap it in a list"),
        ([], ValueError, "X is empty"),
    ],
)
def test_bad_text_inputs_raise_an_error_naming_the_fix(tiny_bert_dir, X, error, match):
    extractor = _extractor(tiny_bert_dir).fit(TEXTS)
    with pytest.raises(error, match=match):
        extractor.transform(X)
