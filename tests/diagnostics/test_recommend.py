"""Tests for recommend_n_components and NComponentsRecommendation."""

import re

import numpy as np
import pandas as pd
import pytest

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.diagnostics import (
    NComponentsRecommendation,
    distortion_report,
    estimate_intrinsic_dimension,
    recommend_n_components,
)
from sklearn_subspace.projection import (
    JLSubspaceTransformer,
    johnson_lindenstrauss_min_dim,
)


@pytest.fixture(scope="module")
def low_rank_data():
    """400 points on a 6-dimensional plane in R^256."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((400, 6)) @ rng.standard_normal((6, 256))


def test_worst_case_is_the_exact_jl_bound(low_rank_data):
    rec = recommend_n_components(
        low_rank_data, eps=0.3, failure_probability=0.01, n_pairs=500, random_state=0
    )
    expected = johnson_lindenstrauss_min_dim(400, eps=0.3, failure_probability=0.01)
    assert rec.worst_case_n_components == expected
    assert isinstance(rec.worst_case_n_components, int)


def test_intrinsic_dimension_is_the_estimator_value(low_rank_data):
    rec = recommend_n_components(
        low_rank_data, eps=0.3, intrinsic_method="mle", n_pairs=500, random_state=0
    )
    # 400 rows are below the subsampling cap, so the seed does not matter.
    assert rec.intrinsic_dimension == estimate_intrinsic_dimension(
        low_rank_data, method="mle"
    )
    assert 4.5 < rec.intrinsic_dimension < 7.5


def test_measured_k_is_the_first_grid_value_that_stays_inside_eps(low_rank_data):
    eps = 0.5
    rec = recommend_n_components(low_rank_data, eps=eps, n_pairs=2000, random_state=0)
    grid = rec.grid_results

    assert list(grid["n_components"]) == [2, 4, 8, 16, 32, 64, 128, 256][: len(grid)]
    assert rec.measured_n_components == grid["n_components"].iloc[-1]
    assert grid["inside"].tolist() == [False] * (len(grid) - 1) + [True]
    assert grid["fraction_outside"].iloc[-1] == 0.0
    assert grid["max_distortion"].iloc[-1] <= eps
    assert np.all(grid["max_distortion"].iloc[:-1] > eps)
    # Sampled pairs of 400 points need far fewer components than every pair
    # of any 400 points.
    assert rec.measured_n_components < rec.worst_case_n_components


def test_measured_k_is_confirmed_by_distortion_reports_of_the_same_draws():
    # 60 points: 1770 pairs, so both functions measure every pair exactly.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 4)) @ rng.standard_normal((4, 256))
    eps = 0.5
    rec = recommend_n_components(X, eps=eps, n_pairs=5000, n_repeats=3, random_state=0)
    k = rec.measured_n_components
    assert k is not None and k > 2
    assert len(rec.projection_seeds) == 3

    def worst_distortion(n_components):
        return max(
            distortion_report(
                X,
                JLSubspaceTransformer(n_components, random_state=seed),
                n_pairs=5000,
                eps=eps,
            ).max_distortion
            for seed in rec.projection_seeds
        )

    assert worst_distortion(k) == pytest.approx(
        rec.grid_results["max_distortion"].iloc[-1], rel=1e-4
    )
    assert worst_distortion(k) <= eps
    assert worst_distortion(k // 2) > eps


def test_an_exact_isometry_passes_at_any_eps(low_rank_data):
    # An orthogonal projection to k = d is a scaled rotation: no distortion.
    rec = recommend_n_components(
        low_rank_data,
        eps=1e-4,
        projection="orthogonal",
        n_components_grid=[256],
        n_pairs=300,
        random_state=0,
    )
    assert rec.measured_n_components == 256
    assert rec.grid_results["max_distortion"].iloc[0] < 1e-4


def test_measured_is_none_and_whole_grid_reported_when_nothing_passes(
    low_rank_data,
):
    rec = recommend_n_components(
        low_rank_data, eps=0.01, n_components_grid=[4, 16], n_pairs=300, random_state=0
    )
    assert rec.measured_n_components is None
    assert list(rec.grid_results["n_components"]) == [4, 16]
    assert not rec.grid_results["inside"].any()
    assert rec.to_frame().loc["measured", "value"] is None


def test_tolerance_stops_at_the_first_k_with_few_enough_pairs_outside(
    low_rank_data,
):
    kwargs = {"eps": 0.5, "n_pairs": 1000, "random_state": 0}
    strict = recommend_n_components(low_rank_data, **kwargs)
    tolerant = recommend_n_components(
        low_rank_data, max_fraction_outside=0.05, **kwargs
    )
    # Same seed, so the same pairs and draws: the tolerant search stops at the
    # first k of the strict search whose fraction outside is at most 0.05.
    strict_grid = strict.grid_results
    expected = strict_grid.loc[strict_grid["fraction_outside"] <= 0.05].iloc[0]
    assert tolerant.measured_n_components == expected["n_components"]
    assert tolerant.measured_n_components <= strict.measured_n_components
    pd.testing.assert_frame_equal(
        tolerant.grid_results.drop(columns="inside"),
        strict_grid.iloc[: len(tolerant.grid_results)].drop(columns="inside"),
    )


@pytest.mark.parametrize("projection", ["sparse", "srht", "countsketch"])
def test_every_family_can_be_measured(low_rank_data, projection):
    rec = recommend_n_components(
        low_rank_data.astype(np.float32),
        eps=0.5,
        projection=projection,
        n_pairs=500,
        random_state=0,
    )
    assert rec.projection == projection
    assert rec.measured_n_components in {2, 4, 8, 16, 32, 64, 128, 256}


def test_int_random_state_is_reproducible(low_rank_data):
    first = recommend_n_components(low_rank_data, eps=0.3, n_pairs=500, random_state=4)
    second = recommend_n_components(low_rank_data, eps=0.3, n_pairs=500, random_state=4)
    assert first.measured_n_components == second.measured_n_components
    assert first.grid_results.equals(second.grid_results)


def test_to_frame_shows_the_three_numbers_side_by_side_with_meanings(low_rank_data):
    rec = recommend_n_components(low_rank_data, eps=0.3, n_pairs=500, random_state=0)
    frame = rec.to_frame()

    assert isinstance(rec, NComponentsRecommendation)
    assert list(frame.index) == ["worst_case", "intrinsic_dimension", "measured"]
    assert list(frame.columns) == ["value", "meaning"]
    assert frame.loc["worst_case", "value"] == rec.worst_case_n_components
    assert frame.loc["intrinsic_dimension", "value"] == rec.intrinsic_dimension
    assert frame.loc["measured", "value"] == rec.measured_n_components
    assert "failure_probability" in frame.loc["worst_case", "meaning"]
    assert "sampled pairs" in frame.loc["measured", "meaning"]
    assert f"measured={rec.measured_n_components}" in repr(rec)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_components_grid": [0, 8]}, ValueError, r"\[1, n_features=16\]"),
        ({"n_components_grid": [32]}, ValueError, r"\[1, n_features=16\]"),
        ({"n_components_grid": 32}, ValueError, r"\[1, n_features=16\]"),
        ({"n_components_grid": [2.5]}, ValueError, "integers"),
        ({"n_components_grid": []}, ValueError, "non-empty"),
    ],
)
def test_bad_option_raises_an_error_naming_the_problem(kwargs, error, match):
    X = np.random.default_rng(1).standard_normal((30, 16))
    with pytest.raises(error, match=match):
        recommend_n_components(X, **kwargs)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("eps", 1.0, "a float in the range (0.0, 1.0)"),
        ("failure_probability", 0.0, "a float in the range (0.0, 1.0)"),
        ("n_pairs", 0, "an int in the range [1, inf)"),
        ("n_repeats", 0, "an int in the range [1, inf)"),
        ("max_fraction_outside", 1.0, "a float in the range [0.0, 1.0)"),
        (
            "n_components_grid",
            0,
            "an array-like, an int in the range [1, inf) or None",
        ),
        ("projection", "pca", "a str among {"),
        ("intrinsic_method", "pca", "a str among {"),
    ],
)
def test_bad_parameters_get_the_standard_message(name, value, expected):
    X = np.random.default_rng(1).standard_normal((30, 16))
    prefix = f"The {name!r} parameter of recommend_n_components must be {expected}"
    with pytest.raises(InvalidParameterError, match=re.escape(prefix)) as info:
        recommend_n_components(X, **{name: value})
    assert str(info.value).endswith(f"Got {value!r} instead.")


def test_a_label_column_of_a_dataframe_is_named():
    X = pd.DataFrame(np.random.default_rng(1).standard_normal((30, 4)))
    X.columns = ["a", "b", "c", "d"]
    X["d"] = pd.Categorical(np.arange(30) % 3)
    with pytest.raises(TypeError, match=r"recommend_n_components .*\['d'\] .*categ"):
        recommend_n_components(X)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.where(np.eye(30, 16) == 1, np.nan, 0.5), "NaN"),
        (np.arange(30.0), "2-D"),
        (np.eye(2, 16), "at least 3"),
    ],
)
def test_bad_data_raises_an_error_naming_the_problem(X, match):
    with pytest.raises(ValueError, match=match):
        recommend_n_components(X)
