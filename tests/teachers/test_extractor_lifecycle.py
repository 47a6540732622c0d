"""Fitting, cloning, pickling, devices, precision, workers and progress."""

import copy
import functools
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from teachers_tiny_models import make_mlp

from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    clear_model_cache,
    forward_pass_count,
    reset_forward_pass_count,
)


@pytest.fixture
def X(rng):
    return rng.rand(10, 8).astype(np.float32)


def _unseeded_mlp():
    return torch.nn.Sequential(torch.nn.Linear(8, 6))  # new weights every call


def test_fit_leaves_the_users_module_untouched(X):
    net = make_mlp()
    net.train()
    before = copy.deepcopy(net.state_dict())
    extractor = TorchFeatureExtractor(net, device="cpu").fit(X)
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert extractor.model is net
    assert extractor.model_ is not net
    assert not extractor.model_.training


def test_clones_share_one_loaded_teacher(X):
    extractor = TorchFeatureExtractor("resnet18", weights=None, device="cpu")
    images = np.random.RandomState(0).rand(2, 3, 32, 32).astype(np.float32)
    first = extractor.fit(images).model_
    assert clone(extractor).fit(images).model_ is first
    assert clear_model_cache() >= 1
    assert clone(extractor).fit(images).model_ is not first


def test_features_are_float32_with_named_columns(X):
    extractor = TorchFeatureExtractor(make_mlp(), device="cpu").fit(X)
    features = extractor.transform(X.astype(np.float64))
    assert features.dtype == np.float32
    assert features.shape == (10, 16)
    names = extractor.get_feature_names_out()
    assert list(names[:2]) == ["torchfeatureextractor0", "torchfeatureextractor1"]
    frame = extractor.set_output(transform="pandas").transform(X)
    assert list(frame.columns) == list(names)


def test_forward_pass_count_counts_samples_of_every_batch(X):
    extractor = TorchFeatureExtractor(make_mlp(seed=3), device="cpu", batch_size=3)
    extractor.fit_transform(X)
    reset_forward_pass_count()
    extractor.transform(X)
    extractor.transform(X[:4])
    assert forward_pass_count() == 14
    assert reset_forward_pass_count() == 14
    assert forward_pass_count() == 0


def test_pickle_of_a_named_teacher_carries_no_weights(X):
    images = np.random.RandomState(0).rand(2, 3, 32, 32).astype(np.float32)
    extractor = TorchFeatureExtractor("resnet18", weights=None, device="cpu")
    expected = extractor.fit_transform(images)
    payload = pickle.dumps(extractor)
    assert len(payload) < 10_000  # resnet18 weights alone are 45 MB
    restored = pickle.loads(payload)
    assert restored.device_ == torch.device("cpu")
    assert_array_equal(restored.transform(images), expected)


def test_pickle_keeps_a_module_passed_in_and_a_callables_model(X):
    for model in (make_mlp(), _unseeded_mlp):
        extractor = TorchFeatureExtractor(model, device="cpu")
        expected = extractor.fit_transform(X)
        restored = pickle.loads(pickle.dumps(extractor))
        # A callable may build other weights when called again: its built
        # model travels in the pickle, on the CPU.
        assert ("_stored_model" in restored.__dict__) == (model is _unseeded_mlp)
        assert_array_equal(restored.transform(X), expected)


def test_precision_auto_is_float32_on_cpu_and_bfloat16_stays_close(X):
    extractor = TorchFeatureExtractor(make_mlp(), device="cpu").fit(X)
    assert extractor.precision_ == "float32"
    low = TorchFeatureExtractor(make_mlp(), device="cpu", precision="bfloat16")
    features = low.fit_transform(X)
    assert low.precision_ == "bfloat16"
    assert features.dtype == np.float32
    assert_allclose(features, extractor.transform(X), rtol=0.05, atol=0.05)
    assert not np.array_equal(features, extractor.transform(X))


def test_worker_processes_give_the_same_features(X):
    net = make_mlp()
    in_process = TorchFeatureExtractor(net, device="cpu", batch_size=4)
    with_workers = clone(in_process).set_params(num_workers=2)
    assert_array_equal(with_workers.fit_transform(X), in_process.fit_transform(X))


def test_progress_bar_is_shown_only_when_asked(X, capsys):
    TorchFeatureExtractor(make_mlp(), device="cpu").fit_transform(X)
    assert "Extracting features" not in capsys.readouterr().err
    TorchFeatureExtractor(make_mlp(), device="cpu", progress=True).fit_transform(X)
    assert "Extracting features" in capsys.readouterr().err


def test_a_callable_must_return_a_module(X):
    extractor = TorchFeatureExtractor(functools.partial(dict), device="cpu")
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        extractor.fit(X)


def test_model_is_not_built_before_fit():
    extractor = TorchFeatureExtractor("resnet50")
    assert not hasattr(extractor, "model_")
    assert extractor.get_params()["model"] == "resnet50"
