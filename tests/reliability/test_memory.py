"""``transform`` works in row blocks: its extra memory does not grow with n.

numpy reports its allocations to :mod:`tracemalloc`, so the peak of traced
memory during ``transform`` is exactly what the call allocated: the output
plus the temporaries of one block. The full-size measurement (2,000,000 x
512 float32 to k=64, peak RSS against input + output + 256 MB) is
``benchmarks/bench_memory.py``.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_subspace import JLSubspaceTransformer
from sklearn_subspace.projection import PROJECTION_FAMILIES, _apply

pytestmark = pytest.mark.timeout(120)

N_FEATURES, K = 256, 32


def _extra_memory(jl, X):
    """Bytes ``jl.transform(X)`` allocated at its peak, beyond its output."""
    jl.transform(X[:2])  # build the map (and any dense copy) outside the count
    tracemalloc.start()
    try:
        Z = jl.transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - Z.nbytes, Z


@pytest.fixture(scope="module")
def X_large():
    return np.random.default_rng(0).standard_normal((16000, N_FEATURES), np.float32)


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_extra_memory_of_transform_does_not_grow_with_n(X_large, family):
    jl = JLSubspaceTransformer(K, projection=family, random_state=0).fit(X_large)
    small, Z_small = _extra_memory(jl, X_large[:4000])
    large, Z_large = _extra_memory(jl, X_large)
    assert Z_large.dtype == np.float32 and Z_large.shape == (16000, K)
    # 4x the rows: the output grows by 1.5 MB, the extra memory not at all.
    assert abs(large - small) < 64 * 1024
    # A few copies of one block (at most 1024 rows of 256 floats = 1 MB):
    # the SRHT's padded transforms are the largest.
    block = _apply.block_rows_for(jl._map()) * N_FEATURES * 4
    assert block <= 1024 * N_FEATURES * 4
    assert large <= 8 * block


def test_sparse_input_is_densified_one_block_at_a_time(X_large):
    X = sp.csr_matrix(np.where(np.abs(X_large) > 1.5, X_large, 0.0))
    jl = JLSubspaceTransformer(K, random_state=0).fit(X)
    small, _ = _extra_memory(jl, X[:4000])
    large, _ = _extra_memory(jl, X)
    assert abs(large - small) < 256 * 1024


def test_float32_input_allocates_no_float64_copy(X_large):
    jl = JLSubspaceTransformer(K, random_state=0).fit(X_large)
    extra, Z = _extra_memory(jl, X_large)
    assert Z.dtype == np.float32
    assert extra < X_large.astype(np.float64).nbytes / 8
