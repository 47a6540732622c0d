"""Shared settings and data for the head tests."""

import numpy as np
import pytest
from sklearn.datasets import make_classification


@pytest.fixture(autouse=True)
def _one_torch_thread(single_torch_thread):
    """Every test here runs on one torch thread (see ``single_torch_thread``)."""


@pytest.fixture
def data():
    """300 float32 samples, 20 features, 3 well-separated classes."""
    X, y = make_classification(
        n_samples=300,
        n_features=20,
        n_informative=10,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    return X.astype(np.float32), y
