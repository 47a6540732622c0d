import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.datasets import load_digits
from sklearn.exceptions import (
    ConvergenceWarning,
    NotFittedError,
)
from sklearn.model_selection import cross_val_score, train_test_split
from skorch.callbacks import Callback
from torch import nn

from sklearn_subspace.distill import StudentMLP, SubspaceDistiller
from sklearn_subspace.distill._training import (
    mixed_loss,
    split_rows,
    student_seeds,
    validation_split,
)
from sklearn_subspace.teachers import TorchFeatureExtractor


def _distiller(head, **params):
    # A fixed budget (tol=None) keeps these tests short and their epoch
    # counts exact; the stopping rule has tests of its own.
    settings = dict(
        student_params={"hidden_layer_sizes": (32,)},
        n_components=8,
        max_epochs=8,
        tol=None,
        batch_size=32,
        lr=3e-3,
        device="cpu",
        random_state=0,
        head=head,
    )
    return SubspaceDistiller(StudentMLP, **{**settings, **params})


def _rows(y, seed=0, validation_fraction=0.1):
    """The training and validation rows a distiller fitted with ``seed`` uses."""
    _, y_idx = np.unique(y, return_inverse=True)
    split_seed = student_seeds(seed)["split"]
    return split_rows(validation_split(y_idx, validation_fraction, split_seed), y_idx)


# -- shapes and the width check ---------------------------------------------


def test_transform_returns_k_float32_outputs_and_names(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    distiller = _distiller(fast_head).fit(X, y, teacher_features=F)
    Z = distiller.transform(X_test)
    assert Z.shape == (len(X_test), 8)
    assert Z.dtype == np.float32
    assert distiller.n_components_ == 8
    assert distiller.n_teacher_features_ == F.shape[1]
    assert distiller.projection_.n_features_in_ == F.shape[1]
    assert distiller.head_.n_features_in_ == 8
    assert list(distiller.get_feature_names_out()[:2]) == [
        "subspacedistiller0",
        "subspacedistiller1",
    ]
    assert distiller.predict_proba(X_test).shape == (len(X_test), 3)
    np.testing.assert_allclose(
        distiller.predict_proba(X_test).sum(axis=1), 1, rtol=1e-5
    )


class _CountingTeacher(TransformerMixin, BaseEstimator):
    """A fitted teacher that records how often it runs."""

    calls = 0

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        type(self).calls += 1
        return np.maximum(np.asarray(X, dtype=np.float32), 0)


def test_wrong_student_width_fails_before_the_teacher_runs(problem, fast_head):
    X, y, *_ = problem
    _CountingTeacher.calls = 0
    teacher = _CountingTeacher().fit(X)
    distiller = _distiller(
        fast_head,
        teacher=teacher,
        student_params={"hidden_layer_sizes": (8,), "n_outputs": 5},
    )
    with pytest.raises(ValueError, match=r"width n_components=8.*shape \(1, 5\)"):
        distiller.fit(X, y)
    assert _CountingTeacher.calls == 0


def test_student_factory_receives_n_components_as_n_outputs(problem, fast_head):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head, n_components=5).fit(X, y, teacher_features=F)
    assert distiller.student_.module.output.out_features == 5


def test_custom_student_class_without_n_outputs_is_built_from_student_params(
    problem, fast_head
):
    X, y, F, X_test, _, _ = problem

    class Linear(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.layer = nn.Linear(12, width)

        def forward(self, X):
            return self.layer(X)

    distiller = SubspaceDistiller(
        Linear,
        student_params={"width": 6},
        n_components=6,
        max_epochs=2,
        tol=None,
        device="cpu",
        random_state=0,
        head=fast_head,
    ).fit(X, y, teacher_features=F)
    assert distiller.transform(X_test).shape == (len(X_test), 6)


def test_image_shaped_inputs_keep_their_shape(fast_head):
    rng = np.random.default_rng(0)
    X = rng.random((60, 1, 4, 4), dtype=np.float32)
    y = np.arange(60) % 2
    distiller = _distiller(fast_head, n_components=4, max_epochs=2).fit(X, y)
    assert distiller.input_shape_ == (1, 4, 4)
    assert distiller.n_teacher_features_ == 16  # the identity teacher flattens
    assert distiller.transform(X[:3]).shape == (3, 4)
    with pytest.raises(ValueError, match=r"samples of shape \(1, 2, 8\).*\(1, 4, 4\)"):
        distiller.transform(X[:3].reshape(3, 1, 2, 8))


# -- training ----------------------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "cosine"])
def test_training_loss_decreases(problem, fast_head, loss):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head, loss=loss).fit(X, y, teacher_features=F)
    losses = distiller.history_["train_loss"]
    assert len(losses) == distiller.n_iter_ == 8
    assert losses[-1] < 0.5 * losses[0]
    assert all(np.isfinite(distiller.history_["valid_accuracy"]))


def test_history_tracks_validation_accuracy_and_best_epoch_is_kept(problem, fast_head):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head).fit(X, y, teacher_features=F)
    history = distiller.history_
    assert history["epoch"] == list(range(1, 9))
    best = distiller.best_epoch_
    assert history["valid_accuracy"][best - 1] == max(history["valid_accuracy"])
    assert distiller.validation_size_ == 18  # 10 % of 180, rounded up
    # The kept weights are those of the first best epoch: re-scoring
    # reproduces it.
    assert best == 1 + history["valid_accuracy"].index(max(history["valid_accuracy"]))
    train_idx, valid_idx = _rows(y)
    accuracy = distiller.score(X[valid_idx], y[valid_idx])
    assert accuracy == pytest.approx(history["valid_accuracy"][best - 1])


def test_no_validation_keeps_the_last_epoch(problem, fast_head):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head, validation_fraction=None, max_epochs=3)
    distiller.fit(X, y, teacher_features=F)
    assert distiller.best_epoch_ == 3
    assert distiller.validation_size_ == 0
    assert np.isnan(distiller.history_["valid_accuracy"]).all()


def test_cosine_outputs_are_rescaled_to_the_mean_target_norm(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    distiller = _distiller(fast_head, loss="cosine").fit(X, y, teacher_features=F)
    norms = np.linalg.norm(distiller.transform(X_test), axis=1)
    train_idx, _ = _rows(y)
    target_norm = np.linalg.norm(distiller.projection_.transform(F[train_idx]), axis=1)
    np.testing.assert_allclose(norms, target_norm.mean(), rtol=1e-4)


def test_student_regresses_the_projected_teacher_features(problem, fast_head):
    X, y, F, X_test, _, F_test = problem
    distiller = _distiller(fast_head, max_epochs=30).fit(X, y, teacher_features=F)
    target = distiller.projection_.transform(F_test)
    residual = np.mean((distiller.transform(X_test) - target) ** 2)
    assert residual < 0.25 * np.var(target)


# -- the mixed objective -------------------------------------------------------


def test_mixed_loss_is_alpha_cross_entropy_plus_the_rest_mse():
    torch.manual_seed(0)
    head = nn.Linear(4, 3).requires_grad_(False)
    outputs = torch.randn(6, 4, requires_grad=True)
    targets, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    weights = torch.tensor([1.0, 2.0, 0.5, 1.0, 1.0, 3.0])

    def restore(o):
        return 2.0 * o + 1.0

    loss = mixed_loss(head, restore, alpha=0.3)(outputs, y, targets, weights)
    ce = nn.functional.cross_entropy(head(restore(outputs)), y, reduction="none")
    mse = (outputs - targets).square().mean(dim=1)
    expected = ((0.3 * ce + 0.7 * mse) * weights).sum() / weights.sum()
    torch.testing.assert_close(loss, expected)
    # alpha=1: the targets play no part.
    ce_only = mixed_loss(head, restore, alpha=1.0)
    assert ce_only(outputs, y, targets) == ce_only(outputs, y, targets + 5.0)
    # A class the head never saw (-100 in label_map) is left out of the mean.
    label_map = torch.tensor([0, -100, 1])
    partial = mixed_loss(head, restore, alpha=1.0, label_map=label_map)
    kept = (y != 1).nonzero().ravel()
    mapped = label_map[y[kept]]
    torch.testing.assert_close(
        partial(outputs, y, targets),
        nn.functional.cross_entropy(
            head(restore(outputs[kept])), mapped, reduction="sum"
        )
        / len(y),
    )


def test_mixed_with_alpha_zero_trains_exactly_as_mse(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    mse = _distiller(fast_head, loss="mse").fit(X, y, teacher_features=F)
    mixed = _distiller(fast_head, loss="mixed", alpha=0.0)
    mixed.fit(X, y, teacher_features=F)
    assert mixed.history_ == mse.history_
    for ours, theirs in zip(
        mixed.student_.state_dict().values(), mse.student_.state_dict().values()
    ):
        assert torch.equal(ours, theirs)
    np.testing.assert_array_equal(mixed.transform(X_test), mse.transform(X_test))


def test_alpha_is_ignored_by_the_other_losses(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    first = _distiller(fast_head, loss="cosine", alpha=0.1, max_epochs=3)
    second = _distiller(fast_head, loss="cosine", alpha=0.9, max_epochs=3)
    np.testing.assert_array_equal(
        first.fit(X, y, teacher_features=F).transform(X_test),
        second.fit(X, y, teacher_features=F).transform(X_test),
    )


def test_mixed_with_alpha_one_learns_the_labels_through_the_frozen_head(
    problem, fast_head
):
    X, y, F, X_test, y_test, F_test = problem
    distiller = _distiller(fast_head, loss="mixed", alpha=1.0, max_epochs=30)
    distiller.fit(X, y, teacher_features=F)
    losses = distiller.history_["train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    # The loss is the head's cross-entropy on the student's outputs: below
    # that of a uniform guess over the 3 classes.
    assert 0 < losses[distiller.best_epoch_ - 1] < np.log(3)
    assert distiller.score(X_test, y_test) > 0.8
    # Nothing pulls the outputs to the targets: they drift away from them,
    # further than the MSE student's.
    target = distiller.projection_.transform(F_test)
    mse = _distiller(fast_head, max_epochs=30).fit(X, y, teacher_features=F)
    residual = np.mean((distiller.transform(X_test) - target) ** 2)
    assert residual > 2 * np.mean((mse.transform(X_test) - target) ** 2)


def test_mixed_training_leaves_the_head_as_fitted_on_the_teacher(problem, fast_head):
    X, y, F, X_test, _, F_test = problem
    distiller = _distiller(fast_head, loss="mixed", alpha=0.7)
    distiller.fit(X, y, teacher_features=F)
    # The head equals one fitted alone on the projected teacher features,
    # with the seed the distiller derives: the student's gradient never
    # reached it, nor left gradients on it.
    train_idx, _ = _rows(y)
    Z = distiller.projection_.transform(F)
    reference = clone(fast_head).set_params(random_state=student_seeds(0)["head"])
    reference.fit(Z[train_idx], y[train_idx])
    for ours, theirs in zip(
        distiller.head_.net_.module_.parameters(),
        reference.net_.module_.parameters(),
    ):
        assert torch.equal(ours, theirs)
        # Gradients left by the head's own last step, and nothing added.
        assert (ours.grad is None) == (theirs.grad is None)
        assert ours.grad is None or torch.equal(ours.grad, theirs.grad)
    Z_test = distiller.transform(X_test)
    np.testing.assert_array_equal(distiller.predict(X_test), reference.predict(Z_test))


def test_mixed_ignores_a_class_the_head_never_saw():
    # One sample of class 2, which a seed's validation split holds out: the
    # head has no logit for it, and its row is left out of the cross-entropy.
    X = np.random.default_rng(0).random((40, 5), dtype=np.float32)
    y = np.array([0] * 20 + [1] * 19 + [2])
    seed = next(s for s in range(100) if 39 in _rows(y, seed=s)[1])
    distiller = SubspaceDistiller(
        StudentMLP, n_components=3, loss="mixed", alpha=1.0, max_epochs=3,
        tol=None, device="cpu", random_state=seed,
    ).fit(X, y)  # fmt: skip
    assert distiller.head_.classes_.tolist() == [0, 1]
    assert np.isfinite(distiller.history_["train_loss"]).all()


def test_mixed_needs_a_head_with_torch_logits_and_says_so(problem):
    from sklearn.linear_model import LogisticRegression

    X, y, *_ = problem
    _CountingTeacher.calls = 0
    distiller = _distiller(
        LogisticRegression(), loss="mixed", teacher=_CountingTeacher().fit(X)
    )
    with pytest.raises(
        TypeError,
        match=r"loss='mixed'.*SubspaceHeadClassifier.*got "
        r"LogisticRegression.*head=None",
    ):
        distiller.fit(X, y)
    assert _CountingTeacher.calls == 0  # refused before the teacher ran


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_alpha_outside_zero_one_is_rejected(problem, fast_head, alpha):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head, loss="mixed", alpha=alpha)
    with pytest.raises(
        ValueError,
        match=_invalid("alpha", r"a float in the range \[0.0, 1.0\]", str(alpha)),
    ):
        distiller.fit(X, y, teacher_features=F)


# -- the reused head ----------------------------------------------------------


def test_head_is_fitted_on_teacher_features_and_reused_on_student_outputs(
    problem, fast_head
):
    X, y, F, X_test, y_test, F_test = problem
    distiller = _distiller(fast_head, max_epochs=30).fit(X, y, teacher_features=F)
    Z = distiller.transform(X_test)
    np.testing.assert_array_equal(distiller.predict(X_test), distiller.head_.predict(Z))
    np.testing.assert_array_equal(
        distiller.predict_proba(X_test), distiller.head_.predict_proba(Z)
    )

    # The head is exactly a head trained on the projected *teacher* features
    # of the training part, with the seed the distiller derives.
    seeds = student_seeds(0)
    train_idx, _ = _rows(y)
    Z_teacher = distiller.projection_.transform(F)
    reference = clone(fast_head).set_params(random_state=seeds["head"])
    reference.fit(Z_teacher[train_idx], y[train_idx])
    Z_teacher_test = distiller.projection_.transform(F_test)
    np.testing.assert_array_equal(
        reference.predict_proba(Z_teacher_test),
        distiller.head_.predict_proba(Z_teacher_test),
    )
    # And the student's outputs are good enough for it.
    head_on_teacher = distiller.head_.score(Z_teacher_test, y_test)
    assert distiller.score(X_test, y_test) >= head_on_teacher - 0.1


def test_projection_matches_the_jl_transformer_spec(problem, fast_head):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head, projection="sparse").fit(X, y, teacher_features=F)
    spec = distiller.projection_.projection_spec_
    assert spec["projection"] == "sparse"
    assert (spec["n_components"], spec["n_features"]) == (8, 48)


# -- teachers ----------------------------------------------------------------


def test_unfitted_extractor_teacher_is_cloned_and_gives_the_same_result(
    problem, fast_head
):
    X, y, _, X_test, _, _ = problem
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 24), nn.ReLU())
    extractor = TorchFeatureExtractor(net, device="cpu")
    with_teacher = _distiller(fast_head, teacher=extractor).fit(X, y)
    assert not hasattr(extractor, "n_features_out_")  # the user's copy untouched
    assert with_teacher.teacher_.n_features_out_ == 24
    assert with_teacher.n_teacher_features_ == 24

    F = TorchFeatureExtractor(net, device="cpu").fit_transform(X)
    with_features = _distiller(fast_head).fit(X, y, teacher_features=F)
    np.testing.assert_array_equal(
        with_teacher.transform(X_test), with_features.transform(X_test)
    )


def test_teacher_features_are_sliced_by_cross_validation(problem, fast_head):
    X, y, F, *_ = problem
    scores = cross_val_score(
        _distiller(fast_head, max_epochs=30), X, y, cv=2, params={"teacher_features": F}
    )
    assert scores.shape == (2,)
    assert np.all((scores > 0.34) & (scores <= 1))


# -- determinism and persistence ------------------------------------------------


def test_integer_random_state_gives_identical_results(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    state = torch.get_rng_state()
    first = _distiller(fast_head).fit(X, y, teacher_features=F)
    second = _distiller(fast_head).fit(X, y, teacher_features=F)
    assert torch.equal(torch.get_rng_state(), state)  # global RNG left alone
    np.testing.assert_array_equal(first.transform(X_test), second.transform(X_test))
    assert first.history_ == second.history_
    other = _distiller(fast_head, random_state=1).fit(X, y, teacher_features=F)
    assert not np.array_equal(first.transform(X_test), other.transform(X_test))


def test_pickle_round_trip_gives_identical_predictions(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    distiller = _distiller(fast_head).fit(X, y, teacher_features=F)
    restored = pickle.loads(pickle.dumps(distiller))
    assert all(p.device.type == "cpu" for p in restored.student_.parameters())
    np.testing.assert_array_equal(
        restored.transform(X_test), distiller.transform(X_test)
    )
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), distiller.predict_proba(X_test)
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_pickles_to_a_cpu_student(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    distiller = _distiller(fast_head, device="cuda").fit(X, y, teacher_features=F)
    assert next(distiller.student_.parameters()).device.type == "cuda"
    restored = pickle.loads(pickle.dumps(distiller))
    assert next(restored.student_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(
        restored.transform(X_test), distiller.transform(X_test), rtol=1e-4, atol=1e-4
    )


# -- errors ------------------------------------------------------------------


def test_unfitted_distiller_raises_not_fitted(problem):
    with pytest.raises(NotFittedError):
        SubspaceDistiller(StudentMLP).transform(problem[0])


def _invalid(name, expected, got):
    """scikit-learn's standard message for an invalid parameter value."""
    return (
        rf"The '{name}' parameter of SubspaceDistiller must be {expected}\. "
        rf"Got {got} instead\."
    )


_POSITIVE_INT = r"an int in the range \[1, inf\)"


@pytest.mark.parametrize(
    "params, match",
    [
        # The options are a set: their order is not fixed.
        ({"loss": "huber"}, _invalid("loss", r"a str among \{.*'mse'.*\}", "'huber'")),
        (
            {"optimizer": "adam"},
            _invalid("optimizer", r"a str among \{.*'adamw'.*\}", "'adam'"),
        ),
        (
            {"projection": "fourier"},
            _invalid("projection", r"a str among \{.*'gaussian'.*\}", "'fourier'"),
        ),
        ({"n_components": 0}, _invalid("n_components", _POSITIVE_INT, "0")),
        ({"n_components": 2.5}, _invalid("n_components", _POSITIVE_INT, "2.5")),
        ({"max_epochs": 0}, _invalid("max_epochs", _POSITIVE_INT, "0")),
        ({"batch_size": -4}, _invalid("batch_size", _POSITIVE_INT, "-4")),
        ({"patience": 0}, _invalid("patience", _POSITIVE_INT, "0")),
        (
            {"lr": -1.0},
            _invalid("lr", r"a float in the range \(0.0, inf\)", "-1.0"),
        ),
        (
            {"weight_decay": -1.0},
            _invalid("weight_decay", r"a float in the range \[0.0, inf\)", "-1.0"),
        ),
        (
            {"tol": -1e-3},
            _invalid("tol", r"a float in the range \[0.0, inf\) or None", "-0.001"),
        ),
        (
            {"validation_fraction": 1.0},
            _invalid(
                "validation_fraction",
                r"a float in the range \(0.0, 1.0\) or None",
                "1.0",
            ),
        ),
        (
            {"student_params": [8]},
            _invalid("student_params", "an instance of 'dict' or None", r"\[8\]"),
        ),
        (
            {"callbacks": "progress"},
            _invalid("callbacks", "an instance of 'list' or None", "'progress'"),
        ),
        (
            {"device": 3},
            _invalid(
                "device", "an instance of 'str' or an instance of 'torch.device'", "3"
            ),
        ),
        (
            {"head": "linear"},
            _invalid(
                "head", "an object implementing 'fit' and 'predict' or None", "'linear'"
            ),
        ),
        (
            {"teacher": "resnet50"},
            _invalid(
                "teacher", "an object implementing 'transform' or None", "'resnet50'"
            ),
        ),
        ({"student": 3}, _invalid("student", "a callable", "3")),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_bad_parameters_raise_scikit_learn_errors_naming_them(
    problem, fast_head, params, match
):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head).set_params(**params)
    # scikit-learn's InvalidParameterError is both a ValueError and a TypeError.
    with pytest.raises(ValueError, match=match):
        distiller.fit(X, y, teacher_features=F)


def test_student_instance_is_rejected_with_the_fix(problem):
    X, y, *_ = problem
    with pytest.raises(TypeError, match="not a module instance.*Pass the class"):
        SubspaceDistiller(StudentMLP(8)).fit(X, y)


def test_factory_returning_a_non_module_is_rejected(problem):
    X, y, *_ = problem
    with pytest.raises(TypeError, match="returned a dict, not a torch.nn.Module"):
        SubspaceDistiller(dict, device="cpu").fit(X, y)


@pytest.mark.parametrize("where", ["X", "teacher_features"])
def test_nan_inputs_are_rejected(problem, fast_head, where):
    X, y, F, *_ = problem
    X, F = X.copy(), F.copy()
    (X if where == "X" else F)[3, 2] = np.nan
    with pytest.raises(ValueError, match=f"Input {where} contains NaN"):
        _distiller(fast_head).fit(X, y, teacher_features=F)


def test_teacher_features_of_the_wrong_length_are_rejected(problem, fast_head):
    X, y, F, *_ = problem
    with pytest.raises(ValueError, match="teacher_features has 179 rows but X has 180"):
        _distiller(fast_head).fit(X, y, teacher_features=F[:-1])


def test_teacher_and_teacher_features_together_are_rejected(problem, fast_head):
    X, y, F, *_ = problem
    teacher = _CountingTeacher().fit(X)
    with pytest.raises(ValueError, match="Both a teacher and teacher_features"):
        _distiller(fast_head, teacher=teacher).fit(X, y, teacher_features=F)


def test_wrong_width_at_transform_is_rejected(problem, fast_head):
    X, y, F, X_test, _, _ = problem
    distiller = _distiller(fast_head, max_epochs=1).fit(X, y, teacher_features=F)
    with pytest.raises(ValueError, match="X has 11 features, but SubspaceDistiller"):
        distiller.transform(X_test[:, :-1])


def test_a_single_class_is_rejected(problem, fast_head):
    X, _, F, *_ = problem
    with pytest.raises(ValueError, match="at least 2 classes"):
        _distiller(fast_head).fit(X, np.zeros(len(X)), teacher_features=F)


def test_divergence_raises_instead_of_returning_nan(problem, fast_head):
    X, y, F, *_ = problem
    with pytest.raises(FloatingPointError, match="diverged.*Lower lr"):
        _distiller(fast_head, optimizer="sgd", lr=1e6).fit(X, y, teacher_features=F)


# -- the stopping rule, threads, callbacks and sample weights ------------------


def test_default_rule_stops_when_validation_accuracy_stops_improving(
    problem, fast_head
):
    X, y, F, *_ = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        distiller = _distiller(fast_head, tol=1e-4, patience=3, max_epochs=200)
        distiller.fit(X, y, teacher_features=F)
    accuracy = distiller.history_["valid_accuracy"]
    assert distiller.converged_
    assert distiller.n_iter_ < 200
    assert distiller.best_epoch_ == 1 + accuracy.index(max(accuracy))
    assert distiller.n_iter_ == distiller.best_epoch_ + 3  # patience after it
    train_idx, valid_idx = _rows(y)
    assert distiller.score(X[valid_idx], y[valid_idx]) == pytest.approx(max(accuracy))


def test_reaching_max_epochs_before_converging_warns(problem, fast_head):
    X, y, F, *_ = problem
    distiller = _distiller(fast_head, tol=1e-4, patience=50, max_epochs=3)
    with pytest.warns(ConvergenceWarning, match="subspace student stopped at max_ep"):
        distiller.fit(X, y, teacher_features=F)
    assert not distiller.converged_
    assert distiller.n_iter_ == 3


class _Threads(Callback):
    """Records torch's thread count at each epoch."""

    def on_epoch_begin(self, net, **kwargs):
        self.seen = [*getattr(self, "seen", []), torch.get_num_threads()]


def test_small_student_trains_on_one_thread_through_user_callbacks(problem, fast_head):
    X, y, F, *_ = problem
    threads = _Threads()
    before = torch.get_num_threads()
    distiller = _distiller(fast_head, max_epochs=3, callbacks=[threads])
    distiller.fit(X, y, teacher_features=F)
    assert threads.seen == [1, 1, 1]
    assert torch.get_num_threads() == before


def test_sample_weight_reaches_the_head_and_weighs_the_student(problem, fast_head):
    X, y, F, X_test, _, F_test = problem
    weights = np.where(y == 0, 3.0, 1.0)
    weighted = _distiller(fast_head).fit(
        X, y, teacher_features=F, sample_weight=weights
    )
    train_idx, _ = _rows(y)
    reference = clone(fast_head).set_params(random_state=student_seeds(0)["head"])
    Z = weighted.projection_.transform(F)
    reference.fit(Z[train_idx], y[train_idx], sample_weight=weights[train_idx])
    Z_test = weighted.projection_.transform(F_test)
    np.testing.assert_array_equal(
        weighted.head_.predict_proba(Z_test), reference.predict_proba(Z_test)
    )
    plain = _distiller(fast_head).fit(X, y, teacher_features=F)
    assert weighted.history_["train_loss"] != plain.history_["train_loss"]
    # Only relative weights count: a constant weight is no weight at all.
    constant = _distiller(fast_head).fit(X, y, teacher_features=F, sample_weight=4.0)
    np.testing.assert_allclose(
        constant.transform(X_test), plain.transform(X_test), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.ones(5), r"sample_weight has shape \(5,\), expected \(180,\)"),
        (-np.ones(180), "finite and non-negative"),
        (np.zeros(180), "sums to zero"),
    ],
)
def test_bad_sample_weight_is_rejected(problem, fast_head, sample_weight, match):
    X, y, F, *_ = problem
    with pytest.raises(ValueError, match=match):
        _distiller(fast_head).fit(X, y, teacher_features=F, sample_weight=sample_weight)


def test_default_distiller_beats_80_percent_on_digits_with_a_random_relu_teacher():
    # With a head that did not converge on the teacher's small
    # projected features, this scored 55.6 %.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.3, stratify=y, random_state=0
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        teacher = nn.Sequential(
            nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU()
        )
    distiller = SubspaceDistiller(
        StudentMLP,
        teacher=TorchFeatureExtractor(teacher, device="cpu"),
        n_components=32,
        random_state=0,
    ).fit(X_train, y_train)
    assert distiller.converged_
    assert distiller.score(X_test, y_test) > 0.80
