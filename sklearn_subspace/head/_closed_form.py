"""Closed-form gradients for the paper's linear head.

The linear head is softmax regression: logits ``X @ W.T + b`` under a mean
cross-entropy loss. Its gradients have a textbook closed form,

    G = (softmax(logits) - onehot(y)) / n,   dW = G.T @ X,   db = G.sum(0),

which costs two matrix products and a softmax. Autograd computes the same
numbers, but for a head this small its graph bookkeeping (five backward
nodes, gradient accumulation, a fresh ``.grad`` per step) costs more than
the arithmetic. The compression study trains this head dozens of times per
sweep, so :class:`~sklearn_subspace.head._training.FastNet` takes this path
whenever the module and loss are exactly the linear head and plain
cross-entropy (:func:`closed_form_layer`), and skorch's autograd step
otherwise.
"""

import torch
from torch import nn

from ._modules import SubspaceHead


def closed_form_layer(module, criterion):
    """The ``nn.Linear`` whose gradients :func:`linear_cross_entropy_step`
    can compute for ``module`` under ``criterion``, or None.

    Parameters
    ----------
    module : torch.nn.Module
        The net's module.
    criterion : torch.nn.Module
        The net's loss.

    Returns
    -------
    layer : torch.nn.Linear or None
        The head's only layer when ``module`` is a linear
        :class:`SubspaceHead` (one ``nn.Linear`` with a bias) and
        ``criterion`` is a plain mean ``nn.CrossEntropyLoss`` (no class
        weights, no label smoothing); None otherwise.

    Examples
    --------
    >>> from torch import nn
    >>> from sklearn_subspace.head._closed_form import closed_form_layer
    >>> from sklearn_subspace.head._modules import SubspaceHead
    >>> closed_form_layer(SubspaceHead(8, 3), nn.CrossEntropyLoss())
    Linear(in_features=8, out_features=3, bias=True)
    >>> print(closed_form_layer(SubspaceHead(8, 3, (4,)), nn.CrossEntropyLoss()))
    None
    """
    if type(module) is not SubspaceHead or type(criterion) is not nn.CrossEntropyLoss:
        return None
    if (
        criterion.weight is not None
        or criterion.label_smoothing != 0.0
        or criterion.reduction != "mean"
    ):
        return None
    if len(module.layers) != 1:
        return None
    layer = module.layers[0]
    if type(layer) is not nn.Linear or layer.bias is None:
        return None
    return layer


def linear_cross_entropy_step(layer, X, y):
    """Mean cross-entropy of ``layer(X)`` and its gradients, without autograd.

    The gradients are written into ``layer.weight.grad`` and
    ``layer.bias.grad`` (replacing what was there, as after ``zero_grad``
    and ``backward``), ready for ``optimizer.step()``.

    Parameters
    ----------
    layer : torch.nn.Linear
        The head, with a bias.
    X : torch.Tensor of shape (n_samples, in_features)
        Float32 batch, on the layer's device.
    y : torch.Tensor of shape (n_samples,)
        Int64 class indices in ``[0, out_features)``.

    Returns
    -------
    loss : torch.Tensor
        0-dim tensor, equal to ``nn.functional.cross_entropy(layer(X), y)``
        up to float rounding.
    logits : torch.Tensor of shape (n_samples, out_features)
        ``layer(X)``, detached.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.head._closed_form import linear_cross_entropy_step
    >>> layer = torch.nn.Linear(4, 3)
    >>> X, y = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    >>> loss, logits = linear_cross_entropy_step(layer, X, y)
    >>> reference = torch.nn.functional.cross_entropy(layer(X), y)
    >>> bool(torch.isclose(loss, reference))
    True
    >>> layer.weight.grad.shape
    torch.Size([3, 4])
    """
    weight, bias = layer.weight, layer.bias
    n_samples = X.shape[0]
    with torch.no_grad():
        logits = torch.addmm(bias, X, weight.t())
        log_proba = torch.log_softmax(logits, dim=1)
        loss = nn.functional.nll_loss(log_proba, y)
        # softmax - onehot: n times the gradient of the mean loss with
        # respect to the logits (the 1/n is folded into the products
        # below). exp_ reuses log_proba's memory.
        grad_logits = log_proba.exp_()
        target = y.unsqueeze(1)
        grad_logits.scatter_add_(1, target, grad_logits.new_full(target.shape, -1.0))
        if weight.grad is None:
            weight.grad = torch.empty_like(weight)
        if bias.grad is None:
            bias.grad = torch.empty_like(bias)
        scale = 1.0 / n_samples
        torch.addmm(
            weight.grad, grad_logits.t(), X, beta=0, alpha=scale, out=weight.grad
        )
        torch.sum(grad_logits, dim=0, out=bias.grad).mul_(scale)
    return loss, logits
