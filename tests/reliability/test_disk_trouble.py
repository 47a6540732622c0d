"""A cache that cannot be written or read never costs the features."""

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from reliability_utils import subprocess_env

from sklearn_subspace.teachers import TorchFeatureExtractor, _cache

X = np.random.RandomState(0).rand(40, 8).astype(np.float32)


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh())


def _extract(cache_dir=None):
    return TorchFeatureExtractor(
        _net(), device="cpu", cache_dir=cache_dir, batch_size=10
    ).fit_transform(X)


def _files(folder):
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EROFS, "Read-only file system"),
        PermissionError(errno.EACCES, "Permission denied"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["read-only", "permission", "disk-full"],
)
def test_an_unwritable_cache_warns_once_and_returns_the_features(
    tmp_path, monkeypatch, error
):
    expected = _extract()

    def failing_write(path, write, **kwargs):
        raise error

    monkeypatch.setattr(_cache, "atomic_write", failing_write)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = _extract(tmp_path)
    assert_array_equal(features, expected)
    messages = [str(w.message) for w in caught if "cannot be written" in str(w.message)]
    assert len(messages) == 1  # four shards, one warning
    assert error.strerror in messages[0]
    assert _files(tmp_path) == []


_DISK_FULL = textwrap.dedent(
    """
    import json, os, resource, signal, sys, warnings
    import numpy as np, torch
    from sklearn_subspace.teachers import TorchFeatureExtractor

    cache = sys.argv[1]
    X = np.random.RandomState(0).rand(400, 64).astype(np.float32)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.Tanh())
    def extract(cache_dir):
        return TorchFeatureExtractor(
            net, device="cpu", cache_dir=cache_dir, batch_size=100
        ).fit_transform(X)
    expected = extract(None)
    # A full disk: writing past 20 kB fails with EFBIG (SIGXFSZ ignored).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = extract(cache)
    print(json.dumps({
        "equal": bool(np.array_equal(features, expected)),
        "warnings": [str(w.message) for w in caught],
    }))
    """
)


@pytest.mark.slow  # runs an interpreter on a full disk
def test_a_full_disk_leaves_no_partial_file_and_returns_the_features(tmp_path):
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(cache)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["equal"]
    written = [m for m in report["warnings"] if "cannot be written" in m]
    assert len(written) == 1 and "File too large" in written[0]
    leftovers = [name for name in _files(cache) if not name.endswith(".npz")]
    # Shards (100 x 256 float32 = 100 kB each) cannot fit: none, and no temp.
    assert _files(cache) == [] or leftovers == []
    assert not any(name.endswith(".npz") for name in _files(cache))


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EIO, "Input/output error"),
        OSError(errno.EMFILE, "Too many open files"),
        MemoryError(),
    ],
    ids=["EIO", "EMFILE", "MemoryError"],
)
def test_a_transient_read_error_recomputes_and_keeps_the_shards(
    tmp_path, monkeypatch, error
):
    expected = _extract(tmp_path)
    shards = _files(tmp_path)
    _cache._INDEXES.clear()  # a new process: the shards are read again
    real_load = np.load

    def flaky_load(path, *args, **kwargs):
        if str(path).endswith(".npz"):
            raise error
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(_cache.np, "load", flaky_load)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        features = _extract(tmp_path)
    monkeypatch.undo()
    assert_array_equal(features, expected)
    assert _files(tmp_path) == shards  # nothing renamed to .damaged
    _cache._INDEXES.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kept shards are valid
        assert_array_equal(_extract(tmp_path), expected)


def test_only_a_failed_checksum_sets_a_shard_aside(tmp_path):
    expected = _extract(tmp_path)
    shard = next(tmp_path.rglob("*.npz"))
    with np.load(shard) as content:
        arrays = dict(content)
    arrays["features"] = arrays["features"] + 1.0  # valid file, wrong content
    with open(shard, "wb") as handle:
        np.savez(handle, **arrays)
    _cache._INDEXES.clear()
    with pytest.warns(RuntimeWarning, match="checksum"):
        assert_array_equal(_extract(tmp_path), expected)
    assert (shard.parent / (shard.name + ".damaged")).exists()


def test_leftover_damaged_and_temporary_files_are_removed_by_age(tmp_path):
    _extract(tmp_path)
    folder = next(tmp_path.rglob("*.npz")).parent
    old = time.time() - 8 * 24 * 3600
    files = {
        "old.npz.damaged": old,
        "new.npz.damaged": time.time(),
        ".old.npz.123.tmp": time.time() - 2 * 3600,
        ".new.npz.456.tmp": time.time(),
    }
    for name, mtime in files.items():
        (folder / name).write_bytes(b"x")
        os.utime(folder / name, (mtime, mtime))
    _cache._INDEXES.clear()
    _extract(tmp_path)
    assert not (folder / "old.npz.damaged").exists()
    assert not (folder / ".old.npz.123.tmp").exists()
    assert (folder / "new.npz.damaged").exists()
    assert (folder / ".new.npz.456.tmp").exists()
