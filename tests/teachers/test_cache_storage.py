"""The feature cache's storages: exact, compressed and float16 shards."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from teachers_tiny_models import make_mlp

from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    forward_pass_count,
    reset_forward_pass_count,
)


def _extractor(cache_dir, storage, model=None):
    return TorchFeatureExtractor(
        make_mlp(seed=0) if model is None else model,
        device="cpu",
        batch_size=4,
        cache_dir=cache_dir,
        cache_storage=storage,
    )


def _shard_bytes(cache_dir):
    return sum(
        p.stat().st_size
        for p in cache_dir.glob("*/??/*.npz")
        if not p.name.startswith(".")
    )


@pytest.fixture
def X(rng):
    return rng.rand(12, 8).astype(np.float32)


@pytest.mark.parametrize("storage", ["float32", "compressed", "float16"])
def test_a_hit_returns_what_the_computation_returns(tmp_path, X, storage):
    computed = _extractor(tmp_path, storage).fit_transform(X)
    reset_forward_pass_count()
    cached = _extractor(tmp_path, storage).fit_transform(X)
    assert forward_pass_count() == 0
    assert cached.dtype == np.float32
    assert_array_equal(cached, computed)
    # Without a cache the extractor returns the same values too.
    uncached = _extractor(None, storage).fit_transform(X)
    assert_array_equal(uncached, computed)


def test_compressed_shards_hold_the_exact_features_and_share_the_namespace(tmp_path, X):
    exact = _extractor(None, "float32").fit_transform(X)
    _extractor(tmp_path, "compressed").fit_transform(X)
    reset_forward_pass_count()
    # An exact extractor reads the compressed shards: same values.
    assert_array_equal(_extractor(tmp_path, "float32").fit_transform(X), exact)
    assert forward_pass_count() == 0


def test_float16_is_rounded_and_kept_apart_from_exact_features(tmp_path, X):
    exact = _extractor(tmp_path, "float32").fit_transform(X)
    reset_forward_pass_count()
    rounded = _extractor(tmp_path, "float16").fit_transform(X)
    assert forward_pass_count() == len(X)  # its own namespace: a miss
    assert_array_equal(rounded, exact.astype(np.float16).astype(np.float32))
    assert not np.array_equal(rounded, exact)
    reset_forward_pass_count()
    # And the exact features are still exact after the float16 run.
    assert_array_equal(_extractor(tmp_path, "float32").fit_transform(X), exact)
    assert forward_pass_count() == 0


def test_compact_storages_take_less_disk_for_sparse_features(tmp_path, rng):
    import torch

    # Post-ReLU features: most values are zero, as in a CNN's penultimate layer.
    model = torch.nn.Sequential(torch.nn.Linear(8, 512), torch.nn.ReLU())
    torch.nn.init.normal_(model[0].bias, mean=-2.0)
    X = rng.rand(64, 8).astype(np.float32)
    sizes = {}
    for storage in ("float32", "compressed", "float16"):
        folder = tmp_path / storage
        _extractor(folder, storage, model).fit_transform(X)
        sizes[storage] = _shard_bytes(folder)
    assert sizes["compressed"] < sizes["float32"] / 2
    assert sizes["float16"] < sizes["compressed"]


def test_float16_overflow_names_the_fix(X):
    import torch

    model = torch.nn.Linear(8, 4)
    with torch.no_grad():
        model.weight.fill_(1e5)
    with pytest.raises(ValueError, match="cache_storage='compressed'"):
        _extractor(None, "float16", model).fit_transform(X)


def test_unknown_storage_is_refused(X):
    with pytest.raises(ValueError, match="cache_storage"):
        _extractor(None, "bfloat16").fit(X)


@pytest.mark.parametrize("storage", ["compressed", "float16"])
def test_compact_shards_are_deflated_npz_files_numpy_reads(tmp_path, X, storage):
    import zipfile

    features = _extractor(tmp_path, storage).fit_transform(X)
    shards = [p for p in tmp_path.glob("*/??/*.npz") if not p.name.startswith(".")]
    assert shards
    stored = []
    for shard in shards:
        with zipfile.ZipFile(shard) as archive:
            assert {info.compress_type for info in archive.infolist()} == {
                zipfile.ZIP_DEFLATED
            }
        with np.load(shard) as npz:
            assert set(npz.files) == {"keys", "features", "checksum", "version"}
            stored.append(npz["features"])
    dtype = np.float16 if storage == "float16" else np.float32
    assert {a.dtype for a in stored} == {np.dtype(dtype)}
    # Shards split the rows into batches; together they hold every row once.
    rows = np.concatenate(stored).astype(np.float32)
    assert sorted(map(bytes, rows)) == sorted(map(bytes, features))
