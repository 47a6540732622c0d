"""Shared test configuration."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Tests run on small CPU machines: keep torch from oversubscribing cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def global_random_seed():
    """The seed that seeded tests use, as scikit-learn's fixture of that name."""
    return 42
