"""What SubspaceHeadClassifier accepts beyond X and y, and how it converges.

Convergence by default (the linear head reaches LogisticRegression's
accuracy, MLP heads stop on their own, the cap warns), sample and class
weights, metadata routing, user callbacks and warm starts.
"""

import warnings

import numpy as np
import pytest
import sklearn
import torch
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from skorch.callbacks import Callback

from sklearn_subspace.head import SubspaceHeadClassifier


def _standardised(X, y, test_size=0.3):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# -- convergence by default ------------------------------------------------------


def test_default_linear_head_matches_logistic_regression_on_digits():
    X_train, X_test, y_train, y_test = _standardised(*load_digits(return_X_y=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges: no ConvergenceWarning
        head = SubspaceHeadClassifier(device="cpu", random_state=0).fit(
            X_train, y_train
        )
    reference = LogisticRegression().fit(X_train, y_train).score(X_test, y_test)
    assert head.optimizer_ == "lbfgs"
    assert head.converged_
    assert head.n_iter_ < head.net_.max_epochs
    assert head.score(X_test, y_test) >= reference - 0.01


def test_default_head_learns_binary_task_with_arbitrary_labels():
    # The labels {7, -3} once left the default head at 68.5 % training
    # accuracy; LogisticRegression gets about 90 % on the same data.
    X, y = make_classification(n_samples=400, n_features=20, random_state=0)
    y = np.where(y == 1, 7, -3)
    head = SubspaceHeadClassifier(device="cpu", random_state=0).fit(X, y)
    reference = LogisticRegression().fit(X, y).score(X, y)
    assert set(head.predict(X)) <= {7, -3}
    assert head.score(X, y) >= reference - 0.01


def test_linear_head_reaches_the_logistic_regression_optimum(data):
    # mean cross-entropy + 0.5 * wd * ||W||^2 is LogisticRegression's
    # objective with C = 1 / (wd * n_samples): the same convex problem, so
    # the same solution, here solved in float32 against float64.
    X, y = data
    head = SubspaceHeadClassifier(weight_decay=1e-2, device="cpu").fit(X, y)
    reference = LogisticRegression(C=1 / (1e-2 * len(y)), tol=1e-10, max_iter=10_000)
    reference.fit(X, y)

    def objective(proba, coef):
        loss = -np.mean(np.log(proba[np.arange(len(y)), y]))
        return loss + 0.5e-2 * np.sum(np.square(coef, dtype=np.float64))

    weights = head.net_.module_.layers[0].weight.detach().numpy()
    reached = objective(head.predict_proba(X).astype(np.float64), weights)
    optimum = objective(reference.predict_proba(X), reference.coef_)
    # The head stops at LogisticRegression's default gradient tolerance
    # (1e-4): within 1e-5 of the optimum's value, and near it in every output
    # (scikit-learn 1.6 and 1.9 differ by 1e-3 along the flattest direction).
    assert optimum <= reached <= optimum * (1 + 1e-5)
    np.testing.assert_allclose(
        head.predict_proba(X), reference.predict_proba(X), atol=3e-3
    )
    np.testing.assert_allclose(weights, reference.coef_, atol=2e-2)


def test_linear_head_does_not_depend_on_the_seed(data):
    X, y = data
    a = SubspaceHeadClassifier(device="cpu", random_state=0).fit(X, y)
    b = SubspaceHeadClassifier(device="cpu", random_state=1).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_default_mlp_head_stops_on_validation_loss_before_the_cap(data):
    X, y = data
    head = SubspaceHeadClassifier((32,), device="cpu", random_state=0).fit(X, y)
    assert head.optimizer_ == "adamw"
    assert head.converged_
    assert head.n_iter_ < head.net_.max_epochs
    assert head.n_iter_ == head.best_epoch_ + head.patience
    assert head.score(X, y) > 0.9


@pytest.mark.parametrize(
    "params",
    [{}, {"optimizer": "adamw"}, {"optimizer": "adamw", "early_stopping": False}],
    ids=["lbfgs", "adamw-validation", "adamw-train-loss"],
)
def test_hitting_max_epochs_warns_convergence(data, params):
    X, y = data
    head = SubspaceHeadClassifier(max_epochs=1, device="cpu", random_state=0, **params)
    if not params:
        # Features on scales from 1e-3 to 1e3, nearly unregularised: one
        # L-BFGS epoch (100 iterations) cannot reach the tolerance.
        X = X * np.logspace(-3, 3, X.shape[1])
        head.set_params(weight_decay=1e-8)
    with pytest.warns(ConvergenceWarning, match="max_epochs=1 before converging"):
        head.fit(X, y)
    assert not head.converged_
    assert head.n_iter_ == 1


def test_fixed_epochs_never_warn(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        head = SubspaceHeadClassifier(
            optimizer="sgd", tol=None, max_epochs=3, device="cpu", random_state=0
        ).fit(X, y)
    assert head.n_iter_ == 3
    assert head.converged_


# -- sample and class weights --------------------------------------------------------


def test_integer_sample_weights_equal_repeated_samples(data):
    X, y = data
    weights = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = SubspaceHeadClassifier(device="cpu", random_state=0)
    weighted.fit(X, y, sample_weight=weights)
    repeated = SubspaceHeadClassifier(device="cpu", random_state=0)
    repeated.fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    # The same convex problem, solved in float32 to the solver's tolerance.
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-2
    )


def test_sample_weights_are_scale_invariant(data):
    X, y = data
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    a = SubspaceHeadClassifier(device="cpu", random_state=0)
    b = SubspaceHeadClassifier(device="cpu", random_state=0)
    a.fit(X, y, sample_weight=weights)
    b.fit(X, y, sample_weight=10 * weights)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-2)


def test_zero_weight_class_is_ignored_by_the_loss(data):
    X, y = data
    flipped = y.copy()
    flipped[y == 0] = 1  # wrong labels, but weighted out
    weights = np.where(y == 0, 0.0, 1.0)
    head = SubspaceHeadClassifier(device="cpu", random_state=0)
    head.fit(
        np.vstack([X, X[y == 0]]),
        np.concatenate([y, flipped[y == 0]]),
        sample_weight=np.concatenate([np.ones(len(y)), weights[y == 0]]),
    )
    clean = SubspaceHeadClassifier(device="cpu", random_state=0).fit(X, y)
    np.testing.assert_allclose(head.predict_proba(X), clean.predict_proba(X), atol=1e-2)


def test_balanced_class_weight_equals_balanced_sample_weight():
    X, y = make_classification(
        n_samples=400, n_features=10, weights=[0.9, 0.1], random_state=0
    )
    by_class = SubspaceHeadClassifier(
        class_weight="balanced", device="cpu", random_state=0
    ).fit(X, y)
    by_sample = SubspaceHeadClassifier(device="cpu", random_state=0).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    plain = SubspaceHeadClassifier(device="cpu", random_state=0).fit(X, y)
    np.testing.assert_allclose(
        by_class.predict_proba(X), by_sample.predict_proba(X), atol=1e-5
    )
    minority = y == 1
    recall = lambda clf: (clf.predict(X[minority]) == 1).mean()  # noqa: E731
    assert recall(by_class) > recall(plain)


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        (np.ones(5), r"sample_weight has shape \(5,\), expected \(300,\)"),
        (-np.ones(300), "finite and non-negative"),
        (np.zeros(300), "sums to zero"),
    ],
)
def test_bad_sample_weight_is_rejected(data, sample_weight, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        SubspaceHeadClassifier(device="cpu").fit(X, y, sample_weight=sample_weight)


def test_sample_weight_is_routed_through_pipeline_and_grid_search(data):
    X, y = data
    weights = np.random.default_rng(1).uniform(0.1, 3.0, size=len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        head = SubspaceHeadClassifier(device="cpu", random_state=0)
        head.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        # scikit-learn < 1.8 asks the pipeline itself for the score request.
        pipe = Pipeline([("head", head)]).set_score_request(sample_weight=True)
        search = GridSearchCV(pipe, {"head__weight_decay": [1e-3]}, cv=2).fit(
            X, y, sample_weight=weights
        )
    direct = SubspaceHeadClassifier(device="cpu", random_state=0).fit(
        X, y, sample_weight=weights
    )
    np.testing.assert_allclose(
        search.best_estimator_.predict_proba(X), direct.predict_proba(X), atol=1e-6
    )


# -- callbacks and warm starts ---------------------------------------------------------


class _CountEpochs(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def test_user_callbacks_run_every_epoch(data):
    X, y = data
    counter = _CountEpochs()
    head = SubspaceHeadClassifier(
        (16,), callbacks=[("count", counter)], device="cpu", random_state=0
    ).fit(X, y)
    fitted = dict(head.net_.callbacks_)["count"]
    assert fitted.epochs_ == head.n_iter_ > 0


def test_warm_start_continues_from_the_fitted_weights(data):
    X, y = data
    head = SubspaceHeadClassifier(
        optimizer="adamw",
        max_epochs=5,
        tol=None,
        warm_start=True,
        device="cpu",
        random_state=0,
    )
    head.fit(X, y)
    first_losses = head.net_.history[:, "train_loss"]
    head.fit(X, y)
    losses = head.net_.history[:, "train_loss"]
    # skorch's partial_fit appends to the same history, from the same weights.
    assert len(losses) == 10
    assert losses[:5] == first_losses
    assert losses[5] < first_losses[0]


def test_warm_start_refuses_new_classes(data):
    X, y = data
    head = SubspaceHeadClassifier(warm_start=True, device="cpu", random_state=0)
    head.fit(X, y)
    with pytest.raises(ValueError, match="warm_start=True continues the previous fit"):
        head.fit(X, np.where(y == 2, 5, y))


def test_cold_start_ignores_the_previous_fit(data):
    X, y = data
    head = SubspaceHeadClassifier(
        optimizer="adamw", max_epochs=3, tol=None, device="cpu", random_state=0
    )
    first = head.fit(X, y).predict_proba(X)
    second = head.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


# -- labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (np.array(["a", 1, "b"] * 100, dtype=object), TypeError, "mixes label types"),
        (np.array(["a", None, "b"] * 100, dtype=object), ValueError, "y holds None"),
    ],
)
def test_unsortable_labels_are_rejected_by_name(data, labels, error, message):
    X, _ = data
    with pytest.raises(error, match=message):
        SubspaceHeadClassifier(device="cpu").fit(X, labels)


def test_thread_setting_is_restored_after_fit(data):
    X, y = data
    before = torch.get_num_threads()
    SubspaceHeadClassifier(device="cpu", random_state=0).fit(X, y)
    assert torch.get_num_threads() == before
