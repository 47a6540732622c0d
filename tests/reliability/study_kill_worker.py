"""Runs a small compression study with checkpoints, slowly, until killed.

Run as a script by the SIGKILL test::

    python study_kill_worker.py DATA.npz CHECKPOINT_DIR SLEEP_SECONDS [N_JOBS]

Every configuration sleeps ``SLEEP_SECONDS`` after it is fitted, so the
test can kill the process between (or in the middle of) configurations.
"""

import sys
import time

import numpy as np

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.study import _study, compression_study

#: The study the test runs, here and in the test process.
STUDY = dict(
    n_components=[8, 4],
    projections=["gaussian", "sparse"],
    baselines=["full"],
    seeds=2,
    intrinsic_dimension=False,
    progress=False,
    random_state=0,
)
N_CONFIGS = 2 + 2 * 2 * 2


def head():
    """A head that trains in milliseconds on the tiny features."""
    # AdamW uses its seed, so every configuration runs (none is copied).
    return SubspaceHeadClassifier(
        optimizer="adamw", lr=1e-2, max_epochs=3, batch_size=64, device="cpu"
    )


def load(path):
    data = np.load(path)
    return data["X_train"], data["y_train"], data["X_test"], data["y_test"]


def _main(data_path, checkpoint_dir, sleep_seconds, n_jobs=1):
    run_config = _study._run_config

    def slow_run_config(*args, **kwargs):
        row = run_config(*args, **kwargs)
        time.sleep(sleep_seconds)
        return row

    _study._run_config = slow_run_config
    compression_study(
        *load(data_path),
        head=head(),
        checkpoint_dir=checkpoint_dir,
        n_jobs=n_jobs,
        **STUDY,
    )


if __name__ == "__main__":
    n_jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    _main(sys.argv[1], sys.argv[2], float(sys.argv[3]), n_jobs)
