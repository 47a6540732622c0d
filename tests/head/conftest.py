"""Shared settings for the head tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_torch_thread():
    # The test heads are tiny: one thread is faster than a pool, and a pool
    # competing with other processes for a few cores can be 10x slower.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
