"""Tests for distortion_report and DistortionReport."""

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist
from sklearn.preprocessing import StandardScaler
from sklearn.random_projection import GaussianRandomProjection

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.diagnostics import DistortionReport, distortion_report
from sklearn_subspace.projection import JLSubspaceTransformer


@pytest.fixture
def data():
    return np.random.default_rng(0).standard_normal((40, 30))


@pytest.fixture
def projection_matrix():
    return np.random.default_rng(1).standard_normal((30, 8)) / np.sqrt(8)


# --- agreement with brute force ----------------------------------------------


def test_exhaustive_report_matches_brute_force_over_all_pairs(data, projection_matrix):
    projected = data @ projection_matrix
    expected = pdist(projected, "sqeuclidean") / pdist(data, "sqeuclidean")
    eps = 0.3

    report = distortion_report(data, projected, n_pairs=10_000, eps=eps)

    assert report.exhaustive
    assert report.n_pairs == 40 * 39 // 2
    np.testing.assert_allclose(np.sort(report.ratios), np.sort(expected), rtol=1e-12)
    assert report.min == pytest.approx(expected.min(), rel=1e-12)
    assert report.max == pytest.approx(expected.max(), rel=1e-12)
    np.testing.assert_allclose(
        report.quantiles.to_numpy(),
        np.quantile(expected, report.quantile_levels),
        rtol=1e-12,
    )
    assert report.fraction_below == np.mean(expected < 1 - eps)
    assert report.fraction_above == np.mean(expected > 1 + eps)
    assert report.fraction_outside == np.mean(np.abs(expected - 1) > eps)
    assert report.max_distortion == pytest.approx(np.abs(expected - 1).max())


def test_sampled_pairs_match_brute_force_on_the_same_pairs(data, projection_matrix):
    projected = data @ projection_matrix
    report = distortion_report(data, projected, n_pairs=300, random_state=0)

    assert not report.exhaustive
    assert report.pairs.shape == (300, 2)
    i, j = report.pairs.T
    assert np.all(i != j)
    expected = np.sum((projected[i] - projected[j]) ** 2, axis=1) / np.sum(
        (data[i] - data[j]) ** 2, axis=1
    )
    np.testing.assert_allclose(report.ratios, expected, rtol=1e-12)


def test_isometry_gives_ratios_of_exactly_one(data):
    rotation, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((30, 30)))
    report = distortion_report(data, data @ rotation, eps=0.01, random_state=0)
    np.testing.assert_allclose(report.ratios, 1.0, rtol=1e-10)
    assert report.fraction_outside == 0.0
    assert report.max_distortion < 1e-10


# --- what can be passed as the projection ------------------------------------


def test_fitted_unfitted_transformer_and_projected_array_agree():
    X = np.random.default_rng(3).standard_normal((120, 64)).astype(np.float32)
    unfitted = JLSubspaceTransformer(16, projection="sparse", random_state=0)
    fitted = JLSubspaceTransformer(16, projection="sparse", random_state=0).fit(X)

    from_unfitted = distortion_report(X, unfitted, n_pairs=500, random_state=0)
    from_fitted = distortion_report(X, fitted, n_pairs=500, random_state=0)
    from_array = distortion_report(X, fitted.transform(X), n_pairs=500, random_state=0)

    assert not hasattr(unfitted, "components_"), "the user's object was fitted"
    np.testing.assert_array_equal(from_unfitted.ratios, from_fitted.ratios)
    np.testing.assert_allclose(from_array.ratios, from_fitted.ratios, rtol=1e-6)
    assert from_fitted.n_components == 16
    assert from_fitted.n_features == 64


def test_any_sklearn_transformer_is_accepted():
    X = np.random.default_rng(4).standard_normal((80, 200))
    report = distortion_report(
        X, GaussianRandomProjection(50, random_state=0), n_pairs=200, random_state=0
    )
    assert report.n_components == 50
    assert 0.2 < report.mean < 1.8


def test_dataframe_input_keeps_feature_names_without_warning():
    X = pd.DataFrame(
        np.random.default_rng(5).standard_normal((60, 12)),
        columns=[f"f{i}" for i in range(12)],
    )
    scaler = StandardScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = distortion_report(X, scaler, n_pairs=100, random_state=0)
    assert report.n_components == 12
    assert report.n_pairs == 100


def test_float32_data_gives_float64_ratios():
    X = np.random.default_rng(6).standard_normal((50, 20)).astype(np.float32)
    report = distortion_report(X, X * np.float32(2.0), n_pairs=100, random_state=0)
    assert report.ratios.dtype == np.float64
    np.testing.assert_allclose(report.ratios, 4.0, rtol=1e-6)


# --- sampling ----------------------------------------------------------------


def test_int_random_state_gives_the_same_pairs(data, projection_matrix):
    projected = data @ projection_matrix
    first = distortion_report(data, projected, n_pairs=100, random_state=7)
    second = distortion_report(data, projected, n_pairs=100, random_state=7)
    other = distortion_report(data, projected, n_pairs=100, random_state=8)
    np.testing.assert_array_equal(first.pairs, second.pairs)
    assert not np.array_equal(first.pairs, other.pairs)


def test_pairs_of_identical_rows_are_left_out_and_counted():
    X = np.repeat(np.random.default_rng(9).standard_normal((5, 3)), 2, axis=0)
    report = distortion_report(X, X * 3.0, n_pairs=1000)
    assert report.exhaustive
    assert report.n_duplicate_pairs == 5
    assert report.n_pairs == 45 - 5
    assert np.all(np.isfinite(report.ratios))
    np.testing.assert_allclose(report.ratios, 9.0)


def test_only_identical_rows_raise():
    X = np.ones((6, 3))
    with pytest.raises(ValueError, match="identical rows"):
        distortion_report(X, X)


# --- DataFrame and plot ------------------------------------------------------


def test_to_frame_is_one_row_that_stacks_across_reports(data, projection_matrix):
    reports = [
        distortion_report(data, data @ projection_matrix[:, :k], n_pairs=200, eps=0.2)
        for k in (2, 8)
    ]
    frame = pd.concat([r.to_frame() for r in reports], ignore_index=True)

    assert list(frame["n_components"]) == [2, 8]
    assert list(frame.columns) == [
        "n_features",
        "n_components",
        "n_pairs",
        "eps",
        "min",
        "q1",
        "q5",
        "q25",
        "q50",
        "q75",
        "q95",
        "q99",
        "max",
        "mean",
        "max_distortion",
        "fraction_below",
        "fraction_above",
        "fraction_outside",
    ]
    assert frame.loc[1, "fraction_outside"] == reports[1].fraction_outside
    assert frame.loc[0, "q50"] == pytest.approx(np.median(reports[0].ratios))


def test_custom_quantile_levels_name_their_columns(data, projection_matrix):
    report = distortion_report(
        data, data @ projection_matrix, quantiles=[0.999, 0.001, 0.5]
    )
    assert report.quantile_levels == (0.001, 0.5, 0.999)
    assert {"q0.1", "q50", "q99.9"} <= set(report.to_frame().columns)


def test_plot_draws_the_histogram_and_the_eps_band(data, projection_matrix):
    report = distortion_report(data, data @ projection_matrix, eps=0.25)
    ax = report.plot(bins=20)
    try:
        bars = [p for p in ax.patches if p.get_label() != "1 ± eps (eps=0.25)"]
        assert sum(bar.get_height() for bar in bars) == report.n_pairs
        band = next(p for p in ax.patches if p.get_label() == "1 ± eps (eps=0.25)")
        x_low, x_high = band.get_x(), band.get_x() + band.get_width()
        assert (x_low, x_high) == pytest.approx((0.75, 1.25))
        assert f"{100 * report.fraction_outside:.2f}%" in ax.get_title()
    finally:
        plt.close(ax.figure)


def test_plot_draws_on_a_given_axes(data, projection_matrix):
    fig, ax = plt.subplots()
    try:
        report = distortion_report(data, data @ projection_matrix)
        assert report.plot(ax=ax) is ax
    finally:
        plt.close(fig)


@pytest.mark.parametrize("scale", [1.0, 1.05])
def test_plot_handles_ratios_that_are_all_equal(data, scale):
    # A scaled isometry gives one ratio up to round-off: no bin width to use.
    report = distortion_report(data, scale * data, eps=0.2)
    ax = report.plot()
    try:
        bars = [p for p in ax.patches if not p.get_label().startswith("1 ±")]
        assert sum(bar.get_height() for bar in bars) == report.n_pairs
        x_low, x_high = ax.get_xlim()
        assert x_low < scale**2 < x_high
    finally:
        plt.close(ax.figure)


def test_fraction_outside_at_another_eps():
    report = DistortionReport(
        np.array([0.5, 0.9, 1.0, 1.2, 1.6]),
        np.zeros((5, 2), dtype=int),
        eps=0.1,
        n_features=3,
        n_components=2,
    )
    assert report.fraction_outside == 0.6
    assert report.fraction_outside_at(0.3) == 0.4
    assert report.fraction_outside_at(0.55) == 0.2
    message = (
        "The 'eps' parameter of DistortionReport.fraction_outside_at must be a "
        "float in the range (0.0, 1.0). Got 1.0 instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        report.fraction_outside_at(1.0)
    assert "fraction_outside=0.6" in repr(report)


# --- properties --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(2, 25), st.integers(1, 8)),
        elements=st.floats(-100, 100, allow_nan=False, width=32),
    ),
    n_components=st.integers(1, 6),
    eps=st.floats(0.01, 0.99),
    n_pairs=st.integers(1, 400),
    seed=st.integers(0, 2**16),
)
def test_report_is_ordered_and_fractions_are_probabilities(
    X, n_components, eps, n_pairs, seed
):
    rng = np.random.default_rng(seed)
    projected = X @ rng.standard_normal((X.shape[1], n_components))
    try:
        report = distortion_report(
            X, projected, n_pairs=n_pairs, eps=eps, random_state=seed
        )
    except ValueError as error:
        assert "identical rows" in str(error)
        return
    quantiles = report.quantiles.to_numpy()
    assert report.min <= quantiles.min()
    assert np.all(np.diff(quantiles) >= 0)
    assert quantiles.max() <= report.max
    for fraction in (
        report.fraction_below,
        report.fraction_above,
        report.fraction_outside,
    ):
        assert 0.0 <= fraction <= 1.0
    assert report.fraction_outside == pytest.approx(
        report.fraction_below + report.fraction_above
    )
    assert np.all(np.isfinite(report.ratios))
    n_distinct = X.shape[0] * (X.shape[0] - 1) // 2
    assert report.n_pairs == len(report.pairs)
    assert report.n_pairs + report.n_duplicate_pairs == min(n_pairs, n_distinct)


# --- bad input ---------------------------------------------------------------


def _square(n=6, d=3):
    return np.random.default_rng(10).standard_normal((n, d))


@pytest.mark.parametrize(
    ("X", "projected", "kwargs", "error", "match"),
    [
        (np.where(np.eye(6, 3) == 1, np.nan, 1.0), _square(), {}, ValueError, "NaN"),
        (_square(), np.full((6, 2), np.inf), {}, ValueError, "X_projected.*NaN or inf"),
        (np.arange(6.0), _square(), {}, ValueError, "2-D.*reshape"),
        (_square(), _square(5), {}, ValueError, "5 rows but X has 6"),
        (_square(1), _square(1), {}, ValueError, "1 sample.*at least 2"),
        (_square(), _square(), {"quantiles": [1.5]}, ValueError, r"\[0, 1\]"),
        (_square(), _square(), {"quantiles": []}, ValueError, "non-empty"),
        (_square(), _square(), {"quantiles": ["a"]}, ValueError, r"\[0, 1\]"),
    ],
)
def test_bad_input_raises_an_error_naming_the_problem(
    X, projected, kwargs, error, match
):
    with pytest.raises(error, match=match):
        distortion_report(X, projected, **kwargs)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("eps", 0.0, "a float in the range (0.0, 1.0)"),
        ("eps", 1.5, "a float in the range (0.0, 1.0)"),
        ("n_pairs", 0, "an int in the range [1, inf)"),
        ("n_pairs", 10.0, "an int in the range [1, inf)"),
        ("quantiles", 1.5, "an array-like or a float in the range [0.0, 1.0]"),
        (
            "transformer_or_X_projected",
            "gaussian",
            # "a sparse array or matrix or an object implementing 'transform'"
            # (scikit-learn < 1.8: "a sparse matrix or ...").
            "an array-like, a sparse ",
        ),
        ("random_state", "seed", "an int in the range [0, 4294967295], an "),
    ],
)
def test_bad_parameters_get_the_standard_message(name, value, expected):
    params = {"transformer_or_X_projected": _square(), name: value}
    prefix = f"The {name!r} parameter of distortion_report must be {expected}"
    with pytest.raises(InvalidParameterError, match=re.escape(prefix)) as info:
        distortion_report(_square(), **params)
    assert str(info.value).endswith(f"Got {value!r} instead.")


@pytest.mark.parametrize("kind", ["categorical", "text"])
def test_a_label_column_of_a_dataframe_is_named(kind):
    X = pd.DataFrame(_square(), columns=["a", "b", "c"])
    dtype = "category" if kind == "categorical" else "string"
    X["b"] = pd.Series(["1", "2"] * 3, dtype=dtype)
    with pytest.raises(TypeError, match=rf"distortion_report .*\['b'\] .*{kind}"):
        distortion_report(X, _square())
