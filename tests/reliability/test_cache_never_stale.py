"""The feature cache never returns features other than the teacher's own now.

Models that differ only where the old cache key was blind -- an attribute, a
hook, a redefined builder, a batch neighbour -- share one cache folder, in
any order; every extraction must equal a direct forward pass of its model.
"""

import sys
import types
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from teachers_tiny_models import make_mlp
from torch import nn

from sklearn_subspace.teachers import TorchFeatureExtractor


class Scaled(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.net = make_mlp()
        self.scale = scale

    def forward(self, x):
        return torch.tanh(self.net(x)) * self.scale


def _hooked(factor):
    net = Scaled(1.0)
    net.register_forward_hook(lambda _m, _i, output: output * factor)
    return net


def _builder(width):
    """A builder named ``user_models.build`` whatever its code."""
    module = types.ModuleType("user_models")
    module.make_mlp = make_mlp
    exec(f"def build():\n    return make_mlp(n_out={width})\n", module.__dict__)
    sys.modules["user_models"] = module
    return module.build


VARIANTS = {
    "scale 1": lambda: Scaled(1.0),
    "scale 100": lambda: Scaled(100.0),
    "hook x2": lambda: _hooked(2.0),
    "hook x-1": lambda: _hooked(-1.0),
    "builder 16": lambda: _builder(16),
    "builder 5": lambda: _builder(5),
}


def _reference(model, X):
    module = model() if not isinstance(model, nn.Module) else model
    with torch.no_grad():
        return module.eval()(torch.from_numpy(X)).numpy()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(order=st.permutations(sorted(VARIANTS)))
def test_models_sharing_a_cache_folder_in_any_order_get_their_own_features(
    tmp_path_factory, order
):
    cache_dir = tmp_path_factory.mktemp("shared-cache")
    X = np.random.RandomState(0).rand(9, 8).astype(np.float32)
    try:
        for name in order:
            model = VARIANTS[name]()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # hooks: not cached
                features = TorchFeatureExtractor(
                    model, device="cpu", batch_size=4, cache_dir=cache_dir
                ).fit_transform(X)
            expected = _reference(model, X)
            # Batches of 4 and of 9 sum in different orders: float32 rounding
            # is relative to the largest feature, not to each one. Another
            # variant's features differ by a factor of 2 or more.
            assert_allclose(
                features,
                expected,
                rtol=1e-6,
                atol=1e-6 * np.abs(expected).max(),
                err_msg=name,
            )
    finally:
        sys.modules.pop("user_models", None)


@pytest.mark.parametrize("pooling", ["auto", "cls", "mean", "avg", "max"])
def test_a_texts_cached_features_do_not_depend_on_its_first_batch(tmp_path, pooling):
    pytest.importorskip("transformers")
    from bad_input_cases import save_tiny_bert

    (tmp_path / "bert").mkdir()
    bert_dir = save_tiny_bert(tmp_path / "bert")
    short, long = "the cat", " ".join(["the dog cat"] * 8)

    def extract(texts, cache_dir):
        return TorchFeatureExtractor(
            f"hf:{bert_dir}", pooling=pooling, device="cpu", cache_dir=cache_dir
        ).fit_transform(texts)

    # First computed next to a long text, then read back alone from the cache.
    extract([long, short], tmp_path / "cache")
    cached = extract([short], tmp_path / "cache")
    fresh = extract([short], None)
    assert cached.shape == (1, 16)
    assert_allclose(cached, fresh, rtol=1e-5, atol=1e-5)
