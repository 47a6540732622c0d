"""Shared fixtures of the reliability tests: tiny data, offline teachers."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability_utils import add_test_helpers_to_path

add_test_helpers_to_path()


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    """No test reaches the network: pretrained weights must come from disk."""
    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")


@pytest.fixture(scope="module")
def blobs():
    """(X, y): 120 float32 samples of width 16 in 3 well separated classes."""
    rng = np.random.RandomState(0)
    centers = rng.normal(scale=4.0, size=(3, 16))
    y = np.arange(120) % 3
    X = (centers[y] + rng.normal(size=(120, 16))).astype(np.float32)
    return X, y
