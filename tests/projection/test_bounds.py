import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from sklearn.random_projection import (
    johnson_lindenstrauss_min_dim as sklearn_min_dim,
)

from sklearn_subspace._param_validation import InvalidParameterError
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


@pytest.mark.parametrize("eps", [0, 1, -0.1, 1.5, np.nan, "0.1", None])
def test_bad_eps_gets_the_standard_message(eps):
    message = (
        "The 'eps' parameter of johnson_lindenstrauss_min_dim must be an "
        "array-like or a float in the range (0.0, 1.0). Got "
        f"{eps!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        johnson_lindenstrauss_min_dim(100, eps=eps)


@pytest.mark.parametrize("eps", [[0.1, 1.0], np.array([0.2, np.nan]), [[-0.5]]])
def test_an_eps_array_with_a_value_outside_zero_one_is_rejected(eps):
    with pytest.raises(ValueError, match="eps must lie strictly between 0 and 1"):
        johnson_lindenstrauss_min_dim(100, eps=eps)


def test_an_eps_array_of_strings_is_rejected_as_a_type():
    with pytest.raises(TypeError, match=r"eps must hold floats .* dtype <U3"):
        johnson_lindenstrauss_min_dim(100, eps=["0.1"])


@pytest.mark.parametrize("n_samples", [0, -3, 2.5, np.nan, "ten"])
def test_bad_n_samples_gets_the_standard_message(n_samples):
    message = (
        "The 'n_samples' parameter of johnson_lindenstrauss_min_dim must be an "
        f"array-like or an int in the range [1, inf). Got {n_samples!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        johnson_lindenstrauss_min_dim(n_samples)


@pytest.mark.parametrize("n_samples", [[10, 0], [2.5], np.array([100.0])])
def test_an_n_samples_array_needs_positive_integers(n_samples):
    with pytest.raises(ValueError, match="n_samples must hold positive integers"):
        johnson_lindenstrauss_min_dim(n_samples)


@pytest.mark.parametrize("p", [0, 1, -0.5, 2.0, "small"])
def test_bad_failure_probability_gets_the_standard_message(p):
    message = (
        "The 'failure_probability' parameter of johnson_lindenstrauss_min_dim "
        f"must be a float in the range (0.0, 1.0) or None. Got {p!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        johnson_lindenstrauss_min_dim(100, eps=0.1, failure_probability=p)


def test_numpy_integers_and_floats_are_valid_scalars():
    expected = johnson_lindenstrauss_min_dim(1000, eps=0.1)
    assert johnson_lindenstrauss_min_dim(np.int64(1000), eps=np.float32(0.1)) == (
        johnson_lindenstrauss_min_dim(1000, eps=float(np.float32(0.1)))
    )
    assert johnson_lindenstrauss_min_dim(np.int32(1000), eps=0.1) == expected


@given(
    n=st.integers(min_value=2, max_value=10**7),
    eps=st.floats(min_value=0.05, max_value=0.95),
)
def test_textbook_bound_property_equals_sklearn(n, eps):
    assert johnson_lindenstrauss_min_dim(n, eps=eps) == sklearn_min_dim(n, eps=eps)


@pytest.mark.parametrize(
    "params, name, expected",
    [
        ({"n_components": 0}, "n_components", "an int in the range [1, inf)"),
        ({"n_components": 10.0}, "n_components", "an int in the range [1, inf)"),
        ({"n_pairs": 0}, "n_pairs", "an int in the range [1, inf)"),
        ({"false_alarm": 1.0}, "false_alarm", "a float in the range (0.0, 1.0)"),
        ({"false_alarm": "1e-6"}, "false_alarm", "a float in the range (0.0, 1.0)"),
    ],
)
def test_pair_distortion_band_rejects_bad_parameters(params, name, expected):
    from sklearn_subspace.projection import pair_distortion_band

    value = params[name]
    message = (
        f"The {name!r} parameter of pair_distortion_band must be {expected}. "
        f"Got {value!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        pair_distortion_band(**{"n_components": 10, **params})
