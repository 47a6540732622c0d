"""Behaviour of SubspaceHeadClassifier as a scikit-learn classifier."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.head._presets import HEAD_PRESETS
from sklearn_subspace.projection import JLSubspaceTransformer
from sklearn_subspace.training import draw_seeds, stratified_indices

# Short fits that stop at their epoch cap on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def fast_head(**params):
    """A head that trains in well under a second on the small test data."""
    defaults = {"max_epochs": 10, "batch_size": 32, "device": "cpu"}
    return SubspaceHeadClassifier(**{**defaults, **params})


def minibatch_head(**params):
    """A head trained by AdamW on mini-batches, with a validation split."""
    return fast_head(**{"optimizer": "adamw", "lr": 1e-2, **params})


# -- labels ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([-7, 10, 1000]),
        np.array([1.0, 2.0, 5.0]),
    ],
    ids=["strings", "non_contiguous_ints", "integral_floats"],
)
def test_predict_returns_original_labels(data, labels):
    X, y = data
    y_labels = labels[y]
    clf = fast_head(random_state=0).fit(X, y_labels)
    assert_array = np.testing.assert_array_equal
    assert_array(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y_labels.dtype
    assert set(pred) <= set(labels)
    assert clf.score(X, y_labels) > 0.9


def test_binary_decision_function_is_log_odds_of_second_class(data):
    X, y = data
    y_bin = np.where(y == 0, "no", "yes")
    clf = fast_head(random_state=0).fit(X, y_bin)
    scores = clf.decision_function(X)
    proba = clf.predict_proba(X)
    assert scores.shape == (len(X),)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(
        proba[:, 1], 1 / (1 + np.exp(-scores.astype(np.float64))), atol=1e-5
    )
    np.testing.assert_array_equal(clf.predict(X), np.where(scores > 0, "yes", "no"))


def test_multiclass_decision_function_is_logits_argmax_consistent(data):
    X, y = data
    clf = fast_head(random_state=0).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X), 3)
    assert scores.dtype == np.float32
    np.testing.assert_array_equal(clf.classes_[scores.argmax(1)], clf.predict(X))


def test_single_class_is_rejected_with_clear_message(data):
    X, _ = data
    with pytest.raises(ValueError, match="at least 2 classes"):
        fast_head().fit(X, np.zeros(len(X)))


def test_continuous_target_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="Unknown label type"):
        fast_head().fit(X, np.linspace(0, 1, len(X)))


@settings(max_examples=8, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=1, max_value=1000), min_size=3, max_size=3),
    as_strings=st.booleans(),
)
def test_predictions_invariant_to_order_preserving_relabelling(offsets, as_strings):
    # Labels are encoded by sorted order, so any strictly increasing
    # relabelling must give the very same model.
    X, y = make_classification(
        n_samples=90, n_features=8, n_informative=5, n_classes=3, random_state=1
    )
    new_labels = np.cumsum(offsets)
    if as_strings:
        new_labels = np.array([f"class_{v:06d}" for v in new_labels])
    clf_a = fast_head(max_epochs=3, random_state=0).fit(X, y)
    clf_b = fast_head(max_epochs=3, random_state=0).fit(X, new_labels[y])
    np.testing.assert_array_equal(new_labels[clf_a.predict(X)], clf_b.predict(X))
    np.testing.assert_array_equal(clf_a.predict_proba(X), clf_b.predict_proba(X))


# -- probabilities ------------------------------------------------------------------


def test_probabilities_sum_to_one_and_match_predict(data):
    X, y = data
    clf = fast_head(random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    assert proba.min() >= 0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X))
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(X)), proba, rtol=1e-5, atol=1e-7
    )


# -- determinism and global state ----------------------------------------------------


@pytest.mark.parametrize("hidden", [(), (16,)])
@pytest.mark.parametrize("early_stopping", [True, False])
def test_integer_random_state_gives_identical_fits(data, hidden, early_stopping):
    X, y = data
    params = {
        "hidden_layer_sizes": hidden,
        "early_stopping": early_stopping,
        "random_state": 42,
    }
    proba_a = fast_head(**params).fit(X, y).predict_proba(X)
    proba_b = fast_head(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(proba_a, proba_b)


def test_different_random_states_give_different_mlp_heads(data):
    # (The linear head starts its convex problem at zero: seed-free, see
    # test_fit_options.py.)
    X, y = data
    proba_a = minibatch_head(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    proba_b = minibatch_head(hidden_layer_sizes=(8,), random_state=1).fit(X, y)
    assert not np.array_equal(proba_a.predict_proba(X), proba_b.predict_proba(X))


def test_fit_leaves_global_random_state_untouched(data):
    X, y = data
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    fast_head(hidden_layer_sizes=(8,), bottleneck=5, random_state=0).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_fit_is_independent_of_global_torch_seed(data):
    X, y = data
    torch.manual_seed(1)
    proba_a = fast_head(random_state=3).fit(X, y).predict_proba(X)
    torch.manual_seed(2)
    proba_b = fast_head(random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(proba_a, proba_b)


# -- early stopping ----------------------------------------------------------------


def _validation_loss(clf, X, y):
    """Cross-entropy of ``clf`` on the validation part its fit held out."""
    split_seed = draw_seeds(clf.random_state)["split"]
    y_idx = np.searchsorted(clf.classes_, y)
    _, valid_idx = stratified_indices(y_idx, clf.validation_fraction, split_seed)
    log_proba = clf.predict_log_proba(X[valid_idx]).astype(np.float64)
    return -log_proba[np.arange(len(valid_idx)), y_idx[valid_idx]].mean()


def test_early_stopping_stops_and_restores_best_weights():
    # Pure-noise labels and a big MLP with a high learning rate: the
    # validation loss bottoms out early, then climbs as the net memorises.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 30)).astype(np.float32)
    y = rng.randint(0, 2, size=400)
    clf = minibatch_head(
        hidden_layer_sizes=(256,),
        lr=3e-2,
        max_epochs=200,
        patience=3,
        validation_fraction=0.25,
        random_state=0,
    ).fit(X, y)
    valid_losses = clf.net_.history[:, "valid_loss"]

    assert clf.n_iter_ < 200
    assert clf.n_iter_ == clf.best_epoch_ + 3
    assert clf.best_epoch_ == int(np.argmin(valid_losses)) + 1
    assert clf.validation_size_ == 100
    # The head holds the best epoch's weights, not the last epoch's.
    restored = _validation_loss(clf, X, y)
    np.testing.assert_allclose(restored, min(valid_losses), rtol=1e-4)
    assert restored < valid_losses[-1]


def test_validation_split_is_stratified_and_held_out(data):
    X, y = data
    clf = minibatch_head(random_state=0, validation_fraction=0.2).fit(X, y)
    split_seed = draw_seeds(0)["split"]
    train_idx, valid_idx = stratified_indices(y, 0.2, split_seed)
    assert clf.validation_size_ == len(valid_idx) == 60
    assert np.intersect1d(train_idx, valid_idx).size == 0
    np.testing.assert_array_equal(np.bincount(y[valid_idx]), [20, 20, 20])
    history = clf.net_.history
    train_batches = [b for b in history[0, "batches"] if "train_loss" in b]
    assert len(train_batches) == int(np.ceil(240 / 32))
    assert sum(b["train_batch_size"] for b in train_batches) == 240


def test_without_early_stopping_all_data_trains_for_max_epochs(data):
    X, y = data
    clf = minibatch_head(early_stopping=False, max_epochs=4, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ == clf.best_epoch_ == 4
    assert clf.validation_size_ == 0
    batches = clf.net_.history[0, "batches"]
    assert len(batches) == int(np.ceil(300 / 32))
    assert sum(b["train_batch_size"] for b in batches) == 300
    assert "valid_loss" not in clf.net_.history[-1]


def test_tiny_class_turns_early_stopping_off_with_warning(data):
    X, y = data
    y = y.copy()
    y[0] = 7  # a class with a single sample cannot sit on both sides
    with pytest.warns(UserWarning, match="1 class\\(es\\) have a single sample"):
        clf = minibatch_head(max_epochs=3, random_state=0).fit(X, y)
    assert clf.validation_size_ == 0
    assert clf.n_iter_ == 3
    assert 7 in clf.classes_


def test_validation_part_holds_at_least_one_sample_per_class():
    X, y = make_classification(
        n_samples=20, n_features=5, n_informative=3, n_classes=4, random_state=0
    )
    # ceil(0.1 * 20) = 2 slots would leave classes out of the validation part.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = minibatch_head(max_epochs=2, tol=None, random_state=0).fit(X, y)
    assert clf.validation_size_ == 4
    _, valid_idx = stratified_indices(y, 0.1, draw_seeds(0)["split"])
    np.testing.assert_array_equal(np.bincount(y[valid_idx]), [1, 1, 1, 1])


def test_too_small_training_part_turns_early_stopping_off():
    X, y = make_classification(
        n_samples=20, n_features=5, n_informative=3, n_classes=4, random_state=0
    )
    with pytest.warns(UserWarning, match="leaves 2 training samples for 4 classes"):
        clf = minibatch_head(max_epochs=2, validation_fraction=0.9).fit(X, y)
    assert clf.validation_size_ == 0


def test_history_holds_batch_losses_and_their_epoch_means(data):
    X, y = data
    clf = minibatch_head(max_epochs=3, random_state=0).fit(X, y)
    for epoch in clf.net_.history:
        for prefix in ("train", "valid"):
            batches = [b for b in epoch["batches"] if f"{prefix}_loss" in b]
            assert epoch[f"{prefix}_batch_count"] == len(batches)
            losses = [b[f"{prefix}_loss"] for b in batches]
            sizes = [b[f"{prefix}_batch_size"] for b in batches]
            assert all(isinstance(v, float) and np.isfinite(v) for v in losses)
            np.testing.assert_allclose(
                epoch[f"{prefix}_loss"], np.average(losses, weights=sizes), rtol=1e-6
            )


def test_verbose_prints_an_epoch_table_and_silent_by_default(data, capsys):
    X, y = data
    minibatch_head(max_epochs=2, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""
    minibatch_head(max_epochs=2, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    for column in ("epoch", "train_loss", "valid_loss"):
        assert column in out


# -- pickling and devices ----------------------------------------------------------


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_round_trip_gives_identical_predictions(data, tmp_path, dump):
    X, y = data
    clf = fast_head(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "head.joblib")
        restored = joblib.load(tmp_path / "head.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.n_iter_ == clf.n_iter_


def test_device_auto_resolves_to_an_available_device(data):
    X, y = data
    clf = fast_head(device="auto", max_epochs=1, random_state=0).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else clf.device_
    assert clf.device_ == expected
    assert clf.device_ in {"cpu", "cuda", "mps"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_request_without_cuda_names_the_fix(data):
    X, y = data
    with pytest.raises(ValueError, match="CUDA is not available.*device='cpu'"):
        fast_head(device="cuda").fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_head_saved_from_cuda_loads_on_cpu_only_machine(data):
    # Stand-in for a GPU-trained head: skorch records the net's device in
    # the pickle and maps it to the CPU when CUDA is absent at load time.
    X, y = data
    clf = fast_head(random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restored = pickle.loads(pickle.dumps(clf))
    assert any("no CUDA devices are available" in str(w.message) for w in caught)
    assert str(restored.net_.device) == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_matches_cpu_closely(data):
    X, y = data
    cpu = fast_head(device="cpu", random_state=0).fit(X, y)
    gpu = fast_head(device="cuda", random_state=0).fit(X, y)
    assert gpu.device_ == "cuda"
    assert np.mean(gpu.predict(X) == cpu.predict(X)) > 0.95
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(
        restored.predict_proba(X), gpu.predict_proba(X), atol=1e-5
    )


# -- input validation --------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(data, bad):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        fast_head().fit(X, y)
    clf = fast_head(max_epochs=1, random_state=0).fit(data[0], y)
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        clf.predict(X)


def test_wrong_width_at_predict_is_rejected(data):
    X, y = data
    clf = fast_head(max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 19 features.*expecting 20"):
        clf.predict(X[:, :-1])


def test_wrong_ndim_is_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="Expected 2D array"):
        fast_head().fit(X[:, 0], y)


def test_float64_input_is_cast_to_float32_without_changing_results(data):
    X, y = data
    clf32 = fast_head(random_state=0).fit(X, y)
    clf64 = fast_head(random_state=0).fit(X.astype(np.float64), y)
    np.testing.assert_array_equal(clf32.predict_proba(X), clf64.predict_proba(X))
    assert clf32.predict_proba(X.astype(np.float64)).dtype == np.float32


def test_dataframe_input_records_feature_names(data):
    X, y = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = fast_head(max_epochs=1, random_state=0).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    assert clf.predict(df).shape == (len(df),)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"optimizer": "adam"}, ValueError, "'optimizer' parameter.*among"),
        ({"lr": 0.0}, ValueError, r"'lr' parameter.*range \(0.0, inf\)"),
        ({"lr": "fast"}, TypeError, "'lr' parameter.*float"),
        ({"weight_decay": -1.0}, ValueError, "'weight_decay' parameter"),
        ({"momentum": 1.0}, ValueError, r"'momentum' parameter.*range \[0.0, 1.0\)"),
        ({"max_epochs": 0}, ValueError, r"'max_epochs' parameter.*\[1, inf\)"),
        ({"batch_size": 2.5}, TypeError, "'batch_size' parameter.*int"),
        ({"patience": 0}, ValueError, "'patience' parameter"),
        ({"tol": -1.0}, ValueError, "'tol' parameter"),
        ({"validation_fraction": 1.0}, ValueError, "'validation_fraction' parameter"),
        ({"class_weight": "even"}, ValueError, "'class_weight' parameter"),
        ({"hidden_layer_sizes": (8, 0)}, ValueError, "positive ints"),
        ({"hidden_layer_sizes": "8"}, TypeError, "'hidden_layer_sizes' parameter"),
        (
            {"hidden_layer_sizes": (10**12,)},
            ValueError,
            r"would need .* GiB .* Use smaller hidden_layer_sizes",
        ),
        ({"bottleneck": 0}, ValueError, "'bottleneck' parameter"),
        ({"bottleneck": 21}, ValueError, "bottleneck=21 is wider than the 20"),
        ({"device": "tpu"}, ValueError, "Unknown device 'tpu'"),
    ],
)
def test_bad_hyper_parameters_are_rejected_at_fit(data, params, error, message):
    X, y = data
    clf = fast_head(**params)  # construction never validates
    with pytest.raises(error, match=message):
        clf.fit(X, y)


def test_validation_fraction_has_no_effect_without_early_stopping(data):
    X, y = data
    clf = minibatch_head(early_stopping=False, validation_fraction=0.5, max_epochs=1)
    assert clf.fit(X, y).validation_size_ == 0


# -- architecture and optimizers ------------------------------------------------------


def test_linear_head_has_paper_shape(data):
    X, y = data
    clf = fast_head(max_epochs=1, random_state=0).fit(X, y)
    shapes = [tuple(p.shape) for p in clf.net_.module_.parameters()]
    assert shapes == [(3, 20), (3,)]


def test_mlp_and_bias_free_bottleneck_shapes(data):
    X, y = data
    clf = fast_head(
        hidden_layer_sizes=(16, 8), bottleneck=6, max_epochs=1, random_state=0
    ).fit(X, y)
    named = {n: tuple(p.shape) for n, p in clf.net_.module_.named_parameters()}
    assert named == {
        "layers.0.weight": (6, 20),
        "layers.1.weight": (16, 6),
        "layers.1.bias": (16,),
        "layers.3.weight": (8, 16),
        "layers.3.bias": (8,),
        "layers.5.weight": (3, 8),
        "layers.5.bias": (3,),
    }


def test_integer_hidden_layer_sizes_means_one_layer(data):
    X, y = data
    clf = fast_head(hidden_layer_sizes=12, max_epochs=1, random_state=0).fit(X, y)
    assert clf.net_.module_.layers[0].out_features == 12
    assert clf.hidden_layer_sizes == 12  # the parameter itself is untouched


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_optimizer_choice_and_settings_reach_torch(data, optimizer):
    X, y = data
    clf = fast_head(
        optimizer=optimizer, lr=1e-2, weight_decay=0.01, momentum=0.5, max_epochs=1
    ).fit(X, y)
    torch_opt = clf.net_.optimizer_
    expected = torch.optim.AdamW if optimizer == "adamw" else torch.optim.SGD
    assert type(torch_opt) is expected
    group = torch_opt.param_groups[0]
    assert group["lr"] == 1e-2
    assert group["weight_decay"] == 0.01
    if optimizer == "sgd":
        assert group["momentum"] == 0.5


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_both_optimizers_learn(data, optimizer):
    X, y = data
    clf = minibatch_head(optimizer=optimizer, early_stopping=False, random_state=0)
    train_loss = clf.fit(X, y).net_.history[:, "train_loss"]
    assert train_loss[-1] < 0.5 * train_loss[0]
    assert clf.score(X, y) > 0.75  # chance is 1/3


# -- presets --------------------------------------------------------------------------


_TORCH_OPTIMIZERS = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}


@pytest.mark.parametrize("name", list(HEAD_PRESETS))
def test_presets_fit_with_exactly_their_settings(data, name):
    preset = HEAD_PRESETS[name]
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fixed protocol never warns
        clf = SubspaceHeadClassifier.from_preset(
            name, device="cpu", random_state=0
        ).fit(X, y)
    assert {key: clf.get_params()[key] for key in preset} == dict(preset)
    optimizer = clf.net_.optimizer_
    assert type(optimizer) is _TORCH_OPTIMIZERS[preset["optimizer"]]
    group = optimizer.param_groups[0]
    for setting in ("lr", "weight_decay", "momentum"):
        if setting in preset:
            assert group[setting] == preset[setting]
    # tol=None: every epoch of the protocol runs, in batches of its size,
    # with the kept epoch chosen on the validation split.
    assert preset["tol"] is None
    assert clf.n_iter_ == len(clf.net_.history) == preset["max_epochs"]
    sizes = [
        b["train_batch_size"]
        for b in clf.net_.history[0, "batches"]
        if "train_loss" in b
    ]
    assert max(sizes) == preset["batch_size"]
    assert sum(sizes) == len(X) - clf.validation_size_
    valid_losses = clf.net_.history[:, "valid_loss"]
    assert clf.best_epoch_ == int(np.argmin(valid_losses)) + 1


def test_preset_arguments_can_be_overridden():
    clf = SubspaceHeadClassifier.from_preset("resnet50", lr=0.1, random_state=3)
    assert (clf.lr, clf.random_state, clf.optimizer) == (0.1, 3, "sgd")


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ValueError, match="'resnet50', 'vit_b_16', 'bert-base-uncased'"):
        SubspaceHeadClassifier.from_preset("resnet18")


# -- model selection ---------------------------------------------------------------


def test_grid_search_over_lr_and_hidden_sizes_with_projection():
    X, y = make_classification(
        n_samples=240,
        n_features=64,
        n_informative=8,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    pipe = Pipeline(
        [
            ("jl", JLSubspaceTransformer(16, random_state=0)),
            ("head", minibatch_head(max_epochs=8, tol=None, random_state=0)),
        ]
    )
    grid = {"head__lr": [1e-4, 1e-2], "head__hidden_layer_sizes": [(), (16,)]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warnings on this data
        search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    results = pd.DataFrame(search.cv_results_)
    assert len(results) == 4
    assert np.isfinite(results["mean_test_score"]).all()
    # A 100x smaller step learns far less in 5 epochs.
    assert search.best_params_["head__lr"] == 1e-2
    best_head = search.best_estimator_.named_steps["head"]
    assert best_head.n_features_in_ == 16
    assert search.best_score_ > 0.7  # chance is 1/3


def test_clone_gives_unfitted_copy_with_same_params(data):
    X, y = data
    clf = fast_head(hidden_layer_sizes=(4,), random_state=0).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "net_")
