"""`TrainingNet`: the skorch net every torch model of the library trains with.

It changes skorch only through public extension points:

- ``get_dataset`` keeps the data as whole tensors (:class:`TensorData`),
  moved to the training device once per fit;
- ``get_loss`` passes every target tensor to the criterion
  (``criterion(y_pred, *targets)``, e.g. class indices and sample weights)
  and adds the L2 penalty of the full-batch solver;
- ``train_step`` takes a plain "gradients, then ``optimizer.step()``" step
  for optimizers that never re-evaluate the loss, and skorch's closure step
  for L-BFGS;
- ``get_default_callbacks`` leaves out skorch's epoch table when
  ``verbose=0``.

Batching (:class:`SliceLoader`), the validation split
(:class:`HoldoutSplit`) and the stopping rules (:mod:`._convergence`) are
passed in as ``iterator_train``, ``train_split`` and callbacks.
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator
from torch import nn

from ._closed_form import linear_cross_entropy
from ._data import SliceLoader, TensorData, as_float32_tensor
from ._lbfgs import ScipyLBFGS
from ._threads import fixed_threads

#: Optimizer names, and the torch class behind each.
OPTIMIZERS = {
    "lbfgs": ScipyLBFGS,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}

#: Learning rate used when ``lr=None``.
DEFAULT_LR = {"lbfgs": 1.0, "adamw": 1e-3, "sgd": 1e-2}

# L-BFGS iterations per skorch epoch. Each epoch starts a fresh curvature
# history, so epochs are long; they still report progress on slow fits.
LBFGS_ITERATIONS_PER_EPOCH = 100

# L-BFGS stops once the largest gradient entry of the mean loss is below
# this (or the float32 loss stops changing): LogisticRegression's default
# stopping rule (its ``tol=1e-4`` is SciPy's ``gtol`` on the same mean-loss
# gradient). On digits, breast_cancer, wine, iris and a binary task, 1e-5
# takes 20-70 % more iterations for the same test accuracy.
LBFGS_GRADIENT_TOLERANCE = 1e-4

# SGD momentum, as in the paper's SGD heads.
SGD_MOMENTUM = 0.9


class WeightedCrossEntropy(nn.Module):
    """Cross-entropy averaged with per-sample weights.

    ``sum(w_i * loss_i) / sum(w_i)``: scaling every weight by a constant
    changes nothing, and a weight of 2 counts like a repeated sample, as
    ``sample_weight`` does in scikit-learn.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training import WeightedCrossEntropy
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> y = torch.tensor([0, 0])
    >>> plain = WeightedCrossEntropy()(logits, y)
    >>> bool(torch.isclose(plain, torch.nn.functional.cross_entropy(logits, y)))
    True
    >>> float(WeightedCrossEntropy()(logits, y, torch.tensor([1.0, 0.0])))
    0.126...
    """

    def forward(self, logits, y, sample_weight=None):
        if sample_weight is None:
            return F.cross_entropy(logits, y)
        losses = F.cross_entropy(logits, y, reduction="none")
        return (losses * sample_weight).sum() / sample_weight.sum()


@functools.cache
def _fused_step_works(optimizer_cls, device_type):
    try:
        param = torch.zeros(1, device=device_type, requires_grad=True)
        param.grad = torch.ones_like(param)
        optimizer_cls([param], lr=0.1, fused=True).step()
    except (RuntimeError, TypeError, ValueError, NotImplementedError):
        return False
    return True


def optimizer_settings(name, *, lr, weight_decay, device):
    """skorch arguments for the optimizer ``name``.

    Parameters
    ----------
    name : {"lbfgs", "adamw", "sgd"}
        The optimizer.
    lr : float or None
        Learning rate; None takes :data:`DEFAULT_LR`.
    weight_decay : float
        L2 strength: decoupled weight decay for AdamW, the L2 gradient term
        for SGD, and ``0.5 * weight_decay * ||W||^2`` added to the loss for
        L-BFGS (which has no weight decay of its own). Biases are penalised
        by AdamW and SGD as torch does, but not by the L-BFGS penalty.
    device : str
        Training device, to probe for fused AdamW/SGD kernels.

    Returns
    -------
    dict
        ``optimizer``, ``lr``, ``l2`` and the ``optimizer__*`` arguments of
        :class:`TrainingNet`.

    Examples
    --------
    >>> from sklearn_subspace.training._net import optimizer_settings
    >>> settings = optimizer_settings(
    ...     "lbfgs", lr=None, weight_decay=1e-3, device="cpu")
    >>> settings["lr"], settings["l2"], settings["optimizer__max_iter"]
    (1.0, 0.001, 100)
    """
    optimizer = OPTIMIZERS[name]
    settings = {
        "optimizer": optimizer,
        "lr": DEFAULT_LR[name] if lr is None else float(lr),
        "l2": 0.0,
    }
    if name == "lbfgs":
        settings.update(
            l2=float(weight_decay),
            optimizer__max_iter=LBFGS_ITERATIONS_PER_EPOCH,
            optimizer__tolerance_grad=LBFGS_GRADIENT_TOLERANCE,
        )
        return settings
    settings["optimizer__weight_decay"] = float(weight_decay)
    if name == "sgd":
        settings["optimizer__momentum"] = SGD_MOMENTUM
    # The fused kernels update all parameters in one call instead of a chain
    # of small ops, a noticeable share of a small model's step. Support
    # depends on the torch version and device, so it is probed, not guessed.
    if _fused_step_works(optimizer, torch.device(device).type):
        settings["optimizer__fused"] = True
    return settings


def _as_target_tensor(values, device):
    if isinstance(values, torch.Tensor):
        return values.to(device)
    values = np.asarray(values)
    dtype = torch.long if values.dtype.kind in "iub" else torch.float32
    return torch.as_tensor(values, dtype=dtype, device=device)


class TrainingNet(NeuralNet):
    """``skorch.NeuralNet`` for in-memory tensors, sample weights and L-BFGS.

    Parameters
    ----------
    module, criterion, optimizer, **kwargs
        As in :class:`skorch.NeuralNet`.
    l2 : float, default=0.0
        Strength of the penalty ``0.5 * l2 * sum ||W||^2`` over the weight
        matrices (parameters with two or more dimensions), added to the
        training loss. Used by the L-BFGS solver; the others decay weights
        inside the optimizer.
    n_threads : int or None, default=None
        Torch and BLAS threads while training (see
        :func:`threads_for_step`); None leaves the process's settings.
    linear_layer : str or None, default=None
        Name (in ``module.named_modules()``) of an ``nn.Linear`` that is the
        whole model, for a criterion of :class:`WeightedCrossEntropy`: the
        training step then computes the loss and its gradients in closed
        form (:mod:`._closed_form`) instead of through autograd. The
        caller vouches that the module's output is that layer's output.

    Notes
    -----
    Batches are :class:`SliceLoader` slices unless ``iterator_train`` /
    ``iterator_valid`` say otherwise. ``fit(X, y)`` takes ``y`` as one array or a tuple of arrays (class
    indices and sample weights, teacher features and class indices, ...).
    Integer arrays become int64 tensors, others float32; all are moved to
    the training device once.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn_subspace.training import TrainingNet, WeightedCrossEntropy
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> net = TrainingNet(
    ...     torch.nn.Linear, module__in_features=3, module__out_features=2,
    ...     criterion=WeightedCrossEntropy, optimizer=torch.optim.AdamW,
    ...     batch_size=8, train_split=None, max_epochs=20, lr=0.05, verbose=0)
    >>> net = net.fit(X, (y, np.ones(40, dtype=np.float32)))
    >>> bool((net.predict(X).argmax(axis=1) == y).mean() > 0.9)
    True
    """

    def __init__(
        self, module, *args, l2=0.0, n_threads=None, linear_layer=None, **kwargs
    ):
        # Slices of whole tensors, not a DataLoader collating sample by sample.
        kwargs.setdefault("iterator_train", SliceLoader)
        kwargs.setdefault("iterator_valid", SliceLoader)
        super().__init__(module, *args, **kwargs)
        self.l2 = l2
        self.n_threads = n_threads
        self.linear_layer = linear_layer

    def get_default_callbacks(self):
        callbacks = super().get_default_callbacks()
        if self.verbose:
            return callbacks
        # skorch formats the epoch table even when it prints nothing: about
        # a millisecond per epoch, a quarter of a short fit of a small head.
        return [(name, cb) for name, cb in callbacks if name != "print_log"]

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # ``fit`` goes through here too.
        with fixed_threads(self.n_threads):
            return super().partial_fit(X, y, classes=classes, **fit_params)

    def get_dataset(self, X, y=None):
        if isinstance(X, TensorData):
            return X
        if y is None:
            # Prediction: keep X where it is (no copy on CPU); ``infer``
            # moves each batch to the device, so data larger than the
            # device's memory can still be predicted.
            return TensorData(as_float32_tensor(X, "cpu"))
        # Training: move everything to the device once, not per batch.
        if isinstance(y, tuple):
            targets = tuple(_as_target_tensor(t, self.device) for t in y)
        else:
            targets = _as_target_tensor(y, self.device)
        return TensorData(as_float32_tensor(X, self.device), targets)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        targets = y_true if isinstance(y_true, tuple) else (y_true,)
        loss = self.criterion_(y_pred, *targets)
        if training and self.l2:
            penalty = sum(
                param.square().sum()
                for _, param in self.get_all_learnable_params()
                if param.ndim >= 2
            )
            loss = loss + 0.5 * self.l2 * penalty
        return loss

    def _wants_gradients(self):
        """Whether a callback acts on ``on_grad_computed`` (e.g. clipping)."""
        base = Callback.on_grad_computed
        return any(
            getattr(type(callback), "on_grad_computed", base) is not base
            for _, callback in self.callbacks_
        )

    def _notify_gradients(self, batch):
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )

    def train_step(self, batch, **fit_params):
        """One optimisation step.

        L-BFGS re-evaluates the loss during its line search, so it steps
        with a closure; every other optimizer of the engine takes
        "gradients, then ``optimizer.step()``", which is what skorch's
        closure step reduces to for them. Either way the step is skorch's
        ``train_step_single``, and ``on_grad_computed`` reaches the
        callbacks that act on it.
        """
        notify = self._wants_gradients()
        # The closed form sets every gradient itself: clearing them first is
        # a tenth of a small fit's time.
        clear = self._closed_form_layer(fit_params) is None
        if not isinstance(self.optimizer_, (ScipyLBFGS, torch.optim.LBFGS)):
            if clear:
                self.optimizer_.zero_grad(set_to_none=True)
            step = self.train_step_single(batch, **fit_params)
            if notify:
                self._notify_gradients(batch)
            self.optimizer_.step()
            return step
        steps = []

        def closure():
            if clear:
                self.optimizer_.zero_grad(set_to_none=True)
            steps.append(self.train_step_single(batch, **fit_params))
            if notify:
                self._notify_gradients(batch)
            return steps[-1]["loss"]

        self.optimizer_.step(closure)
        # As skorch's accumulator: the loss at the start of the step.
        return steps[0]

    def _closed_form_layer(self, fit_params):
        """The ``nn.Linear`` the closed-form step trains, or None."""
        if (
            self.linear_layer is None
            or fit_params
            or not isinstance(self.criterion_, WeightedCrossEntropy)
        ):
            return None
        return self.module_.get_submodule(self.linear_layer)

    def train_step_single(self, batch, **fit_params):
        """skorch's step, or the closed-form one for a plain linear model."""
        layer = self._closed_form_layer(fit_params)
        if layer is None:
            return super().train_step_single(batch, **fit_params)
        X, targets = batch
        targets = targets if isinstance(targets, tuple) else (targets,)
        loss, logits = linear_cross_entropy(layer, X, *targets, l2=self.l2)
        return {"loss": loss, "y_pred": logits}

    def lbfgs_iterations(self):
        """L-BFGS iterations taken so far in this fit (0 for other optimizers).

        Read from the optimizer's public ``state_dict``; both L-BFGS
        optimizers keep their counters in the state of their first parameter.
        """
        if not isinstance(self.optimizer_, (ScipyLBFGS, torch.optim.LBFGS)):
            return 0
        state = self.optimizer_.state_dict()["state"]
        return int(state[0]["n_iter"]) if 0 in state else 0


__all__ = ["TrainingNet", "WeightedCrossEntropy"]
