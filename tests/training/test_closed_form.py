"""The closed-form linear cross-entropy step equals autograd's."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.training import WeightedCrossEntropy
from sklearn_subspace.training._closed_form import linear_cross_entropy


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 12),
    c=st.integers(2, 6),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    weighted=st.booleans(),
    l2=st.sampled_from([0.0, 1e-3, 0.5]),
    seed=st.integers(0, 2**16),
)
def test_loss_and_gradients_equal_autograd_in_float64(
    n, d, c, scale, weighted, l2, seed
):
    gen = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(d, c).double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(c, d, generator=gen, dtype=torch.float64))
        layer.bias.copy_(torch.randn(c, generator=gen, dtype=torch.float64))
    X = scale * torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=gen)
    w = torch.rand(n, generator=gen, dtype=torch.float64) + 0.1 if weighted else None

    loss, logits = linear_cross_entropy(layer, X, y, w, l2=l2)
    closed = (layer.weight.grad.clone(), layer.bias.grad.clone())

    layer.weight.grad = layer.bias.grad = None
    reference = WeightedCrossEntropy()(layer(X), y, w)
    reference = reference + 0.5 * l2 * layer.weight.square().sum()
    reference.backward()
    torch.testing.assert_close(loss, reference.detach(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(closed[0], layer.weight.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(closed[1], layer.bias.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(logits, layer(X).detach())


def test_frozen_parameters_get_no_gradient():
    # As skorch's Freezer expects: requires_grad=False means no gradient.
    layer = torch.nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    linear_cross_entropy(layer, torch.randn(4, 3), torch.tensor([0, 1, 1, 0]))
    assert layer.weight.grad is not None
    assert layer.bias.grad is None


@pytest.mark.parametrize("optimizer", ["auto", "adamw"])
def test_head_fits_equal_with_and_without_the_closed_form(optimizer, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    params = dict(optimizer=optimizer, max_epochs=20, device="cpu", random_state=0)
    fast = SubspaceHeadClassifier(**params).fit(X, y)
    from sklearn_subspace.training import _net

    # Without a linear_layer the engine goes through skorch's autograd step.
    real = _net.TrainingNet.__init__

    def no_closed_form(self, *args, **kwargs):
        kwargs["linear_layer"] = None
        real(self, *args, **kwargs)

    monkeypatch.setattr(_net.TrainingNet, "__init__", no_closed_form)
    slow = SubspaceHeadClassifier(**params).fit(X, y)
    assert slow.net_.linear_layer is None and fast.net_.linear_layer == "layers.0"
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-4)
