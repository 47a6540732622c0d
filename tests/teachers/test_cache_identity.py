"""The feature cache key holds everything that determines the features.

A module's attributes, its hooks and its code, the code of a model-building
callable, the library versions and the numerics settings all change the key;
what cannot be identified is computed afresh, with a warning, never cached.
That a key is the same in another process and under another hash seed is
checked in the fresh interpreters of ``reliability/test_determinism.py``.
"""

import copy
import enum
import functools
import json
import sys
import types
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from teachers_tiny_models import make_mlp
from torch import nn

from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    _identity,
    forward_pass_count,
    reset_forward_pass_count,
)
from sklearn_subspace.teachers._identity import (
    UnidentifiedError,
    callable_fingerprint,
    module_fingerprint,
    object_description,
)


class Scaled(nn.Module):
    """A linear map whose output is multiplied by a plain attribute."""

    def __init__(self, scale):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.linear = nn.Linear(8, 4)
        with torch.no_grad():
            for param in self.linear.parameters():
                param.copy_(torch.randn(param.shape, generator=generator))
        self.scale = scale

    def forward(self, x):
        return torch.tanh(self.linear(x)) * self.scale


def _extract(model, X, **params):
    params = {"device": "cpu", "batch_size": 4, **params}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The output of module")
        return TorchFeatureExtractor(model, **params).fit_transform(X)


def _meta(cache_dir):
    return [json.loads(p.read_text()) for p in Path(cache_dir).glob("*/meta.json")]


def _shards(cache_dir):
    return sorted(Path(cache_dir).glob("*/??/[!.]*.npz"))


def _backend(path):
    module = torch.backends
    for part in path.split("."):
        module = getattr(module, part, None)
    return module


@pytest.fixture
def restore_numerics():
    """Put torch's float settings back: setting one flag moves others."""
    backends = [
        backend
        for name in _identity._FP32_PRECISION_BACKENDS
        if isinstance(getattr(backend := _backend(name), "fp32_precision", None), str)
    ]
    matmul_precision = torch.get_float32_matmul_precision()
    saved = [backend.fp32_precision for backend in backends]
    yield
    torch.set_float32_matmul_precision(matmul_precision)
    for backend, value in zip(backends, saved):
        backend.fp32_precision = value


@pytest.fixture
def X(rng):
    return rng.rand(10, 8).astype(np.float32)


@pytest.mark.parametrize("use_cache", [False, True])
def test_a_plain_attribute_used_by_forward_changes_the_features(tmp_path, X, use_cache):
    cache_dir = tmp_path if use_cache else None
    small = _extract(Scaled(1.0), X, cache_dir=cache_dir)
    large = _extract(Scaled(100.0), X, cache_dir=cache_dir)
    assert_allclose(large, 100.0 * small, rtol=1e-5)
    assert module_fingerprint(Scaled(1.0)) != module_fingerprint(Scaled(100.0))
    assert module_fingerprint(Scaled(1.0)) == module_fingerprint(Scaled(1.0))


def test_a_forward_hook_is_never_served_the_unhooked_features(tmp_path, X):
    plain = _extract(make_mlp(), X, cache_dir=tmp_path)
    hooked = make_mlp()
    hooked.register_forward_hook(lambda _m, _i, output: 2.0 * output)
    with pytest.warns(UserWarning, match="not cached: .*hooks"):
        doubled = _extract(hooked, X, cache_dir=tmp_path)
    assert_allclose(doubled, 2.0 * plain, rtol=1e-6)
    # Without a cache the in-process teacher is not shared either.
    assert_allclose(_extract(hooked, X), 2.0 * plain, rtol=1e-6)
    assert len(_meta(tmp_path)) == 1  # only the plain network was cached


def test_a_hook_on_a_submodule_makes_the_identity_unknown():
    net = make_mlp()
    handle = net[1].register_forward_pre_hook(lambda _m, args: args)
    with pytest.raises(UnidentifiedError, match=r"model\.1 \(ReLU\) carries hooks"):
        module_fingerprint(net)
    handle.remove()
    assert module_fingerprint(net) == module_fingerprint(make_mlp())


def _define(source, monkeypatch):
    """Define ``build`` in an importable module, as a user's file would."""
    module = types.ModuleType("user_models")
    module.make_mlp = make_mlp
    exec(source, module.__dict__)
    monkeypatch.setitem(sys.modules, "user_models", module)
    return module.build


def test_a_redefined_callable_with_the_same_name_builds_its_own_teacher(monkeypatch, X):
    first = _define("def build():\n    return make_mlp(n_out=16)\n", monkeypatch)
    second = _define("def build():\n    return make_mlp(n_out=5)\n", monkeypatch)
    assert first.__qualname__ == second.__qualname__
    assert callable_fingerprint(first) != callable_fingerprint(second)
    assert _extract(first, X).shape == (10, 16)
    extractor = TorchFeatureExtractor(second, device="cpu").fit(X)
    assert extractor.n_features_out_ == 5
    assert extractor.transform(X).shape == (10, 5)


def test_a_callable_is_keyed_by_the_values_it_reads(monkeypatch):
    source = "WIDTH = {}\ndef build():\n    return make_mlp(n_out=WIDTH)\n"
    narrow = _define(source.format(5), monkeypatch)
    wide = _define(source.format(6), monkeypatch)
    again = _define(source.format(5), monkeypatch)
    assert callable_fingerprint(narrow) != callable_fingerprint(wide)
    assert callable_fingerprint(narrow) == callable_fingerprint(again)


def test_a_redefined_class_with_the_same_name_gets_another_fingerprint(monkeypatch):
    template = (
        "import torch\n"
        "class Net(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return x {} 1\n"
        "def build():\n    return Net()\n"
    )
    plus = _define(template.format("+"), monkeypatch)()
    minus = _define(template.format("-"), monkeypatch)()
    assert type(plus).__qualname__ == type(minus).__qualname__
    assert module_fingerprint(plus) != module_fingerprint(minus)


def test_a_library_version_change_is_a_cache_miss(tmp_path, X, monkeypatch):
    first = _extract(make_mlp(), X, cache_dir=tmp_path)
    (meta,) = _meta(tmp_path)
    assert meta["versions"]["torch"] == torch.__version__.split("+")[0]
    assert {"python", "sklearn_subspace", "torchvision"} <= meta["versions"].keys()

    real = _identity._distribution_version
    monkeypatch.setattr(
        _identity,
        "_distribution_version",
        lambda name: "999.0" if name == "torch" else real(name),
    )
    reset_forward_pass_count()
    again = _extract(make_mlp(), X, cache_dir=tmp_path)
    assert forward_pass_count() == len(X)  # nothing served from the old entry
    assert_array_equal(again, first)
    versions = {m["versions"]["torch"] for m in _meta(tmp_path)}
    assert versions == {meta["versions"]["torch"], "999.0"}


def test_numerics_settings_are_part_of_the_key(tmp_path, X, restore_numerics):
    _extract(make_mlp(), X, cache_dir=tmp_path)
    (meta,) = _meta(tmp_path)
    assert meta["numerics"]["device"] == "cpu"
    assert meta["numerics"]["float32_matmul_precision"] == "highest"
    torch.set_float32_matmul_precision("medium")
    reset_forward_pass_count()
    _extract(make_mlp(), X, cache_dir=tmp_path)
    assert forward_pass_count() == len(X)
    settings = sorted(
        m["numerics"]["float32_matmul_precision"] for m in _meta(tmp_path)
    )
    assert settings == ["highest", "medium"]


def test_a_transform_setting_missing_from_its_repr_changes_the_key():
    from torchvision.transforms._presets import ImageClassification

    smooth = ImageClassification(crop_size=224, antialias=True)
    sharp = ImageClassification(crop_size=224, antialias=False)
    assert repr(smooth) == repr(sharp)  # why repr alone is not enough
    described = object_description(smooth)
    assert described["attributes"]["antialias"] is True
    assert described["digest"] != object_description(sharp)["digest"]


class StaysInTraining(nn.Module):
    """Dropout that keeps sampling after eval(): not deterministic."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 4)
        self.dropout = nn.Dropout(0.5)

    def train(self, mode=True):
        super().train(mode)
        self.dropout.train(True)
        return self

    def forward(self, x):
        return self.dropout(self.linear(x))


class HoldsAWeakReference(Scaled):
    """forward could read anything through the reference: no fingerprint."""

    def __init__(self):
        super().__init__(1.0)
        self.owner = weakref.ref(Scaled)


@pytest.mark.parametrize(
    "build, reason",
    [
        (StaysInTraining, "'dropout' stays in training mode"),
        (HoldsAWeakReference, r"model\.owner is a ReferenceType, whose state"),
    ],
)
def test_a_model_that_cannot_be_identified_is_run_without_the_cache(
    tmp_path, X, build, reason
):
    with pytest.warns(UserWarning, match=f"not cached: .*{reason}"):
        features = _extract(build(), X, cache_dir=tmp_path)
    assert features.shape == (10, 4)
    assert not _shards(tmp_path) and not _meta(tmp_path)


def test_cuda_tf32_switches_split_the_key_from_each_other_and_from_the_cpu(
    monkeypatch, restore_numerics
):
    # Runs without a GPU: only the device queries are simulated.
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda _d: (9, 0))
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91000)
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    matmul = torch.backends.cuda.matmul
    matmul.allow_tf32 = False
    strict = _identity.numerics_description(cuda, "float32")
    matmul.allow_tf32 = True
    tf32 = _identity.numerics_description(cuda, "float32")
    assert strict["matmul_allow_tf32"] is False and tf32["matmul_allow_tf32"] is True
    assert strict["capability"] == [9, 0]
    assert "cudnn_allow_tf32" in strict
    on_cpu = _identity.numerics_description(cpu, "float32")
    assert on_cpu["device"] == "cpu" and "matmul_allow_tf32" not in on_cpu
    digests = {_identity.digest_json(d) for d in (strict, tf32, on_cpu)}
    assert len(digests) == 3


class Holder(nn.Module):
    """A module whose forward could depend on any attribute value."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return x


class Mode(enum.Enum):
    FAST = "fast"
    EXACT = "exact"


@pytest.mark.parametrize(
    "make_a, make_b",
    [
        (lambda: Mode.FAST, lambda: Mode.EXACT),
        (
            lambda: functools.partial(torch.add, alpha=1),
            lambda: functools.partial(torch.add, alpha=2),
        ),
        (lambda: np.zeros(3), lambda: np.ones(3)),
        (lambda: np.zeros(3, np.float32), lambda: np.zeros(3, np.float64)),
        (lambda: torch.zeros(2), lambda: torch.ones(2)),
        (lambda: [1, 2], lambda: (1, 2)),
        (lambda: 0.0, lambda: -0.0),
        (lambda: 1, lambda: True),
        (lambda: {"a": 1}, lambda: {"a": 1.0}),
        (lambda: {"a", "b"}, lambda: {"a", "c"}),
    ],
)
def test_attribute_values_of_every_kind_enter_the_fingerprint(make_a, make_b):
    first = module_fingerprint(Holder(make_a()))
    assert first == module_fingerprint(Holder(make_a()))  # equal values agree
    assert first != module_fingerprint(Holder(make_b()))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(first=json_values, second=json_values)
def test_fingerprints_agree_exactly_when_attribute_values_are_equal(first, second):
    digest = module_fingerprint(Holder(first))
    assert digest == module_fingerprint(Holder(copy.deepcopy(first)))
    if first != second:
        assert digest != module_fingerprint(Holder(second))
