"""Per-epoch callbacks of the training engine beyond skorch's own.

- :func:`validation_score` is skorch's ``EpochScoring`` of a score of the
  validation outputs (for example the accuracy of a distillation student,
  read through the head that will classify its outputs), computed from the
  outputs skorch already cached for the validation loss: no second forward
  pass.
- :class:`FiniteLoss` stops a fit whose training loss became NaN or
  infinite, with a message that names the fix, instead of training on and
  returning NaN weights.
"""

import math
from functools import partial

from skorch.callbacks import Callback, EpochScoring
from skorch.utils import to_numpy


def _first_target(y):
    """The class labels of a batch's targets, as a NumPy array."""
    return to_numpy(y[0] if isinstance(y, (tuple, list)) else y)


def _score_outputs(net, X, y, score_fn):
    # Under EpochScoring's caching, net.forward returns the outputs of the
    # validation batches just computed, without running the module again.
    return score_fn(net.forward(X), y)


def validation_score(score_fn, name="valid_accuracy"):
    """Record ``score_fn(validation outputs, validation labels)`` each epoch.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(y_pred, labels) -> float``: ``y_pred`` is the net's
        output on the whole validation part (a tensor, in the order of the
        split), ``labels`` the validation class labels (a NumPy array: the
        targets, or their first element when the dataset holds a tuple).
    name : str, default="valid_accuracy"
        History key of the score; higher is better.

    Returns
    -------
    callback : skorch.callbacks.EpochScoring
        Scores the cached validation outputs (``use_caching=True``), so the
        validation part is not run through the module a second time.

    Notes
    -----
    List it before the stopping callbacks so that they can monitor
    ``name``. Without a validation split nothing is recorded.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn_subspace.training import (
    ...     HoldoutSplit, TrainingNet, WeightedCrossEntropy, validation_score)
    >>> X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> def accuracy(y_pred, labels):
    ...     return float(np.mean(y_pred.argmax(1).numpy() == labels))
    >>> net = TrainingNet(
    ...     torch.nn.Linear, module__in_features=3, module__out_features=2,
    ...     criterion=WeightedCrossEntropy, optimizer=torch.optim.AdamW,
    ...     train_split=HoldoutSplit(0.2, seed=0), max_epochs=3, verbose=0,
    ...     callbacks=[("valid_accuracy", validation_score(accuracy))])
    >>> net = net.fit(X, y)
    >>> len(net.history[:, "valid_accuracy"])
    3
    """
    return EpochScoring(
        partial(_score_outputs, score_fn=score_fn),
        lower_is_better=False,
        on_train=False,
        name=name,
        use_caching=True,
        target_extractor=_first_target,
    )


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
