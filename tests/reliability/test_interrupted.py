"""Work interrupted by SIGKILL is never lost, and never read back corrupt.

A cached feature extraction and a checkpointed compression study are killed
mid-way in a child process; a rerun computes only what is missing (forward
passes and fitted configurations are counted) and ends with exactly the
result of an uninterrupted run. Shards that are damaged on disk, truncated
or with flipped bits, are detected and recomputed, never used.
"""

import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal
from reliability_utils import TEACHERS_TESTS, subprocess_env
from sklearn.datasets import make_classification
from study_kill_worker import N_CONFIGS, STUDY, head, load
from teachers_tiny_models import make_mlp

from sklearn_subspace.study import _study, compression_study
from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    forward_pass_count,
    reset_forward_pass_count,
)

# Every test kills a worker interpreter: slow.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL"),
]

HERE = Path(__file__).resolve().parent
BATCH = 4


def _kill_when(worker, ready, what, limit=120):
    """SIGKILL ``worker`` as soon as ``ready()`` holds."""
    try:
        deadline = time.monotonic() + limit
        while not ready():
            assert worker.poll() is None, f"the worker ended before {what}"
            assert time.monotonic() < deadline, f"the worker never got to {what}"
            time.sleep(0.01)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL


# -- feature extraction ----------------------------------------------------------
def _shards(cache_dir):
    paths = Path(cache_dir).glob("*/??/*.npz")
    return sorted(p for p in paths if not p.name.startswith("."))


@pytest.fixture(scope="module")
def killed_extraction(tmp_path_factory):
    """A cache left by an extraction killed after 4 of its 12 batches."""
    folder = tmp_path_factory.mktemp("killed-extraction")
    X = np.random.RandomState(2).rand(48, 8).astype(np.float32)
    np.save(folder / "X.npy", X)
    cache_dir = folder / "cache"
    # The tiny-teacher worker sleeps 0.25 s in every forward pass.
    worker = subprocess.Popen(
        [sys.executable, str(TEACHERS_TESTS / "teachers_tiny_models.py")]
        + [str(cache_dir), str(folder / "X.npy"), str(BATCH), "0.25"],
        env=subprocess_env(),
    )
    _kill_when(worker, lambda: len(_shards(cache_dir)) >= 4, "four shards")
    uninterrupted = TorchFeatureExtractor(
        make_mlp(), device="cpu", batch_size=BATCH
    ).fit_transform(X)
    return X, cache_dir, uninterrupted


def _copy_cache(source, target):
    shutil.copytree(source, target)
    return target


def _resume(X, cache_dir):
    reset_forward_pass_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = TorchFeatureExtractor(
            make_mlp(), device="cpu", batch_size=BATCH, cache_dir=cache_dir
        ).fit_transform(X)
    return features, forward_pass_count(), caught


def test_killed_extraction_resumes_computing_only_the_lost_batches(
    killed_extraction, tmp_path
):
    X, killed_cache, uninterrupted = killed_extraction
    cache_dir = _copy_cache(killed_cache, tmp_path / "cache")
    finished = _shards(cache_dir)
    assert 4 <= len(finished) < len(X) // BATCH
    stamps = {path: path.stat().st_mtime_ns for path in finished}
    features, passes, caught = _resume(X, cache_dir)
    assert passes == len(X) - BATCH * len(finished)
    assert not [w for w in caught if "damaged" in str(w.message)]
    assert_array_equal(features, uninterrupted)
    # Finished shards were read, not rewritten; the lost ones are now on disk.
    assert all(path.stat().st_mtime_ns == stamps[path] for path in finished)
    assert len(_shards(cache_dir)) == len(X) // BATCH
    # A second rerun finds everything on disk.
    assert _resume(X, cache_dir)[1] == 0


def _flip_a_feature_bit(path):
    """Rewrite a shard with one feature bit flipped and its old checksum."""
    with np.load(path) as shard:
        content = dict(shard)
    features = content["features"].copy()
    features.view(np.uint32)[0, 0] ^= 1 << 20
    content["features"] = features
    with open(path, "wb") as handle:
        np.savez(handle, **content)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_flip_a_feature_bit, _truncate])
def test_damaged_shards_are_recomputed_never_read(killed_extraction, tmp_path, damage):
    X, killed_cache, uninterrupted = killed_extraction
    cache_dir = _copy_cache(killed_cache, tmp_path / "cache")
    finished = _shards(cache_dir)
    damage(finished[0])
    # A writer killed mid-write leaves only a temporary file: it is ignored.
    (finished[1].parent / ".tmp-killed-writer.npz").write_bytes(b"PK\x03\x04 partial")
    features, passes, caught = _resume(X, cache_dir)
    assert_array_equal(features, uninterrupted)
    # The damaged shard's batch ran again, with the batches the kill lost.
    assert passes == len(X) - BATCH * (len(finished) - 1)
    if damage is _flip_a_feature_bit:
        # The shard still loads; only its checksum tells it is wrong.
        assert any("damaged" in str(w.message) for w in caught)


# -- the compression study --------------------------------------------------------
@pytest.fixture(scope="module")
def study_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study-data")
    X, y = make_classification(
        n_samples=200,
        n_features=24,
        n_informative=10,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    path = folder / "data.npz"
    np.savez(path, X_train=X[:150], y_train=y[:150], X_test=X[150:], y_test=y[150:])
    return path


def _rows_on_disk(checkpoint_dir):
    """Complete data lines in the checkpoint file (header excluded)."""
    files = list(Path(checkpoint_dir).glob("*.csv"))
    if not files:
        return 0
    return max(files[0].read_text().count("\n") - 1, 0)


class CountingRunner:
    def __init__(self):
        self.calls = 0
        self.run_config = _study._run_config

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.run_config(*args, **kwargs)


def test_killed_study_keeps_its_rows_and_a_rerun_fits_only_the_missing_ones(
    study_data, tmp_path, monkeypatch
):
    checkpoint_dir = tmp_path / "checkpoints"
    worker = subprocess.Popen(
        [sys.executable, str(HERE / "study_kill_worker.py")]
        + [str(study_data), str(checkpoint_dir), "0.5"],
        env=subprocess_env(),
    )
    _kill_when(worker, lambda: _rows_on_disk(checkpoint_dir) >= 3, "three rows")
    (checkpoint,) = checkpoint_dir.glob("*.csv")
    kept = checkpoint.read_text()
    n_kept = _rows_on_disk(checkpoint_dir)
    assert 3 <= n_kept < N_CONFIGS

    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    resumed = compression_study(
        *load(study_data), head=head(), checkpoint_dir=checkpoint_dir, **STUDY
    )
    assert runner.calls == N_CONFIGS - n_kept
    assert len(resumed.table) == N_CONFIGS
    # The killed run's rows were read back, fit times included, not refitted.
    assert checkpoint.read_text().startswith(kept.rsplit("\n", 1)[0])

    monkeypatch.setattr(_study, "_run_config", runner.run_config)
    fresh = compression_study(*load(study_data), head=head(), **STUDY)
    assert_frame_equal(
        resumed.table.drop(columns=["fit_time", "resumed"]),
        fresh.table.drop(columns=["fit_time", "resumed"]),
    )
    assert resumed.table["resumed"].any() and not fresh.table["resumed"].any()
