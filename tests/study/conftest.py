"""Shared fixtures for the compression-study tests: tiny data, tiny teachers."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from sklearn_subspace.head import SubspaceHeadClassifier


@pytest.fixture
def features():
    """(X_train, y_train, X_test, y_test): 32-d float32 features, 3 classes."""
    X, y = make_classification(
        n_samples=240,
        n_features=32,
        n_informative=12,
        n_redundant=0,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    return X[:180], y[:180], X[180:], y[180:]


@pytest.fixture
def fast_head():
    """A head that trains in a few milliseconds on the tiny data."""
    return SubspaceHeadClassifier(lr=1e-2, max_epochs=4, batch_size=64, device="cpu")


class TinyTeacher(torch.nn.Module):
    """A randomly initialised two-layer network: 16 inputs -> 24 features."""

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.body = torch.nn.Linear(16, 24)
        with torch.no_grad():
            self.body.weight.copy_(torch.randn(24, 16, generator=generator))
            self.body.bias.zero_()

    def forward(self, x):
        return torch.tanh(self.body(x))


@pytest.fixture
def tiny_teacher():
    return TinyTeacher().eval()


@pytest.fixture
def raw_inputs():
    """(X_train, y_train, X_test, y_test): distinct 16-d inputs for a teacher."""
    X, y = make_classification(
        n_samples=150,
        n_features=16,
        n_informative=8,
        n_classes=3,
        class_sep=2.0,
        random_state=1,
    )
    X = X.astype(np.float32)
    return X[:120], y[:120], X[120:], y[120:]
