"""Settings shared by the distillation tests."""

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(single_torch_thread):
    """Every test here runs on one torch thread (see ``single_torch_thread``)."""
