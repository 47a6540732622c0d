"""Fixtures for the dataset tests."""

import pytest


@pytest.fixture
def no_debian_fashion_mnist(monkeypatch, tmp_path):
    """Hide the Debian package's copy, so that the tests see only their data."""
    from sklearn_subspace.datasets import _fashion_mnist

    monkeypatch.setattr(
        _fashion_mnist, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-package"
    )
