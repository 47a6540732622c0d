"""Per-epoch callbacks of the training engine beyond skorch's own.

- :class:`ValidationScore` records a score of the validation outputs in the
  history each epoch (for example the accuracy of a distillation student,
  read through the head that will classify its outputs), from the outputs
  skorch already computed for the validation loss: no second forward pass.
- :class:`FiniteLoss` stops a fit whose training loss became NaN or
  infinite, with a message that names the fix, instead of training on and
  returning NaN weights.
"""

import math

import torch
from skorch.callbacks import Callback


class ValidationScore(Callback):
    """Record ``score_fn(validation outputs, validation targets)`` each epoch.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(y_pred, y_true) -> float``: ``y_pred`` is the net's
        output on the whole validation part (a tensor, in the order of the
        split), ``y_true`` the validation targets as the dataset holds them
        (a tensor, or a tuple of tensors).
    name : str, default="valid_accuracy"
        History key of the score.

    Notes
    -----
    It runs before the stopping callbacks when listed before them, so they
    can monitor ``name``. Without a validation split nothing is recorded.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn_subspace.training import (
    ...     HoldoutSplit, TrainingNet, ValidationScore, WeightedCrossEntropy)
    >>> X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> def accuracy(y_pred, y_true):
    ...     return float((y_pred.argmax(1) == y_true).float().mean())
    >>> net = TrainingNet(
    ...     torch.nn.Linear, module__in_features=3, module__out_features=2,
    ...     criterion=WeightedCrossEntropy, optimizer=torch.optim.AdamW,
    ...     train_split=HoldoutSplit(0.2, seed=0), max_epochs=3, verbose=0,
    ...     callbacks=[("valid_accuracy", ValidationScore(accuracy))])
    >>> net = net.fit(X, y)
    >>> len(net.history[:, "valid_accuracy"])
    3
    """

    def __init__(self, score_fn, name="valid_accuracy"):
        self.score_fn = score_fn
        self.name = name

    def on_epoch_begin(self, net, **kwargs):
        self.outputs_ = []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training and y_pred is not None:
            self.outputs_.append(y_pred.detach())

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        outputs, self.outputs_ = self.outputs_, []
        if dataset_valid is None or not outputs:
            return
        score = self.score_fn(torch.cat(outputs), dataset_valid.y)
        net.history.record(self.name, float(score))


class FiniteLoss(Callback):
    """Raise ``FloatingPointError`` when an epoch's training loss is not finite.

    Parameters
    ----------
    name : str, default="model"
        What is being trained, for the message.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn_subspace.training import FiniteLoss, TrainingNet
    >>> X = np.ones((8, 2), dtype=np.float32)
    >>> net = TrainingNet(
    ...     torch.nn.Linear, module__in_features=2, module__out_features=1,
    ...     criterion=torch.nn.MSELoss, optimizer=torch.optim.SGD, lr=1e9,
    ...     train_split=None, max_epochs=50, verbose=0,
    ...     callbacks=[("finite", FiniteLoss("regressor"))])
    >>> net.fit(X, np.full((8, 1), 1e3, dtype=np.float32))
    Traceback (most recent call last):
    ...
    FloatingPointError: Training the regressor diverged at epoch ...
    """

    def __init__(self, name="model"):
        self.name = name

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"Training the {self.name} diverged at epoch "
                f"{len(net.history)}: the loss is {loss}. Lower lr (now "
                f"{net.lr}), or check the inputs and targets for extreme values."
            )
