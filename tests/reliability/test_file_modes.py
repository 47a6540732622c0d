"""Every file the library writes gets the mode open() would give it."""

import os
import stat

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_subspace._atomic import atomic_write
from sklearn_subspace.study import StudyResult
from sklearn_subspace.study._checkpoint import StudyCheckpoint
from sklearn_subspace.teachers import TorchFeatureExtractor


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(folder):
    return {
        path.relative_to(folder).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_cache_shards_and_metadata_are_readable_by_others(tmp_path, umask_022):
    net = torch.nn.Linear(8, 4)
    X = np.random.RandomState(0).rand(20, 8).astype(np.float32)
    TorchFeatureExtractor(
        net, device="cpu", cache_dir=tmp_path, batch_size=8
    ).fit_transform(X)
    modes = _modes(tmp_path)
    assert sum(name.endswith(".npz") for name in modes) == 3
    assert any(name.endswith("meta.json") for name in modes)
    assert set(modes.values()) == {0o644}


def test_study_outputs_and_checkpoints_are_readable_by_others(tmp_path, umask_022):
    pytest.importorskip("matplotlib")
    table = pd.DataFrame(
        {
            "teacher": "t",
            "method": ["full", "gaussian"],
            "n_components": [8, 4],
            "compression_ratio": [1.0, 2.0],
            "seed": 0,
            "test_accuracy": [0.9, 0.8],
            "delta": [0.0, -0.1],
            "fit_time": 0.1,
            "n_epochs": 3,
            "n_features": 8,
        }
    )
    StudyResult(table).save(tmp_path / "out")
    row = dict(
        teacher="t",
        method="gaussian",
        n_components=4,
        seed=0,
        n_features=8,
        test_accuracy=0.5,
        fit_time=0.1,
        n_epochs=3,
    )
    checkpoint = StudyCheckpoint(tmp_path / "ckpt", "abc")
    checkpoint.append(row)
    checkpoint._rewrite([row])  # the clean-up rewrite goes through mkstemp
    modes = _modes(tmp_path)
    assert len(modes) == 4
    assert set(modes.values()) == {0o644}


def test_the_atomic_writer_follows_a_stricter_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        atomic_write(tmp_path / "private.bin", lambda handle: handle.write(b"x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "private.bin").stat().st_mode) == 0o600
