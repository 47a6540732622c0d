"""A skorch criterion built from a plain loss function.

skorch builds its criterion from a class and ``criterion__*`` arguments, and
:class:`TrainingNet` calls it as ``criterion(y_pred, *targets)``. Losses
that are simply functions of the outputs and several targets (Hinton
knowledge distillation on teacher logits and labels, a regression of
projected teacher features with sample weights, ...) are wrapped by
:class:`CallableLoss` instead of each getting a module of its own.
"""

from torch import nn


class CallableLoss(nn.Module):
    """Criterion computing ``loss_fn(y_pred, *targets)``.

    Parameters
    ----------
    loss_fn : callable
        Maps the net's outputs and the batch's targets (each target tensor
        of the dataset, in order) to a scalar loss tensor.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training import CallableLoss
    >>> def half_mse(y_pred, target):
    ...     return 0.5 * (y_pred - target).square().mean()
    >>> float(CallableLoss(half_mse)(torch.ones(2, 3), torch.zeros(2, 3)))
    0.5
    """

    def __init__(self, loss_fn):
        super().__init__()
        self.loss_fn = loss_fn

    def forward(self, y_pred, *targets):
        return self.loss_fn(y_pred, *targets)
