"""Shared test configuration."""

import os

import pytest
import torch
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


@pytest.fixture
def single_torch_thread():
    """Run a test on one torch thread, then restore the setting.

    Test heads and students have a few thousand parameters: a second thread
    only adds synchronisation, which on a busy machine costs several times
    the work. Folders of such tests request it from an autouse fixture.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
