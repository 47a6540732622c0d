"""Closed-form training step of the linear head, against autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skorch.callbacks import Callback
from torch import nn

from sklearn_subspace.head import SubspaceHeadClassifier, _training
from sklearn_subspace.head._closed_form import (
    closed_form_layer,
    linear_cross_entropy_step,
)
from sklearn_subspace.head._modules import SubspaceHead
from sklearn_subspace.head._training import FastNet, SliceLoader, TensorData


def _autograd_step(layer, X, y):
    layer.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(layer(X), y)
    loss.backward()
    return loss.detach(), layer.weight.grad.clone(), layer.bias.grad.clone()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 64),
    d=st.integers(1, 20),
    n_classes=st.integers(2, 12),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_loss_and_gradients_equal_autograd(n, d, n_classes, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    layer = nn.Linear(d, n_classes).double()
    with torch.no_grad():
        layer.weight.copy_(
            torch.randn(n_classes, d, generator=gen, dtype=torch.float64)
        )
        layer.bias.copy_(torch.randn(n_classes, generator=gen, dtype=torch.float64))
    X = scale * torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, n_classes, (n,), generator=gen)

    loss_ref, grad_w_ref, grad_b_ref = _autograd_step(layer, X, y)
    layer.zero_grad(set_to_none=True)
    loss, logits = linear_cross_entropy_step(layer, X, y)

    torch.testing.assert_close(loss, loss_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.weight.grad, grad_w_ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(layer.bias.grad, grad_b_ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(logits, layer(X).detach())
    assert not logits.requires_grad and not loss.requires_grad


def test_step_replaces_stale_gradients_like_zero_grad_then_backward():
    torch.manual_seed(0)
    layer = nn.Linear(5, 3)
    X, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    _, grad_w_ref, grad_b_ref = _autograd_step(layer, X, y)
    layer.weight.grad.fill_(123.0)  # left over from an earlier step
    layer.bias.grad = None
    linear_cross_entropy_step(layer, X, y)
    torch.testing.assert_close(layer.weight.grad, grad_w_ref)
    torch.testing.assert_close(layer.bias.grad, grad_b_ref)


def test_float32_step_matches_autograd_to_float_precision():
    torch.manual_seed(0)
    layer = nn.Linear(128, 100)
    X, y = torch.randn(256, 128), torch.randint(0, 100, (256,))
    loss_ref, grad_w_ref, grad_b_ref = _autograd_step(layer, X, y)
    loss, _ = linear_cross_entropy_step(layer, X, y)
    torch.testing.assert_close(loss, loss_ref)
    torch.testing.assert_close(layer.weight.grad, grad_w_ref)
    torch.testing.assert_close(layer.bias.grad, grad_b_ref)


@pytest.mark.parametrize(
    "module, criterion",
    [
        (SubspaceHead(8, 3, hidden_layer_sizes=(4,)), nn.CrossEntropyLoss()),
        (SubspaceHead(8, 3, bottleneck=4), nn.CrossEntropyLoss()),
        (SubspaceHead(8, 3), nn.CrossEntropyLoss(weight=torch.ones(3))),
        (SubspaceHead(8, 3), nn.CrossEntropyLoss(label_smoothing=0.1)),
        (SubspaceHead(8, 3), nn.CrossEntropyLoss(reduction="sum")),
        (SubspaceHead(8, 3), nn.NLLLoss()),
        (nn.Sequential(nn.Linear(8, 3)), nn.CrossEntropyLoss()),
    ],
    ids=["mlp", "bottleneck", "class-weights", "smoothing", "sum", "nll", "other"],
)
def test_anything_but_the_plain_linear_head_uses_autograd(module, criterion):
    assert closed_form_layer(module, criterion) is None


def test_plain_linear_head_is_recognised():
    head = SubspaceHead(8, 3)
    assert closed_form_layer(head, nn.CrossEntropyLoss()) is head.layers[0]


def _features(seed=0, n=600, d=12, n_classes=4):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(n_classes, d))
    y = rng.integers(0, n_classes, size=n)
    X = centers[y] + rng.normal(size=(n, d))
    return X.astype(np.float32), y


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_fit_matches_a_fit_through_autograd(monkeypatch, optimizer, early_stopping):
    X, y = _features()
    params = dict(
        optimizer=optimizer,
        lr=1e-2,
        max_epochs=8,
        batch_size=32,
        early_stopping=early_stopping,
        device="cpu",
        random_state=0,
    )
    fast = SubspaceHeadClassifier(**params).fit(X, y)
    monkeypatch.setattr(_training, "closed_form_layer", lambda *args: None)
    slow = SubspaceHeadClassifier(**params).fit(X, y)

    np.testing.assert_allclose(
        fast.predict_proba(X), slow.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        fast.net_.history[:, "train_loss"],
        slow.net_.history[:, "train_loss"],
        rtol=1e-5,
    )
    assert fast.best_epoch_ == slow.best_epoch_


def test_mlp_head_is_trained_by_autograd(monkeypatch):
    def fail(*args):
        raise AssertionError("the closed-form step must not run for an MLP")

    monkeypatch.setattr(_training, "linear_cross_entropy_step", fail)
    X, y = _features()
    clf = SubspaceHeadClassifier(
        (8,), lr=1e-2, max_epochs=10, early_stopping=False, device="cpu", random_state=0
    )
    assert clf.fit(X, y).score(X, y) > 0.9


class _GradRecorder(Callback):
    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.norms.append({name: p.grad.norm().item() for name, p in named_parameters})


def _linear_net(n_features, **params):
    """A FastNet training the linear SubspaceHead on 4 classes."""
    return FastNet(
        SubspaceHead,
        module__n_features=n_features,
        module__n_classes=4,
        criterion=nn.CrossEntropyLoss,
        iterator_train=SliceLoader,
        train_split=None,
        verbose=0,
        **params,
    )


def test_closed_form_step_still_notifies_gradient_callbacks():
    X, y = _features(n=64)
    recorder = _GradRecorder()
    net = _linear_net(
        X.shape[1],
        optimizer=torch.optim.AdamW,
        max_epochs=2,
        batch_size=16,
        callbacks=[recorder],
    )
    net.fit(X, y)
    assert len(recorder.norms) == 2 * 4
    assert set(recorder.norms[0]) == {"layers.0.weight", "layers.0.bias"}
    assert all(norm > 0 for step in recorder.norms for norm in step.values())


@pytest.mark.parametrize("block_bytes", [1, 4 * 3 * 7, 4 * 3 * 20, 2**30])
def test_gathered_blocks_give_the_same_batches(monkeypatch, block_bytes):
    X = torch.arange(50 * 3, dtype=torch.float32).reshape(50, 3)
    data = TensorData(X, torch.arange(50))
    reference = [yb.tolist() for _, yb in SliceLoader(data, 7, shuffle=True, seed=3)]
    monkeypatch.setattr(_training, "_GATHER_BLOCK_BYTES", block_bytes)
    batches = list(SliceLoader(data, 7, shuffle=True, seed=3))
    assert [yb.tolist() for _, yb in batches] == reference
    for Xb, yb in batches:
        assert torch.equal(Xb, X[yb])


def test_optimizer_that_needs_a_closure_gets_skorchs_step():
    # LBFGS re-evaluates the loss through the closure; it must still get one.
    X, y = _features(n=64)
    net = _linear_net(
        X.shape[1], optimizer=torch.optim.LBFGS, lr=0.5, max_epochs=3, batch_size=64
    )
    net.fit(X, y)
    losses = net.history[:, "train_loss"]
    assert losses[-1] < losses[0]
