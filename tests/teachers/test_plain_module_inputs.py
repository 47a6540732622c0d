"""A plain module gets uint8 arrays scaled to [0, 1], as ``preprocess`` says."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from torch import nn

from sklearn_subspace.teachers import TorchFeatureExtractor


@pytest.mark.parametrize("preprocess", ["auto", "always", "never"])
def test_uint8_arrays_reach_a_plain_module_scaled_to_unit_range(rng, preprocess):
    images = rng.randint(0, 256, size=(5, 3, 4, 4)).astype(np.uint8)
    extractor = TorchFeatureExtractor(nn.Flatten(), device="cpu", preprocess=preprocess)
    features = extractor.fit_transform(images)
    assert features.dtype == np.float32
    assert_allclose(features, images.reshape(5, -1) / 255.0, rtol=1e-6)
    assert features.max() <= 1.0


def test_float_arrays_reach_a_plain_module_unchanged(rng):
    values = (255 * rng.rand(5, 6)).astype(np.float64)
    features = TorchFeatureExtractor(nn.Flatten(), device="cpu").fit_transform(values)
    assert features.dtype == np.float32
    assert_allclose(features, values, rtol=1e-6)
    assert features.max() > 1.0


def test_uint8_and_the_same_pixels_in_float_share_no_cache_entry(rng, tmp_path):
    images = rng.randint(0, 256, size=(4, 6)).astype(np.uint8)
    extractor = TorchFeatureExtractor(nn.Flatten(), device="cpu", cache_dir=tmp_path)
    scaled = extractor.fit_transform(images)
    raw = extractor.transform(images.astype(np.float32))
    assert_allclose(raw, 255.0 * scaled, rtol=1e-6)
