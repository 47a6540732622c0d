"""A text gets the same features whatever batch it is in, for every pooling.

Texts in one batch are padded to the longest; pooling must leave the padding
out, or a short text's features (and the cache entry they fill) would depend
on its neighbours.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sklearn_subspace.teachers import TorchFeatureExtractor
from sklearn_subspace.teachers._pooling import POOLING_OPTIONS

pytest.importorskip("transformers")

# Words of the tiny BERT's vocabulary (see conftest.tiny_bert_dir).
WORDS = ["the", "cat", "dog", "sat", "on", "mat", "a", "big", "red", "ran", "fast"]
SHORT = "the cat"
LONG = " ".join(["a big red dog ran fast on the mat"] * 5)


def _features(tiny_bert_dir, texts, **params):
    extractor = TorchFeatureExtractor(f"hf:{tiny_bert_dir}", device="cpu", **params)
    return extractor.fit_transform(texts)


@pytest.mark.parametrize("layer", [None, "encoder.layer.0"])
@pytest.mark.parametrize("pooling", POOLING_OPTIONS)
def test_a_text_alone_and_in_a_padded_batch_get_the_same_features(
    tiny_bert_dir, pooling, layer
):
    alone = _features(tiny_bert_dir, [SHORT], pooling=pooling, layer=layer)
    batched = _features(tiny_bert_dir, [LONG, SHORT], pooling=pooling, layer=layer)
    assert alone.shape == (1, 32)
    assert_allclose(batched[1], alone[0], rtol=1e-5, atol=1e-5)
    # The long text really changes the batch: it is not the short one.
    assert not np.allclose(batched[0], alone[0], atol=1e-3)


def test_avg_and_mean_agree_on_text(tiny_bert_dir):
    texts = [SHORT, LONG]
    avg = _features(tiny_bert_dir, texts, pooling="avg")
    mean = _features(tiny_bert_dir, texts, pooling="mean")
    assert_allclose(avg, mean, rtol=1e-6, atol=1e-7)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
    padding=st.integers(min_value=1, max_value=30),
    pooling=st.sampled_from(POOLING_OPTIONS),
)
def test_batch_neighbours_never_change_a_texts_features(
    tiny_bert_dir, words, padding, pooling
):
    text = " ".join(words)
    neighbour = " ".join(WORDS[i % len(WORDS)] for i in range(len(words) + padding))
    alone = _features(tiny_bert_dir, [text], pooling=pooling)
    batched = _features(tiny_bert_dir, [neighbour, text], pooling=pooling)
    assert_allclose(batched[1], alone[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pooling", POOLING_OPTIONS)
def test_a_layer_shared_by_the_whole_batch_is_refused_before_caching(
    tiny_bert_dir, tmp_path, pooling
):
    # BERT's position embeddings are one (1, tokens, d) tensor for the batch:
    # pooled, they would be one row for two texts, or the same row for each.
    extractor = TorchFeatureExtractor(
        f"hf:{tiny_bert_dir}",
        device="cpu",
        layer="embeddings.position_embeddings",
        pooling=pooling,
        cache_dir=tmp_path,
    )
    with pytest.raises(
        ValueError,
        match=r"output of embeddings\.position_embeddings .* has 1 row\(s\) for a "
        r"batch of 2 samples.*Pick a layer with one output per sample",
    ):
        extractor.fit_transform([SHORT, LONG])
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
