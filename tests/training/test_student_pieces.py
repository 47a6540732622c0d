"""Engine pieces the distillation students train with: a loss from a plain
function, a per-epoch validation score, the finite-loss guard, stopping on a
score that should rise, and batched inference."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_subspace.training import (
    CallableLoss,
    FiniteLoss,
    HoldoutSplit,
    TrainingNet,
    module_outputs,
    stopping_callbacks,
    validation_score,
    warn_if_not_converged,
)


def _problem(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def _cross_entropy(y_pred, y, weight=None):
    losses = torch.nn.functional.cross_entropy(y_pred, y, reduction="none")
    return losses.mean() if weight is None else (losses * weight).sum() / weight.sum()


def _accuracy(y_pred, labels):
    return float(np.mean(y_pred.argmax(1).numpy() == labels))


def _net(
    callbacks, max_epochs=5, split=None, lr=0.05, optimizer=torch.optim.AdamW, **kwargs
):
    torch.manual_seed(0)
    return TrainingNet(
        torch.nn.Linear(4, 2),
        criterion=CallableLoss,
        criterion__loss_fn=_cross_entropy,
        optimizer=optimizer,
        lr=lr,
        batch_size=16,
        iterator_train__shuffle=True,
        iterator_train__seed=0,
        train_split=split,
        max_epochs=max_epochs,
        callbacks=callbacks,
        verbose=0,
        **kwargs,
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 20),
    k=st.integers(1, 5),
    n_targets=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_callable_loss_passes_outputs_and_every_target_in_order(n, k, n_targets, seed):
    generator = torch.Generator().manual_seed(seed)
    y_pred = torch.randn(n, k, generator=generator)
    targets = [torch.randn(n, k, generator=generator) for _ in range(n_targets)]
    seen = []

    def loss_fn(outputs, *args):
        seen.append((outputs, args))
        return sum((outputs - t).square().sum() for t in args) + outputs.sum() * 0

    loss = CallableLoss(loss_fn)(y_pred, *targets)
    ((outputs, args),) = seen
    assert outputs is y_pred
    assert len(args) == n_targets and all(a is t for a, t in zip(args, targets))
    expected = sum(float((y_pred - t).square().sum()) for t in targets)
    assert float(loss) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_callable_loss_with_sample_weights_matches_repeated_rows():
    X, y = _problem(40)
    logits = torch.as_tensor(X[:, :2])
    labels = torch.as_tensor(y)
    weights = torch.ones(40)
    weights[:10] = 2.0
    weighted = CallableLoss(_cross_entropy)(logits, labels, weights)
    repeated = CallableLoss(_cross_entropy)(
        torch.cat([logits, logits[:10]]), torch.cat([labels, labels[:10]])
    )
    assert float(weighted) == pytest.approx(float(repeated), rel=1e-6)


def test_validation_score_records_the_score_of_the_validation_outputs():
    X, y = _problem()
    split = HoldoutSplit(0.25, seed=3)
    net = _net([("valid_accuracy", validation_score(_accuracy))], split=split)
    net.fit(X, y)
    scores = net.history[:, "valid_accuracy"]
    assert len(scores) == 5
    # The last recorded score is that of the final weights on the split's rows.
    _, valid_idx = split.indices(net.get_dataset(X, y))
    predicted = net.forward(X[valid_idx]).argmax(1).numpy()
    assert scores[-1] == pytest.approx(np.mean(predicted == y[valid_idx]))
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_validation_score_reuses_the_validation_outputs_and_reads_tuple_labels():
    X, y = _problem(120)
    calls = []

    class CountingLinear(torch.nn.Linear):
        def forward(self, x):
            calls.append(len(x))
            return super().forward(x)

    torch.manual_seed(0)
    split = HoldoutSplit(0.25, seed=3)
    net = TrainingNet(
        CountingLinear(4, 2),
        criterion=CallableLoss,
        # Targets are a tuple (labels, weights), as the distillation students'.
        criterion__loss_fn=_cross_entropy,
        optimizer=torch.optim.AdamW,
        lr=0.05,
        batch_size=16,
        train_split=split,
        max_epochs=2,
        callbacks=[("valid_accuracy", validation_score(_accuracy))],
        verbose=0,
    )
    net.fit(X, (y, np.ones(len(y), np.float32)))
    # Each epoch: 90 training rows and 30 validation rows, each seen once.
    assert sum(calls) == 2 * 120
    _, valid_idx = split.indices(net.get_dataset(X, y))
    predicted = net.forward(X[valid_idx]).argmax(1).numpy()
    assert net.history[-1, "valid_accuracy"] == pytest.approx(
        np.mean(predicted == y[valid_idx])
    )


def test_validation_score_records_nothing_without_a_split():
    X, y = _problem()
    net = _net([("valid_accuracy", validation_score(_accuracy))]).fit(X, y)
    assert all("valid_accuracy" not in row for row in net.history)


def test_finite_loss_names_the_model_the_epoch_and_the_fix():
    X, _ = _problem()
    target = np.full((len(X), 2), 1e3, dtype=np.float32)
    net = TrainingNet(
        torch.nn.Linear(4, 2),
        criterion=CallableLoss,
        criterion__loss_fn=lambda y_pred, t: (y_pred - t).square().mean(),
        optimizer=torch.optim.SGD,
        lr=1e8,
        batch_size=16,
        train_split=None,
        max_epochs=30,
        callbacks=[("finite", FiniteLoss("tiny student"))],
        verbose=0,
    )
    with pytest.raises(
        FloatingPointError,
        match=r"Training the tiny student diverged at epoch 1: the loss is "
        r"(nan|inf).*Lower lr \(now 100000000.0\)",
    ):
        net.fit(X, target)
    assert len(net.history) == 1


def test_stopping_on_a_rising_score_keeps_its_first_best_epoch():
    X, y = _problem()
    callbacks = [
        ("valid_accuracy", validation_score(_accuracy)),
        *stopping_callbacks(
            solver="adamw",
            validation=True,
            tol=1e-4,
            patience=3,
            max_epochs=100,
            monitor="valid_accuracy",
            lower_is_better=False,
        ),
    ]
    net = _net(callbacks, max_epochs=100, split=HoldoutSplit(0.25, seed=0))
    net.fit(X, y)
    scores = list(net.history[:, "valid_accuracy"])
    stopping = dict(net.callbacks_)["stopping"]
    assert len(scores) < 100 and stopping.converged_
    assert stopping.best_epoch_ == 1 + scores.index(max(scores))
    assert len(scores) == stopping.best_epoch_ + 3  # patience epochs after it
    assert warn_if_not_converged(net, tol=1e-4, max_epochs=100, estimator="x")


def test_fixed_epochs_restore_the_best_score_without_warning():
    X, y = _problem()
    callbacks = [
        ("valid_accuracy", validation_score(_accuracy)),
        *stopping_callbacks(
            solver="adamw",
            validation=True,
            tol=None,
            patience=3,
            max_epochs=6,
            monitor="valid_accuracy",
            lower_is_better=False,
        ),
    ]
    split = HoldoutSplit(0.25, seed=0)
    net = _net(callbacks, max_epochs=6, split=split, lr=0.01).fit(X, y)
    scores = list(net.history[:, "valid_accuracy"])
    assert len(scores) == 6
    _, valid_idx = split.indices(net.get_dataset(X, y))
    restored = net.forward(X[valid_idx]).argmax(1).numpy()
    assert np.mean(restored == y[valid_idx]) == pytest.approx(max(scores))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert warn_if_not_converged(net, tol=None, max_epochs=6, estimator="x")


def test_module_outputs_match_one_forward_pass_and_keep_the_mode():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Dropout(0.5))
    module.train()
    X = np.random.default_rng(0).normal(size=(23, 3)).astype(np.float32)
    outputs = module_outputs(module, X, batch_size=4)
    assert module.training
    module.eval()
    with torch.no_grad():
        expected = module(torch.as_tensor(X))
    assert outputs.shape == (23, 5) and outputs.dtype == torch.float32
    torch.testing.assert_close(outputs, expected)


def test_module_outputs_run_on_the_asked_threads_and_restore_them():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, X):
            seen.append(torch.get_num_threads())
            return X

    before = torch.get_num_threads()
    module_outputs(Probe(), np.zeros((3, 2), np.float32), n_threads=1)
    assert seen == [1]
    assert torch.get_num_threads() == before
