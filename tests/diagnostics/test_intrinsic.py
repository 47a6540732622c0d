"""Tests for estimate_intrinsic_dimension (TwoNN and Levina-Bickel MLE)."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import make_swiss_roll

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.diagnostics import estimate_intrinsic_dimension

N_SAMPLES = 2000


def _orthonormal_columns(n_rows, n_cols, rng):
    q, _ = np.linalg.qr(rng.standard_normal((n_rows, n_cols)))
    return q


def linear_subspace_5d_in_r100(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N_SAMPLES, 5)) @ _orthonormal_columns(100, 5, rng).T


def swiss_roll_in_r50(seed):
    X, _ = make_swiss_roll(N_SAMPLES, random_state=seed)
    rng = np.random.default_rng(seed)
    return X @ _orthonormal_columns(50, 3, rng).T


def gaussian_10d(seed):
    return np.random.default_rng(seed).standard_normal((N_SAMPLES, 10))


KNOWN_DIMENSION = [
    pytest.param(linear_subspace_5d_in_r100, 5, id="5d-subspace-of-R100"),
    pytest.param(swiss_roll_in_r50, 2, id="swiss-roll-in-R50"),
    pytest.param(gaussian_10d, 10, id="10d-gaussian"),
]


# --- accuracy on data of known dimension -------------------------------------


@pytest.mark.parametrize("method", ["twonn", "mle"])
@pytest.mark.parametrize(("make_data", "true_dimension"), KNOWN_DIMENSION)
def test_estimate_is_within_15_percent_of_true_dimension(
    make_data, true_dimension, method
):
    X = make_data(seed=0)
    estimate = estimate_intrinsic_dimension(X, method=method, random_state=0)
    assert isinstance(estimate, float)
    assert abs(estimate - true_dimension) <= 0.15 * true_dimension, estimate


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_estimate_is_invariant_to_rotation_scaling_and_translation(method):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 4)) @ rng.standard_normal((4, 20))
    rotation = _orthonormal_columns(20, 20, rng)
    moved = 7.5 * X @ rotation + 3.0
    reference = estimate_intrinsic_dimension(X, method=method)
    assert estimate_intrinsic_dimension(moved, method=method) == pytest.approx(
        reference, rel=1e-6
    )


def test_float32_input_gives_the_float64_estimate():
    X = linear_subspace_5d_in_r100(seed=2)[:800]
    estimate64 = estimate_intrinsic_dimension(X)
    estimate32 = estimate_intrinsic_dimension(X.astype(np.float32))
    assert estimate32 == pytest.approx(estimate64, rel=1e-3)


def test_mle_uses_n_neighbors():
    X = swiss_roll_in_r50(seed=3)[:1000]
    few = estimate_intrinsic_dimension(X, method="mle", n_neighbors=5)
    many = estimate_intrinsic_dimension(X, method="mle", n_neighbors=40)
    assert few != many
    # TwoNN ignores n_neighbors entirely.
    assert estimate_intrinsic_dimension(X, n_neighbors=5) == (
        estimate_intrinsic_dimension(X, n_neighbors=40)
    )


def test_discard_fraction_changes_the_twonn_fit():
    X = gaussian_10d(seed=4)[:1000]
    standard = estimate_intrinsic_dimension(X)
    assert estimate_intrinsic_dimension(X, discard_fraction=0.1) == standard
    keep_all = estimate_intrinsic_dimension(X, discard_fraction=0.0)
    assert np.isfinite(keep_all)
    assert keep_all != standard


# --- subsampling -------------------------------------------------------------


def test_subsampling_is_reproducible_with_an_int_seed():
    X = gaussian_10d(seed=5)
    first = estimate_intrinsic_dimension(X, n_samples=300, random_state=42)
    second = estimate_intrinsic_dimension(X, n_samples=300, random_state=42)
    other = estimate_intrinsic_dimension(X, n_samples=300, random_state=43)
    assert first == second
    assert first != other


def test_n_samples_larger_than_data_uses_every_row():
    X = gaussian_10d(seed=6)[:400]
    full = estimate_intrinsic_dimension(X)
    assert estimate_intrinsic_dimension(X, n_samples=10_000, random_state=0) == full
    assert estimate_intrinsic_dimension(X, n_samples=200, random_state=0) != full


def test_large_input_is_subsampled_to_5000_rows_by_default():
    # 6000 rows: the default cap makes the estimate depend on the seed.
    X = np.random.default_rng(7).standard_normal((6000, 3))
    assert estimate_intrinsic_dimension(X, random_state=0) != (
        estimate_intrinsic_dimension(X, random_state=1)
    )
    assert estimate_intrinsic_dimension(X, n_samples=6000, random_state=0) == (
        estimate_intrinsic_dimension(X, n_samples=6000, random_state=1)
    )


# --- duplicate points --------------------------------------------------------


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_duplicate_rows_give_the_estimate_of_the_distinct_rows(method):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((600, 3)) @ rng.standard_normal((3, 30))
    # Every row twice, a tenth of them five more times, shuffled.
    with_duplicates = np.vstack([X, X, np.repeat(X[:60], 5, axis=0)])
    with_duplicates = with_duplicates[rng.permutation(len(with_duplicates))]
    estimate = estimate_intrinsic_dimension(with_duplicates, method=method)
    assert np.isfinite(estimate)
    assert estimate == pytest.approx(
        estimate_intrinsic_dimension(X, method=method), rel=1e-9
    )
    assert 2.5 < estimate < 3.5


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_near_duplicates_at_round_off_distance_do_not_produce_inf(method):
    # One ulp apart: distinct rows, so they survive deduplication, but the
    # neighbour search can round their distance to zero.
    rng = np.random.default_rng(11)
    X = rng.standard_normal((300, 3)) @ rng.standard_normal((3, 40))
    nudged = np.nextafter(X, np.inf)
    estimate = estimate_intrinsic_dimension(np.vstack([X, nudged]), method=method)
    assert np.isfinite(estimate)
    assert estimate == pytest.approx(
        estimate_intrinsic_dimension(X, method=method), rel=1e-6
    )


def test_all_identical_rows_raise_instead_of_returning_nan():
    X = np.ones((50, 4))
    with pytest.raises(ValueError, match="only 1 distinct row"):
        estimate_intrinsic_dimension(X)


def test_equidistant_lattice_raises_and_points_to_mle():
    X = np.arange(50, dtype=float)[:, None]
    with pytest.raises(ValueError, match="method='mle'"):
        estimate_intrinsic_dimension(X)


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(3, 40), st.integers(1, 5)),
        # Few distinct values: many duplicate rows and tied distances.
        elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0]),
    ),
    method=st.sampled_from(["twonn", "mle"]),
)
def test_estimate_is_finite_and_positive_or_raises_value_error(X, method):
    n_neighbors = 3
    try:
        estimate = estimate_intrinsic_dimension(
            X, method=method, n_neighbors=n_neighbors
        )
    except ValueError as error:
        assert (
            "distinct" in str(error)
            or "equidistant" in str(error)
            or ("same distance" in str(error))
        )
    else:
        assert np.isfinite(estimate)
        assert estimate > 0


# --- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "kwargs", "error", "match"),
    [
        (np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 0.0]]), {}, ValueError, "NaN"),
        (np.array([[0.0, 1.0], [np.inf, 1.0], [2.0, 0.0]]), {}, ValueError, "inf"),
        (np.arange(10.0), {}, ValueError, "2-D.*reshape"),
        (np.zeros((4, 2, 2)), {}, ValueError, "2-D.*3-D"),
        (np.eye(2), {}, ValueError, "2 sample.*at least 3"),
        (np.eye(5), {"method": "mle", "n_neighbors": 5}, ValueError, "n_neighbors"),
        (np.array([["a", "b"]] * 4), {}, ValueError, "convert"),
    ],
)
def test_bad_input_raises_an_error_naming_the_problem(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        estimate_intrinsic_dimension(X, **kwargs)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n_neighbors", 1, "an int in the range [2, inf)"),
        ("n_neighbors", 2.5, "an int in the range [2, inf)"),
        ("n_samples", 2, "an int in the range [3, inf) or None"),
        ("discard_fraction", 1.0, "a float in the range [0.0, 1.0)"),
        ("random_state", -1, "an int in the range [0, 4294967295], an "),
        ("X", 5.0, "an array-like"),
    ],
)
def test_bad_parameters_get_the_standard_message(name, value, expected):
    params = {"X": np.eye(5), name: value}
    prefix = (
        f"The {name!r} parameter of estimate_intrinsic_dimension must be {expected}"
    )
    with pytest.raises(InvalidParameterError, match=re.escape(prefix)) as info:
        estimate_intrinsic_dimension(**params)
    assert str(info.value).endswith(f"Got {value!r} instead.")


def test_an_unknown_method_lists_the_valid_ones():
    with pytest.raises(InvalidParameterError) as info:
        estimate_intrinsic_dimension(np.eye(5), method="pca")
    message = str(info.value)
    assert message.startswith(
        "The 'method' parameter of estimate_intrinsic_dimension must be a str among {"
    )
    assert "'twonn'" in message and "'mle'" in message
    assert message.endswith("}. Got 'pca' instead.")


@pytest.mark.parametrize(
    ("dtype", "says"), [("category", "categorical"), ("string", "text")]
)
def test_a_label_column_of_a_dataframe_is_named_with_the_fix(dtype, says):
    # Category labels that read as numbers ("1.5") would otherwise be taken
    # as coordinates without a word.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((40, 3)), columns=["a", "b", "c"])
    X["colour"] = pd.Series(np.where(np.arange(40) % 2, "1.5", "2"), dtype=dtype)
    with pytest.raises(TypeError) as info:
        estimate_intrinsic_dimension(X)
    message = str(info.value)
    assert message.startswith(
        "estimate_intrinsic_dimension needs numeric features, but column(s) "
        "['colour'] of X "
    )
    assert says in message and "OneHotEncoder" in message


def test_a_numeric_dataframe_gives_the_estimate_of_its_values():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((200, 2)) @ rng.standard_normal((2, 6))
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(6)])
    assert estimate_intrinsic_dimension(
        frame, random_state=0
    ) == estimate_intrinsic_dimension(values, random_state=0)
