"""Cross-entropy and its gradient for a linear softmax model, in closed form.

For logits ``Z = X Wᵀ + b`` and the (sample-weighted) mean cross-entropy,
the gradients are ``G = (softmax(Z) - onehot(y)) * w / sum(w)``,
``dL/dW = Gᵀ X`` and ``dL/db = sum_i G_i``: the values autograd computes,
without building a graph. The full-batch L-BFGS solver of the linear head
evaluates the loss dozens of times per fit; on small problems (scikit-learn's
digits) autograd's bookkeeping is most of each evaluation's cost.
"""

import torch


def linear_cross_entropy(layer, X, y, sample_weight=None, l2=0.0):
    """Loss and gradients of a linear layer under weighted mean cross-entropy.

    Sets ``layer.weight.grad`` and ``layer.bias.grad`` for the parameters
    that require gradients (a frozen parameter keeps ``grad=None``).

    Parameters
    ----------
    layer : torch.nn.Linear
        The model, with a bias.
    X : torch.Tensor of shape (n_samples, n_features)
        Inputs.
    y : torch.Tensor of shape (n_samples,)
        Class indices.
    sample_weight : torch.Tensor of shape (n_samples,) or None
        Per-sample weights; the loss is ``sum(w_i loss_i) / sum(w_i)``.
    l2 : float, default=0.0
        Adds ``0.5 * l2 * ||W||^2`` to the loss (not the bias).

    Returns
    -------
    loss : torch.Tensor
        The scalar loss (penalty included).
    logits : torch.Tensor of shape (n_samples, n_classes)
        The logits.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training._closed_form import linear_cross_entropy
    >>> layer = torch.nn.Linear(3, 2)
    >>> X, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    >>> loss, _ = linear_cross_entropy(layer, X, y, l2=0.1)
    >>> closed = layer.weight.grad.clone()
    >>> layer.weight.grad = None
    >>> reference = torch.nn.functional.cross_entropy(layer(X), y)
    >>> (reference + 0.05 * layer.weight.square().sum()).backward()
    >>> torch.allclose(closed, layer.weight.grad, atol=1e-6)
    True
    """
    W, b = layer.weight, layer.bias
    with torch.no_grad():
        # Classes along the rows: torch's softmax over a short last axis (10
        # classes) is several times slower than over the first axis.
        logits_t = torch.addmm(b[:, None], W, X.t())
        log_proba = torch.log_softmax(logits_t, dim=0)
        rows = torch.arange(X.shape[0], device=X.device)
        picked = log_proba[y, rows]
        G = log_proba.exp()
        G[y, rows] -= 1.0
        if sample_weight is None:
            loss = -picked.mean()
            G /= X.shape[0]
        else:
            total = sample_weight.sum()
            loss = -(picked * sample_weight).sum() / total
            G *= sample_weight / total
        if W.requires_grad:
            grad_W = G @ X
            if l2:
                grad_W += l2 * W
            W.grad = grad_W
        if b.requires_grad:
            b.grad = G.sum(dim=1)
        if l2:
            loss = loss + 0.5 * l2 * W.square().sum()
    return loss, logits_t.t()
