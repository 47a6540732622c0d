"""Small problems shared by the distillation tests."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklearn_subspace.head import SubspaceHeadClassifier


@pytest.fixture(scope="session")
def problem():
    """A 3-class tabular task with fixed random ReLU "teacher" features."""
    X, y = make_classification(
        n_samples=240,
        n_features=12,
        n_informative=8,
        n_redundant=0,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    W = np.random.default_rng(0).standard_normal((12, 48)).astype(np.float32)
    F = np.maximum(X @ W, 0.0)
    return X[:180], y[:180], F[:180], X[180:], y[180:], F[180:]


@pytest.fixture
def fast_head():
    """A head that trains in a fraction of a second on the small task."""
    return SubspaceHeadClassifier(lr=1e-2, batch_size=32, max_epochs=10)


@pytest.fixture(autouse=True)
def _one_torch_thread(single_torch_thread):
    """Every test here runs on one torch thread (see ``single_torch_thread``)."""
