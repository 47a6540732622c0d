"""Property-based tests of the Johnson-Lindenstrauss guarantees.

Each probabilistic assertion is calibrated so that a correct implementation
fails it with probability below 1e-6 over all generated examples.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist

from sklearn_subspace import JLSubspaceTransformer, johnson_lindenstrauss_min_dim
from sklearn_subspace.projection import (
    PROJECTION_FAMILIES,
    make_projection,
    pair_distortion_band,
)

# Hypothesis runs at most this many examples per test (see tests/conftest.py),
# so each example may fail with probability FALSE_ALARM / MAX_EXAMPLES.
MAX_EXAMPLES = 100
FALSE_ALARM = 1e-6 / MAX_EXAMPLES


def _squared_distance_ratios(X, Z):
    before = pdist(X.astype(np.float64), "sqeuclidean")
    after = pdist(Z.astype(np.float64), "sqeuclidean")
    keep = before > 1e-12 * before.max()
    return after[keep] / before[keep]


point_sets = st.integers(2, 25).flatmap(
    lambda n: st.integers(1, 120).flatmap(
        lambda d: arrays(
            np.float64,
            (n, d),
            elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
        )
    )
)


@given(X=point_sets, k=st.integers(1, 300), seed=st.integers(0, 2**31 - 2))
def test_gaussian_ratios_lie_in_the_exact_chi_square_band(X, k, seed):
    Z = JLSubspaceTransformer(k, random_state=seed).fit_transform(X)
    ratios = _squared_distance_ratios(X, Z)
    if ratios.size == 0:
        return
    low, high = pair_distortion_band(k, n_pairs=ratios.size, false_alarm=FALSE_ALARM)
    # A tiny slack for float rounding of the distances.
    assert ratios.min() >= low * (1 - 1e-7)
    assert ratios.max() <= high * (1 + 1e-7)


@given(
    n=st.integers(2, 30),
    d=st.integers(50, 400),
    eps=st.floats(0.3, 0.6),
    seed=st.integers(0, 2**31 - 2),
)
def test_k_from_failure_probability_keeps_every_pair_within_eps(n, d, eps, seed):
    k = int(johnson_lindenstrauss_min_dim(n, eps=eps, failure_probability=FALSE_ALARM))
    X = np.random.default_rng(seed).standard_normal((n, d))
    Z = JLSubspaceTransformer(k, random_state=seed).fit_transform(X)
    ratios = _squared_distance_ratios(X, Z)
    assert np.all(ratios > 1 - eps) and np.all(ratios < 1 + eps)


@pytest.mark.slow  # 10,000 seeded maps
@given(
    family=st.sampled_from(PROJECTION_FAMILIES),
    x=arrays(np.float64, 48, elements=st.floats(-10, 10, allow_nan=False)),
    first_seed=st.integers(0, 10**6),
)
def test_every_family_is_unbiased_over_seeds(family, x, first_seed):
    if np.linalg.norm(x) < 1e-3:
        return
    X = x[np.newaxis, :]
    # The maps themselves, as JLSubspaceTransformer(random_state=s) builds
    # them (test_transformer checks that it does), without 400 fits' checks.
    ratios = np.array(
        [
            np.sum(
                make_projection(family, 8, 48, seed=s, dtype=np.float64).apply(X) ** 2
            )
            for s in range(first_seed, first_seed + 400)
        ]
    ) / np.sum(x**2)
    # The mean of 400 independent ratios of mean 1: a 6-sigma interval.
    standard_error = ratios.std(ddof=1) / np.sqrt(ratios.size)
    assert abs(ratios.mean() - 1) <= 6 * standard_error + 1e-9


@given(
    family=st.sampled_from(PROJECTION_FAMILIES),
    k=st.integers(1, 32),
    seed=st.integers(0, 2**31 - 2),
    P=arrays(np.float64, (5, 32), elements=st.floats(-100, 100, allow_nan=False)),
)
def test_transform_of_inverse_transform_is_identity(family, k, seed, P):
    d = 64
    jl = JLSubspaceTransformer(k, projection=family, random_state=seed)
    jl.fit(np.zeros((2, d)))
    P = P[:, :k]
    back = jl.transform(jl.inverse_transform(P))
    scale = max(np.abs(P).max(), 1.0)
    # countsketch can hit rank deficiency when two outputs collect no input.
    if (
        np.linalg.matrix_rank(
            jl.components_
            if not hasattr(jl.components_, "toarray")
            else jl.components_.toarray()
        )
        < k
    ):
        return
    np.testing.assert_allclose(back, P, atol=1e-8 * scale * d)


@given(
    family=st.sampled_from(PROJECTION_FAMILIES),
    seed=st.integers(0, 2**31 - 2),
    cuts=st.lists(st.integers(0, 1100), max_size=4).map(sorted),
)
def test_transform_is_invariant_to_how_rows_are_batched(family, seed, cuts):
    X = np.random.default_rng(seed).standard_normal((1100, 70)).astype(np.float32)
    jl = JLSubspaceTransformer(9, projection=family, random_state=seed).fit(X)
    batched = np.vstack([jl.transform(p) for p in np.split(X, cuts) if len(p)])
    np.testing.assert_array_equal(batched, jl.transform(X))
