"""The study checkpoint: exact fingerprints, nothing deleted, durable, clean kills."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from reliability_utils import HERE, subprocess_env
from sklearn.linear_model import LogisticRegression

from sklearn_subspace._experiment import _checkpoint
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.study import compression_study
from sklearn_subspace.study._checkpoint import (
    STUDY_ROWS,
    StudyCheckpoint,
    study_fingerprint,
)

F = np.random.RandomState(0).rand(30, 8)
Y = np.arange(30) % 3
ROW = dict(
    teacher="t",
    method="gaussian",
    n_components=4,
    seed=0,
    n_features=8,
    test_accuracy=0.5,
    fit_time=0.1,
    n_epochs=3,
)


def _fingerprint(head=None, param_grid=None, **kwargs):
    head = LogisticRegression() if head is None else head
    return study_fingerprint("t", F, Y, F, Y, head, param_grid, 3, **kwargs)


def test_long_param_grid_arrays_that_differ_get_different_fingerprints():
    # repr elides arrays over 1000 elements: these two print the same.
    a = np.linspace(0.0, 1.0, 2000)
    b = a.copy()
    b[1000] += 0.5
    assert repr({"C": a}) == repr({"C": b})
    assert _fingerprint(param_grid={"C": a}) != _fingerprint(param_grid={"C": b})


def test_long_nested_estimator_settings_get_different_fingerprints():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def head(c):
        steps = [StandardScaler() for _ in range(30)]
        return make_pipeline(*steps, LogisticRegression(C=c))

    # repr elides estimators over 700 characters, hiding C.
    assert repr(head(1.0)) == repr(head(2.0))
    assert _fingerprint(head(1.0)) != _fingerprint(head(2.0))


def test_versions_device_and_threads_are_part_of_the_fingerprint(monkeypatch):
    base = _fingerprint(device="cpu", n_threads=1)
    assert base == _fingerprint(device="cpu", n_threads=1)
    assert base != _fingerprint(device="cuda", n_threads=1)
    assert base != _fingerprint(device="cpu", n_threads=2)
    versions = _checkpoint.library_versions()
    monkeypatch.setattr(
        _checkpoint, "library_versions", lambda: dict(versions, torch="99.0")
    )
    assert base != _fingerprint(device="cpu", n_threads=1)


def test_a_checkpoint_with_an_unknown_header_is_moved_aside_not_deleted(tmp_path):
    checkpoint = StudyCheckpoint(tmp_path, "abc")
    text = "teacher,method,future_column\nt,gaussian,1\n"
    checkpoint.path.write_text(text)
    with pytest.warns(UserWarning, match="moved to"):
        assert checkpoint.load() == []
    kept = list(tmp_path.glob(checkpoint.path.name + ".unknown-*"))
    assert len(kept) == 1 and kept[0].read_text() == text
    assert not checkpoint.path.exists()
    checkpoint.append(ROW)  # the study starts anew next to the kept file
    assert StudyCheckpoint(tmp_path, "abc").load() == [ROW]


def test_the_rewrite_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    import stat

    from sklearn_subspace import _atomic

    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(_atomic.os, "fsync", recording_fsync)
    checkpoint = StudyCheckpoint(tmp_path, "abc")
    checkpoint.path.write_text(
        ",".join(STUDY_ROWS.columns) + "\n" + "t,gaussian,4,0,8,0.5,0.1,3\ntrunc"
    )
    assert len(checkpoint.load()) == 1  # the truncated tail forces a rewrite
    assert False in synced and True in synced
    assert checkpoint.path.read_text().endswith("3\n")


def test_the_table_says_which_rows_were_resumed(tmp_path):
    head = SubspaceHeadClassifier(max_epochs=2, device="cpu")
    settings = dict(
        n_components=[4],
        projections=["gaussian"],
        baselines=["full"],
        seeds=1,
        head=head,
        intrinsic_dimension=False,
        progress=False,
        checkpoint_dir=tmp_path,
    )
    X = F.astype(np.float32)
    first = compression_study(X, Y, X, Y, **settings)
    assert not first.table["resumed"].any()
    again = compression_study(X, Y, X, Y, **settings)
    assert again.table["resumed"].all()
    assert list(again.table["fit_time"]) == list(first.table["fit_time"])


def _descendants(pid):
    """PIDs of every process below ``pid`` (Linux /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow  # starts a study and its workers
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_sigterm_leaves_no_joblib_workers_running(tmp_path):
    rng = np.random.RandomState(0)
    data = tmp_path / "data.npz"
    X = rng.rand(60, 16).astype(np.float32)
    y = np.arange(60) % 3
    np.savez(data, X_train=X, y_train=y, X_test=X, y_test=y)
    study = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "study_kill_worker.py"),
            str(data),
            str(tmp_path / "ckpt"),
            "2.0",
            "2",
        ],
        env=subprocess_env(),
    )
    try:
        deadline = time.monotonic() + 120
        workers = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = _descendants(study.pid)
        assert len(workers) >= 2, "the study never started its workers"
        time.sleep(1.0)  # let them pick up configurations
        workers = _descendants(study.pid)
        study.send_signal(signal.SIGTERM)
        assert study.wait(timeout=60) == -signal.SIGTERM
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(map(_alive, workers)):
            time.sleep(0.2)
        assert [pid for pid in workers if _alive(pid)] == []
    finally:
        for pid in _descendants(study.pid) + [study.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
