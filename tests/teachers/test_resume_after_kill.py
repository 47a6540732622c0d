"""A run killed with SIGKILL mid-way resumes from its finished shards."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from teachers_tiny_models import make_mlp

from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    forward_pass_count,
    reset_forward_pass_count,
)

HELPER = Path(__file__).with_name("teachers_tiny_models.py")
BATCH = 4


def _shards(cache_dir):
    """Finished shards (temporary files start with a dot)."""
    paths = Path(cache_dir).glob("*/??/*.npz")
    return sorted(p for p in paths if not p.name.startswith("."))


@pytest.mark.slow  # starts and kills an interpreter
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_killed_run_resumes_without_recomputing_finished_shards(tmp_path):
    X = np.random.RandomState(1).rand(48, 8).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    cache_dir = tmp_path / "cache"
    # The worker sleeps 0.25 s in every forward pass: 12 batches take 3 s.
    worker = subprocess.Popen(
        [sys.executable, str(HELPER), str(cache_dir), str(tmp_path / "X.npy")]
        + [str(BATCH), "0.25"]
    )
    try:
        deadline = time.monotonic() + 120
        while len(_shards(cache_dir)) < 3:
            assert worker.poll() is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline, "the worker wrote no shards"
            time.sleep(0.01)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL

    finished = _shards(cache_dir)
    assert 3 <= len(finished) < len(X) // BATCH
    stamps = {path: path.stat().st_mtime_ns for path in finished}

    reset_forward_pass_count()
    resumed = TorchFeatureExtractor(
        make_mlp(), device="cpu", batch_size=BATCH, cache_dir=cache_dir
    ).fit_transform(X)

    # Only the lost batches ran again; finished shards were not rewritten.
    assert forward_pass_count() == len(X) - BATCH * len(finished)
    assert all(path.stat().st_mtime_ns == stamps[path] for path in finished)
    assert len(_shards(cache_dir)) == len(X) // BATCH
    uninterrupted = TorchFeatureExtractor(
        make_mlp(), device="cpu", batch_size=BATCH
    ).fit_transform(X)
    assert_array_equal(resumed, uninterrupted)
