import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from sklearn.random_projection import (
    johnson_lindenstrauss_min_dim as sklearn_min_dim,
)

from sklearn_subspace.projection import johnson_lindenstrauss_min_dim
from sklearn_subspace.projection._bounds import _log_pair_failure


@pytest.mark.parametrize("n_samples", [1, 2, 10, 100, 1_000, 10**6, 10**9])
@pytest.mark.parametrize("eps", [1e-5, 0.01, 0.1, 0.3, 0.5, 0.9])
def test_textbook_bound_matches_sklearn(n_samples, eps):
    ours = johnson_lindenstrauss_min_dim(n_samples, eps=eps)
    theirs = sklearn_min_dim(n_samples, eps=eps)
    assert ours == theirs
    assert np.asarray(ours).dtype == np.int64


def test_textbook_bound_known_value_and_arrays():
    assert johnson_lindenstrauss_min_dim(100, eps=1e-5) == 368416070986
    n = np.array([10, 1_000, 10**6])
    eps = np.array([0.1, 0.2, 0.5])
    np.testing.assert_array_equal(
        johnson_lindenstrauss_min_dim(n, eps=eps), sklearn_min_dim(n, eps=eps)
    )


@pytest.mark.parametrize("n_samples", [2, 50, 10_000])
@pytest.mark.parametrize("eps", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("p", [0.5, 1e-3, 1e-9])
def test_exact_bound_is_the_smallest_k_meeting_the_union_bound(n_samples, eps, p):
    k = int(johnson_lindenstrauss_min_dim(n_samples, eps=eps, failure_probability=p))
    n_pairs = n_samples * (n_samples - 1) / 2

    def total_failure(k):
        tail = stats.chi2.sf(k * (1 + eps), k) + stats.chi2.cdf(k * (1 - eps), k)
        return n_pairs * tail

    assert total_failure(k) <= p * (1 + 1e-9)
    if k > 1:
        assert total_failure(k - 1) > p


def test_exact_bound_grows_with_confidence_and_samples():
    ks = [
        int(johnson_lindenstrauss_min_dim(1000, eps=0.2, failure_probability=p))
        for p in (0.5, 1e-2, 1e-4, 1e-8)
    ]
    assert ks == sorted(ks) and ks[0] < ks[-1]
    ns = [
        int(johnson_lindenstrauss_min_dim(n, eps=0.2, failure_probability=1e-3))
        for n in (10, 1_000, 100_000)
    ]
    assert ns == sorted(ns) and ns[0] < ns[-1]


def test_exact_bound_single_point_needs_one_component():
    assert johnson_lindenstrauss_min_dim(1, eps=0.1, failure_probability=0.1) == 1


def test_pair_failure_log_probability_matches_scipy():
    k, eps = 200, 0.2
    direct = stats.chi2.sf(k * 1.2, k) + stats.chi2.cdf(k * 0.8, k)
    assert np.isclose(np.exp(_log_pair_failure(k, eps)), direct, rtol=1e-10)


@pytest.mark.parametrize("eps", [0, 1, -0.1, 1.5, np.nan])
def test_bad_eps_is_rejected(eps):
    with pytest.raises(ValueError, match="eps must lie strictly between 0 and 1"):
        johnson_lindenstrauss_min_dim(100, eps=eps)


@pytest.mark.parametrize("n_samples", [0, -3, 2.5, np.nan, "ten"])
def test_bad_n_samples_is_rejected(n_samples):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        johnson_lindenstrauss_min_dim(n_samples)


@pytest.mark.parametrize("p", [0, 1, -0.5, 2.0, "small"])
def test_bad_failure_probability_is_rejected(p):
    with pytest.raises(ValueError, match="failure_probability must be a float"):
        johnson_lindenstrauss_min_dim(100, eps=0.1, failure_probability=p)


@given(
    n=st.integers(min_value=2, max_value=10**7),
    eps=st.floats(min_value=0.05, max_value=0.95),
)
def test_textbook_bound_property_equals_sklearn(n, eps):
    assert johnson_lindenstrauss_min_dim(n, eps=eps) == sklearn_min_dim(n, eps=eps)
