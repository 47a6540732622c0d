"""Behaviour of `compression_study`: table, baselines, extract-once, seeds, errors."""

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.projection import JLSubspaceTransformer
from sklearn_subspace.study import StudyResult, compression_study
from sklearn_subspace.study._study import _build_model, default_n_components
from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    forward_pass_count,
    reset_forward_pass_count,
)
from tests.conftest import make_fast_head

STUDY = dict(
    n_components=[16, 4],
    projections=["gaussian", "srht"],
    seeds=2,
    intrinsic_dimension=False,
    progress=False,
)


def _without_times(table):
    return table.drop(columns=["fit_time"])


@pytest.fixture(scope="module")
def small_study(shared_features):
    # Run once: the tests that take it only read its table.
    return compression_study(*shared_features, head=make_fast_head(), **STUDY)


# -- the table ----------------------------------------------------------------------
def test_table_has_one_row_per_method_k_and_seed(small_study):
    table = small_study.table
    # full once per seed; each projection and each k-baseline per (k, seed).
    assert len(table) == 2 + 4 * 2 * 2
    assert list(table.columns[:8]) == [
        "teacher",
        "method",
        "n_components",
        "compression_ratio",
        "seed",
        "test_accuracy",
        "delta",
        "fit_time",
    ]
    counts = table.groupby(["method", "n_components"]).size()
    assert (counts == 2).all()
    assert set(table["method"]) == {"full", "gaussian", "srht", "pca", "learned"}
    assert table.loc[table["method"] == "full", "n_components"].unique().tolist() == [
        32
    ]
    assert table["teacher"].unique().tolist() == ["features"]
    assert table["n_components"].dtype == np.int64
    assert table["test_accuracy"].dtype == np.float64


def test_compression_ratio_is_d_over_k(small_study):
    table = small_study.table
    np.testing.assert_array_equal(
        table["compression_ratio"], 32 / table["n_components"].to_numpy()
    )


def test_delta_is_accuracy_minus_mean_full_accuracy_over_seeds(small_study):
    table = small_study.table
    full_mean = table.loc[table["method"] == "full", "test_accuracy"].mean()
    np.testing.assert_allclose(table["delta"], table["test_accuracy"] - full_mean)
    assert small_study.baseline_accuracy()["features"] == pytest.approx(full_mean)


def test_accuracies_are_fractions_and_fit_times_positive(small_study):
    table = small_study.table
    assert table["test_accuracy"].between(0, 1).all()
    assert (table["fit_time"] > 0).all()
    # Well separated classes: the full head must learn something.
    assert table.loc[table["method"] == "full", "test_accuracy"].mean() > 0.6


def test_accuracy_is_the_share_of_correct_test_predictions(features, fast_head):
    X_train, y_train, X_test, y_test = features
    result = compression_study(
        *features,
        head=fast_head,
        n_components=[8],
        projections=["sparse"],
        baselines=[],
        seeds=[7],
        intrinsic_dimension=False,
        progress=False,
    )
    manual = Pipeline(
        [
            ("jl", JLSubspaceTransformer(8, projection="sparse", random_state=7)),
            (
                "head",
                SubspaceHeadClassifier(**{**fast_head.get_params(), "random_state": 7}),
            ),
        ]
    ).fit(X_train, y_train)
    expected = np.mean(manual.predict(X_test) == y_test)
    assert result.table["test_accuracy"].tolist() == [expected]


def test_without_full_baseline_delta_is_nan(features, fast_head):
    result = compression_study(
        *features, head=fast_head, baselines=["pca"], **{**STUDY, "projections": []}
    )
    assert set(result.table["method"]) == {"pca"}
    assert result.table["delta"].isna().all()


def test_default_k_grid_is_powers_of_two_below_d():
    assert default_n_components(2048) == [1024, 512, 256, 128, 64, 32, 16, 8]
    assert default_n_components(32) == [16, 8]
    assert default_n_components(5) == [2]


def test_default_k_grid_is_used_when_n_components_is_none(features, fast_head):
    result = compression_study(
        *features,
        head=fast_head,
        n_components=None,
        projections=["gaussian"],
        baselines=[],
        seeds=1,
        intrinsic_dimension=False,
        progress=False,
    )
    assert result.table["n_components"].tolist() == [16, 8]


def test_intrinsic_dimension_is_added_to_table_and_report(features, fast_head):
    result = compression_study(
        *features,
        head=fast_head,
        n_components=[4],
        projections=["gaussian"],
        baselines=["full"],
        seeds=1,
        progress=False,
    )
    estimate = result.intrinsic_dimension
    assert 1 < estimate < 32
    assert (result.table["intrinsic_dimension"] == estimate).all()
    assert f"{estimate:.1f}" in result.to_markdown()


# -- seeds and determinism --------------------------------------------------------------
def test_each_seed_draws_a_new_matrix_and_a_new_head_init(fast_head, features):
    X_train, y_train = features[:2]
    models = [_build_model("gaussian", 8, seed, fast_head) for seed in (0, 1)]
    for model in models:
        model.fit(X_train, y_train)
    assert models[0]["reduce"].random_state == 0
    assert models[1]["head"].random_state == 1
    assert not np.allclose(
        models[0]["reduce"].components_, models[1]["reduce"].components_
    )
    weights = [m["head"].net_.module_.state_dict() for m in models]
    first = next(iter(weights[0]))
    assert not np.allclose(weights[0][first], weights[1][first])


def test_learned_baseline_sets_the_bottleneck_to_k(fast_head):
    model = _build_model("learned", 6, 3, fast_head, fast_head)
    assert model["reduce"] == "passthrough"
    assert model["head"].bottleneck == 6
    assert fast_head.bottleneck is None  # the user's head is not modified


def test_learned_head_trains_only_the_learned_baseline(features, fast_head):
    head = clone(fast_head).set_params(
        optimizer="adamw", early_stopping=False, tol=None, max_epochs=3
    )
    learned_head = clone(head).set_params(max_epochs=1, lr=1e-3)
    # 3 classes: a bottleneck of k = 1 < n_classes - 1 is trained.
    study = {**STUDY, "n_components": [4, 1]}
    result = compression_study(*features, head=head, learned_head=learned_head, **study)
    table = result.table.set_index(["method", "n_components"])
    assert table.loc[("learned", 1), "n_epochs"].tolist() == [1, 1]
    epochs = result.table.groupby("method")["n_epochs"].unique()
    assert {m: e.tolist() for m, e in epochs.items() if m != "learned"} == {
        "full": [3],
        "gaussian": [3],
        "srht": [3],
        "pca": [3],
    }
    model = _build_model("learned", 4, 7, head, learned_head)
    assert (model["head"].lr, model["head"].bottleneck) == (1e-3, 4)
    assert learned_head.bottleneck is None  # the user's head is not modified


def test_learned_bottleneck_that_can_hold_the_full_head_is_the_full_head(
    features, fast_head
):
    # 3 classes: a linear head needs 2 directions, so k = 4 and k = 2 can
    # compute exactly what the full head computes; k = 1 cannot.
    study = {**STUDY, "n_components": [4, 2, 1], "projections": []}
    table = compression_study(*features, head=fast_head, **study).table
    full = table[table["method"] == "full"].set_index("seed")
    learned = table[table["method"] == "learned"].set_index(["n_components", "seed"])
    for k in (4, 2):
        for seed in (0, 1):
            row = learned.loc[(k, seed)]
            assert row["test_accuracy"] == full.loc[seed, "test_accuracy"]
            assert row["fit_time"] == full.loc[seed, "fit_time"]
    trained = learned.loc[1]
    assert (trained["n_epochs"] != full["n_epochs"]).any() or (
        trained["test_accuracy"] != full["test_accuracy"]
    ).any()


def test_without_the_full_head_every_learned_bottleneck_is_trained(features, fast_head):
    head = clone(fast_head).set_params(
        optimizer="adamw", early_stopping=False, tol=None, max_epochs=2
    )
    study = {**STUDY, "projections": [], "baselines": ["learned"]}
    table = compression_study(*features, head=head, **study).table
    assert table["n_epochs"].tolist() == [2] * 4
    assert set(table["n_components"]) == {16, 4}


def test_learned_head_must_be_a_classifier_with_a_bottleneck(features, fast_head):
    with pytest.raises(
        TypeError, match="'learned_head' parameter of compression_study must be an"
    ):
        compression_study(*features, head=fast_head, learned_head=PCA(), **STUDY)
    with pytest.raises(ValueError, match="'learned' baseline needs a head.*Logistic"):
        compression_study(
            *features,
            head=fast_head,
            learned_head=LogisticRegression(),
            **STUDY,
        )


def test_integer_seeds_are_random_state_plus_offsets(small_study):
    assert sorted(small_study.table["seed"].unique()) == [0, 1]


def test_same_random_state_gives_identical_tables(features, fast_head, small_study):
    again = compression_study(*features, head=fast_head, **STUDY)
    assert_frame_equal(_without_times(again.table), _without_times(small_study.table))


def test_explicit_seed_list_is_used_as_given(features, fast_head):
    result = compression_study(
        *features, head=fast_head, **{**STUDY, "seeds": [11, 5], "projections": []}
    )
    assert result.table.loc[result.table["method"] == "full", "seed"].tolist() == [
        11,
        5,
    ]


# -- parallel runs ----------------------------------------------------------------------
@pytest.mark.slow  # starts a dask cluster
def test_dask_client_run_equals_serial_run(features, fast_head, small_study):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"
    ) as client:
        parallel = compression_study(*features, head=fast_head, client=client, **STUDY)
    assert_frame_equal(
        _without_times(parallel.table), _without_times(small_study.table)
    )


# -- extract once -------------------------------------------------------------------
def test_study_runs_the_teacher_once_per_sample(raw_inputs, tiny_teacher, fast_head):
    extractor = TorchFeatureExtractor(model=tiny_teacher, device="cpu")
    reset_forward_pass_count()
    result = compression_study(
        *raw_inputs, extractor=extractor, head=fast_head, **STUDY
    )
    n_samples = len(raw_inputs[0]) + len(raw_inputs[2])
    assert forward_pass_count() == n_samples
    assert len(result.table) == 18
    assert result.table["n_features"].unique().tolist() == [24]
    assert result.table["teacher"].unique().tolist() == ["TinyTeacher"]


def test_study_with_extractor_equals_study_on_its_features(
    raw_inputs, tiny_teacher, fast_head
):
    X_train, y_train, X_test, y_test = raw_inputs
    extractor = TorchFeatureExtractor(model=tiny_teacher, device="cpu")
    F_train = extractor.fit_transform(X_train)
    F_test = extractor.transform(X_test)
    on_inputs = compression_study(
        *raw_inputs, extractor=extractor, head=fast_head, teacher="t", **STUDY
    )
    on_features = compression_study(
        F_train, y_train, F_test, y_test, head=fast_head, teacher="t", **STUDY
    )
    assert_frame_equal(
        _without_times(on_inputs.table), _without_times(on_features.table)
    )


def test_grid_search_over_pipeline_runs_the_teacher_once_per_distinct_sample(
    raw_inputs, tiny_teacher, tmp_path
):
    X_train, y_train = raw_inputs[:2]
    pipe = Pipeline(
        [
            (
                "extract",
                TorchFeatureExtractor(tiny_teacher, device="cpu", cache_dir=tmp_path),
            ),
            ("jl", JLSubspaceTransformer(random_state=0)),
            (
                "head",
                SubspaceHeadClassifier(max_epochs=2, device="cpu", random_state=0),
            ),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"jl__n_components": [4, 8], "jl__projection": ["gaussian", "sparse"]},
        cv=3,
    )
    reset_forward_pass_count()
    search.fit(X_train, y_train)
    # 4 candidates x 3 folds + the refit would be 13 passes over the data
    # without the cache; with it, each distinct sample is computed once.
    assert forward_pass_count() == len(X_train)
    assert len(search.cv_results_["params"]) == 4


# -- errors ---------------------------------------------------------------------------
def test_k_larger_than_d_is_rejected_with_the_fix(features, fast_head):
    with pytest.raises(
        ValueError, match=r"k=64.*larger than the feature dimension d=32"
    ):
        compression_study(
            *features, head=fast_head, **{**STUDY, "n_components": [64, 8]}
        )


@pytest.mark.parametrize(
    "option, value, message",
    [
        (
            "projections",
            ["gaussian", "fourier"],
            r"Unknown projections 'fourier'.*'srht'",
        ),
        ("baselines", ["full", "lda"], r"Unknown baselines 'lda'.*'learned'"),
        ("seeds", 0, r"'seeds' parameter of compression_study must be an int"),
        ("seeds", 1.5, r"'seeds' parameter of compression_study must be an int"),
        ("seeds", [1, 2.5], r"seeds must be a non-empty sequence of ints"),
        ("n_components", [0], r"ints >= 1"),
        ("n_components", [4.0], r"must contain ints"),
        ("n_threads", 0, r"'n_threads' parameter .* in the range \[1, inf\)"),
        (
            "learned_head",
            "linear",
            r"'learned_head' parameter .* implementing 'fit' and 'predict'",
        ),
    ],
)
def test_bad_options_name_the_problem(features, fast_head, option, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        compression_study(*features, head=fast_head, **{**STUDY, option: value})


def test_nan_features_are_rejected(features, fast_head):
    X_train, y_train, X_test, y_test = features
    X_test = X_test.copy()
    X_test[3, 2] = np.nan
    with pytest.raises(ValueError, match="test features contain NaN or infinity"):
        compression_study(X_train, y_train, X_test, y_test, head=fast_head, **STUDY)


def test_train_and_test_feature_widths_must_match(features, fast_head):
    X_train, y_train, X_test, y_test = features
    with pytest.raises(ValueError, match="test features have 31 columns.*32"):
        compression_study(
            X_train, y_train, X_test[:, :31], y_test, head=fast_head, **STUDY
        )


def test_mismatched_label_length_is_rejected(features, fast_head):
    X_train, y_train, X_test, y_test = features
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        compression_study(
            X_train, y_train[:-1], X_test, y_test, head=fast_head, **STUDY
        )


def test_pca_k_above_training_samples_is_rejected(features, fast_head):
    X_train, y_train, X_test, y_test = features
    with pytest.raises(
        ValueError, match=r"'pca' baseline cannot keep k=16.*drop 'pca'"
    ):
        compression_study(
            X_train[:12], y_train[:12], X_test, y_test, head=fast_head, **STUDY
        )


def test_learned_baseline_needs_a_head_with_a_bottleneck(features):
    with pytest.raises(ValueError, match="'learned' baseline needs a head"):
        compression_study(*features, head=LogisticRegression(), **STUDY)


def test_any_classifier_can_be_the_head_without_learned_baseline(features):
    result = compression_study(
        *features,
        head=LogisticRegression(max_iter=200),
        **{**STUDY, "baselines": ["full"]},
    )
    assert isinstance(result, StudyResult)
    assert (
        result.table.loc[result.table["method"] == "full", "test_accuracy"].min() > 0.6
    )


def test_head_grid_is_chosen_on_training_data_and_reported(features, fast_head):
    result = compression_study(
        *features,
        head=fast_head,
        param_grid={"lr": [1e-3, 1e-2]},
        cv=2,
        **{**STUDY, "projections": ["gaussian"], "n_components": [8], "seeds": 1},
    )
    assert "head_params" in result.table
    chosen = result.table["head_params"].tolist()
    assert all(p in ("{'lr': 0.001}", "{'lr': 0.01}") for p in chosen)
    assert isinstance(result.table, pd.DataFrame)


def test_a_seed_free_head_fits_full_and_pca_once_per_k(features):
    # The default linear head (full-batch L-BFGS from zero) uses no
    # randomness, and neither do the full features or the exact PCA.
    head = SubspaceHeadClassifier(device="cpu")
    study = {**STUDY, "projections": ["gaussian"], "baselines": ["full", "pca"]}
    table = compression_study(*features, head=head, **study).table
    for (method, _k), rows in table.groupby(["method", "n_components"]):
        times = rows["fit_time"].unique()
        if method == "gaussian":  # a new matrix per seed
            assert len(times) == 2
        else:  # one fit, reported for every seed
            assert len(times) == 1
            assert rows["seed"].tolist() == [0, 1]
    # And a fit per seed gives the same numbers as the copy.
    again = compression_study(
        *features, head=head, **{**study, "seeds": [1], "projections": []}
    ).table
    copied = table[(table["seed"] == 1) & (table["method"] != "gaussian")]
    np.testing.assert_array_equal(
        again["test_accuracy"].to_numpy(), copied["test_accuracy"].to_numpy()
    )


def test_a_head_that_uses_its_seed_is_fitted_for_every_seed(features, fast_head):
    head = clone(fast_head).set_params(optimizer="adamw", max_epochs=2, tol=None)
    study = {**STUDY, "projections": [], "baselines": ["full"]}
    table = compression_study(*features, head=head, **study).table
    assert table["fit_time"].nunique() == 2
