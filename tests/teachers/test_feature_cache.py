"""The on-disk feature cache: hits, subsets, damage, processes, GridSearchCV."""

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from teachers_tiny_models import make_mlp

from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    _inputs,
    forward_pass_count,
    reset_forward_pass_count,
)

HELPER = Path(__file__).with_name("teachers_tiny_models.py")


def _cached(cache_dir, seed=0, **params):
    params = {"device": "cpu", "batch_size": 4, "cache_dir": cache_dir, **params}
    return TorchFeatureExtractor(make_mlp(seed=seed), **params)


def _shards(cache_dir):
    """Finished shards (temporary files start with a dot)."""
    paths = Path(cache_dir).glob("*/??/*.npz")
    return sorted(p for p in paths if not p.name.startswith("."))


@pytest.fixture
def X(rng):
    return rng.rand(12, 8).astype(np.float32)


def test_a_second_transform_runs_no_forward_pass(tmp_path, X):
    extractor = _cached(tmp_path)
    reset_forward_pass_count()
    first = extractor.fit_transform(X)
    assert forward_pass_count() == len(X)
    second = extractor.transform(X)
    assert forward_pass_count() == len(X)
    assert_array_equal(first, second)
    assert len(_shards(tmp_path)) == 3  # one shard per batch of 4


def test_fit_probe_sample_is_cached_too(tmp_path, X):
    reset_forward_pass_count()
    extractor = _cached(tmp_path, seed=7).fit(X)  # a setting new to this process
    assert extractor.n_features_out_ == 16
    assert forward_pass_count() == 1
    extractor.transform(X)
    assert forward_pass_count() == len(X)


def test_a_fresh_extractor_with_an_equal_module_hits_the_cache(tmp_path, X):
    expected = _cached(tmp_path).fit_transform(X)
    reset_forward_pass_count()
    again = _cached(tmp_path).fit_transform(X)  # new module object, same weights
    assert forward_pass_count() == 0
    assert_array_equal(again, expected)
    _cached(tmp_path, seed=1).fit_transform(X)  # other weights: a miss
    assert forward_pass_count() == len(X)


def test_duplicates_in_one_call_run_once(tmp_path, X):
    reset_forward_pass_count()
    features = _cached(tmp_path).fit_transform(np.concatenate([X, X[:5]]))
    assert forward_pass_count() == len(X)
    assert_array_equal(features[len(X) :], features[:5])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(indices=st.lists(st.integers(0, 11), min_size=1, max_size=30))
def test_any_subset_order_or_repeat_of_seen_samples_loads_from_disk(
    tmp_path_factory, indices
):
    X = np.random.RandomState(0).rand(12, 8).astype(np.float32)
    cache_dir = tmp_path_factory.getbasetemp() / "property_cache"
    extractor = _cached(cache_dir)
    full = extractor.fit_transform(X)
    reset_forward_pass_count()
    assert_array_equal(extractor.transform(X[indices]), full[indices])
    assert forward_pass_count() == 0


def test_gridsearch_runs_the_teacher_once_per_distinct_sample(tmp_path, rng):
    X = rng.rand(30, 8).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    pipe = Pipeline(
        [("extract", _cached(tmp_path, batch_size=8)), ("clf", LogisticRegression())]
    )
    reset_forward_pass_count()
    search = GridSearchCV(pipe, {"clf__C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    assert forward_pass_count() == len(X)
    assert search.best_estimator_.named_steps["extract"].n_features_out_ == 16


def test_settings_that_change_features_use_separate_namespaces(tmp_path, X):
    _cached(tmp_path).fit_transform(X)
    _cached(tmp_path, layer="0").fit_transform(X)
    _cached(tmp_path, precision="bfloat16").fit_transform(X)
    metas = [json.loads(p.read_text()) for p in tmp_path.glob("*/meta.json")]
    assert len(metas) == 3
    assert sorted(m["n_features"] for m in metas) == [16, 16, 32]
    assert {m["precision"] for m in metas} == {"float32", "bfloat16"}
    assert {m["site"][0] for m in metas} == {None, "0"}


def test_a_damaged_shard_is_set_aside_and_recomputed(tmp_path, X):
    expected = _cached(tmp_path).fit_transform(X)
    shard = _shards(tmp_path)[0]
    content = dict(np.load(shard))
    content["features"] = content["features"] + 1.0  # checksum no longer fits
    with open(shard, "wb") as handle:
        np.savez(handle, **content)
    reset_forward_pass_count()
    with pytest.warns(RuntimeWarning, match="damaged"):
        again = _cached(tmp_path).fit_transform(X)
    assert_array_equal(again, expected)
    assert forward_pass_count() == 4
    assert shard.with_name(shard.name + ".damaged").exists()


def test_leftover_temporary_files_are_ignored_and_stale_ones_removed(tmp_path, X):
    expected = _cached(tmp_path).fit_transform(X)
    leftovers = []
    for shard in _shards(tmp_path):
        # What a writer killed mid-write leaves behind: a partial temp file.
        leftovers.append(shard.parent / f".tmp-killed-{shard.name}")
        leftovers[-1].write_bytes(shard.read_bytes()[:50])
    os.utime(leftovers[0], (0, 0))  # from a run that died long ago
    reset_forward_pass_count()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The MLP ends in a Linear layer: that warning is not the cache's.
        warnings.filterwarnings("ignore", "The output of module")
        again = _cached(tmp_path).fit_transform(X)
    assert_array_equal(again, expected)
    assert forward_pass_count() == 0
    assert not leftovers[0].exists()
    assert all(path.exists() for path in leftovers[1:])


def test_garbage_under_a_shard_name_is_recomputed(tmp_path, X):
    expected = _cached(tmp_path).fit_transform(X)
    for shard in _shards(tmp_path):
        shard.write_bytes(b"not a shard")
    reset_forward_pass_count()
    with pytest.warns(RuntimeWarning, match="damaged"):
        again = _cached(tmp_path).fit_transform(X)
    assert_array_equal(again, expected)
    assert forward_pass_count() == len(X)


@pytest.mark.slow  # starts writer processes
def test_processes_writing_one_cache_at_once_agree(tmp_path, rng, monkeypatch):
    X = rng.rand(40, 8).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    cache_dir = tmp_path / "cache"
    command = [sys.executable, str(HELPER), str(cache_dir), str(tmp_path / "X.npy")]
    worker = subprocess.Popen([*command, "4", "0.2"])
    try:
        deadline = time.monotonic() + 120
        while not _shards(cache_dir) and worker.poll() is None:
            assert time.monotonic() < deadline, "the worker wrote no shard"
            time.sleep(0.02)
        # This process now writes into the same cache while the worker does,
        # slowed down batch by batch (a hook would make the model's identity
        # unknown, and its features uncached).
        build = _inputs.TensorBatchBuilder.__call__

        def slow_build(self, samples, sel):
            time.sleep(0.05)
            return build(self, samples, sel)

        monkeypatch.setattr(_inputs.TensorBatchBuilder, "__call__", slow_build)
        here = TorchFeatureExtractor(
            make_mlp(), device="cpu", batch_size=4, cache_dir=cache_dir
        ).fit_transform(X)
    finally:
        assert worker.wait(timeout=120) == 0
    reset_forward_pass_count()
    loaded = _cached(cache_dir).fit_transform(X)
    assert forward_pass_count() == 0
    expected = _cached(None).fit_transform(X)
    assert_array_equal(loaded, expected)
    assert_array_equal(here, expected)
    assert not list(cache_dir.glob("*/??/.tmp-*"))
