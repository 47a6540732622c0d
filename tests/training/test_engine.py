"""The training engine's pieces: loss, penalty, L-BFGS, stopping, progress."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from sklearn_subspace.training import (
    EpochProgress,
    TrainingNet,
    WeightedCrossEntropy,
    stopping_callbacks,
)
from sklearn_subspace.training._lbfgs import ScipyLBFGS


def _data(n=120, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def _linear_net(n_classes=2, **params):
    """A TrainingNet of one ``nn.Linear`` on :func:`_data`'s 5 features."""
    return TrainingNet(
        torch.nn.Linear,
        module__in_features=5,
        module__out_features=n_classes,
        criterion=WeightedCrossEntropy,
        **params,
    )


def test_weighted_cross_entropy_equals_repetition():
    logits = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    w = torch.tensor([1.0, 2.0, 0.0, 1.0, 3.0, 1.0])
    repeat = torch.repeat_interleave(torch.arange(6), w.long())
    expected = torch.nn.functional.cross_entropy(logits[repeat], y[repeat])
    torch.testing.assert_close(WeightedCrossEntropy()(logits, y, w), expected)


def test_lbfgs_net_solves_the_l2_logistic_problem():
    # TrainingNet with ScipyLBFGS and l2 minimises mean CE + 0.5 l2 ||W||^2:
    # multinomial LogisticRegression's problem with C = 1 / (l2 * n). (Binary
    # LogisticRegression fits one weight vector, a different penalty.)
    X, _ = _data()
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])
    # Seed 0 starts where the later epochs' steps cannot move from the
    # optimum (their line search finds no float32 decrease): still converged.
    torch.manual_seed(0)
    net = _linear_net(
        3,
        optimizer=ScipyLBFGS,
        l2=0.1,
        batch_size=-1,
        max_epochs=5,
        train_split=None,
        verbose=0,
    ).fit(X, y)
    reference = LogisticRegression(C=1 / (0.1 * len(y)), tol=1e-10).fit(X, y)
    proba = torch.softmax(net.forward(X), dim=1).numpy()
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=2e-3)
    assert net.optimizer_.state_dict()["state"][0]["converged"]


def test_penalty_is_added_to_training_loss_only():
    X, y = _data()
    net = _linear_net(
        l2=10.0,
        max_epochs=1,
        train_split=None,
        verbose=0,
    ).initialize()
    logits = net.forward(X)
    y_t = torch.from_numpy(y)
    plain = net.get_loss(logits, y_t, training=False)
    penalised = net.get_loss(logits, y_t, training=True)
    weight = net.module_.weight.detach()
    torch.testing.assert_close(penalised - plain, 5.0 * weight.square().sum())


@pytest.mark.parametrize(
    ("solver", "validation", "tol", "expected"),
    [
        ("adamw", True, 1e-4, "_BestEpoch"),
        ("adamw", True, None, "_BestEpoch"),
        ("adamw", False, 1e-4, "ConvergenceMonitor"),
        ("adamw", False, None, None),
        ("lbfgs", False, None, "ConvergenceMonitor"),
    ],
)
def test_stopping_rule_per_setting(solver, validation, tol, expected):
    callbacks = stopping_callbacks(
        solver=solver, validation=validation, tol=tol, patience=3, max_epochs=50
    )
    names = [type(cb).__name__ for _, cb in callbacks]
    assert names == ([] if expected is None else [expected])


def test_epoch_progress_counts_epochs(capsys):
    X, y = _data()
    _linear_net(
        max_epochs=3,
        train_split=None,
        callbacks=[EpochProgress("training test")],
        verbose=0,
    ).fit(X, y)
    err = capsys.readouterr().err
    assert "training test" in err
    assert "3/3" in err


def test_nested_thread_blocks_restore_the_outer_count():
    import torch

    from sklearn_subspace.training import fixed_threads

    before = torch.get_num_threads()
    with fixed_threads(2):
        with fixed_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("verbose", [0, 1])
def test_the_epoch_table_is_built_only_when_printed(verbose, capsys):
    # skorch formats its table every epoch even when it prints nothing.
    X, y = _data()
    net = _linear_net(
        optimizer=torch.optim.SGD,
        batch_size=32,
        max_epochs=2,
        train_split=None,
        verbose=verbose,
    ).fit(X, y)
    assert ("print_log" in dict(net.callbacks_)) == bool(verbose)
    assert ("train_loss" in capsys.readouterr().out) == bool(verbose)
    assert len(net.history) == 2
