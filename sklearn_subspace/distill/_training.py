"""How every distillation student is trained: through the library's one engine.

The subspace-native student and the baselines it is compared against are all
trained by :func:`fit_student`, a :class:`~sklearn_subspace.training.TrainingNet`
(skorch) set up the same way for each of them:

- the module is built here, seeded, with its lazy layers materialised
  (:func:`build_module`);
- the loss is a plain function of the outputs and the targets
  (:class:`~sklearn_subspace.training.CallableLoss`); the first target of
  every student is the class indices, followed by what it regresses or
  distils and, optionally, the sample weights;
- the validation split is the engine's
  :class:`~sklearn_subspace.training.HoldoutSplit`, stratified on those class
  indices: it depends only on the labels and the seed, so for one seed every
  method holds out the same rows (:func:`split_rows` gives them to callers
  that fit heads on the training part);
- the seeds come from :func:`~sklearn_subspace.training.draw_seeds` with the
  names :data:`SEED_NAMES`, so the initial body, batch order and split are
  shared by every method;
- a :func:`~sklearn_subspace.training.validation_score` records
  ``valid_accuracy`` each epoch, and the engine's stopping rule
  (:func:`~sklearn_subspace.training.stopping_callbacks`) watches it: stop
  once it has not improved for ``patience`` epochs and restore the best
  epoch, or, with ``tol=None``, train exactly ``max_epochs`` epochs and
  restore the best one.

Sharing all of this is what makes the comparison fair: the same data, split,
batch order, initial weights, stopping rule and selection criterion for
every method.
"""

import math
import threading

import numpy as np
import torch
from torch import nn

from ..training import (
    CallableLoss,
    FiniteLoss,
    HoldoutSplit,
    TensorData,
    TrainingNet,
    draw_seeds,
    module_outputs,
    stopping_callbacks,
    stratify_problem,
    threads_for_step,
    validation_score,
    warn_if_not_converged,
)
from ..training._inference import PREDICT_BATCH_SIZE
from ..training._net import optimizer_settings

#: Optimizer names accepted by ``optimizer=``.
OPTIMIZERS = ("adamw", "sgd")

#: Seeds every student fit draws, in this order (see ``draw_seeds``).
SEED_NAMES = ("init", "shuffle", "split", "projection", "head")


def student_seeds(random_state):
    """Seeds for a fit: student init, batch order, split, projection, head.

    Examples
    --------
    >>> from sklearn_subspace.distill._training import student_seeds
    >>> from sklearn_subspace.training import draw_seeds
    >>> seeds = student_seeds(0)
    >>> sorted(seeds)
    ['head', 'init', 'projection', 'shuffle', 'split']
    >>> seeds["split"] == draw_seeds(0)["split"]
    True
    """
    return draw_seeds(random_state, SEED_NAMES)


def check_sample_weight(sample_weight, n_samples):
    """``sample_weight`` as float32 weights of shape (n_samples,), or None.

    Examples
    --------
    >>> from sklearn_subspace.distill._training import check_sample_weight
    >>> check_sample_weight(2, 3)
    array([2., 2., 2.], dtype=float32)
    """
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}, expected ({n_samples},): "
            "one weight per training sample."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(
            "sample_weight must be finite and non-negative; got NaN, inf or "
            "negative values."
        )
    if not weights.sum() > 0:
        raise ValueError(
            "sample_weight sums to zero: at least one sample needs a positive weight."
        )
    return weights.astype(np.float32)


def validation_split(y_idx, validation_fraction, seed):
    """The students' ``train_split``: a :class:`HoldoutSplit`, or None.

    Stratified on the class indices when every class can land on both sides
    (see :func:`~sklearn_subspace.training.stratify_problem`), otherwise a
    seeded random holdout.
    """
    if validation_fraction is None:
        return None
    stratify = stratify_problem(y_idx, validation_fraction) is None
    return HoldoutSplit(validation_fraction, seed, stratify=stratify)


def split_rows(split, y_idx):
    """Training and validation rows of ``split`` (all rows and none for None).

    They are the rows the student nets train and validate on, since those
    nets split datasets whose first target is ``y_idx``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.distill._training import split_rows, validation_split
    >>> y = np.repeat([0, 1], 10)
    >>> train, valid = split_rows(validation_split(y, 0.2, seed=0), y)
    >>> len(train), len(valid), y[valid].tolist()
    (16, 4, [0, 0, 1, 1])
    """
    y_idx = np.asarray(y_idx)
    if split is None:
        return np.arange(len(y_idx)), np.arange(0)
    labels = torch.as_tensor(y_idx, dtype=torch.long)
    return split.indices(TensorData(torch.empty(len(y_idx), 0), labels))


# Held while a module draws its initial weights from torch's global generator.
_GLOBAL_RNG_LOCK = threading.RLock()


def build_module(factory, kwargs, init_seed, probe):
    """Build a module from ``factory(**kwargs)`` with seeded initialisation.

    Modules draw their initial weights from torch's global generator; the
    draw happens inside :func:`torch.random.fork_rng`, seeded by
    ``init_seed``, so the weights are a pure function of the seed and the
    caller's global random state is left untouched. ``probe`` (a small input
    batch) is passed through the new module in the same context, which also
    materialises lazy layers (``nn.LazyLinear``) from the same seed.

    Returns
    -------
    module : torch.nn.Module
        The new module, in eval mode.
    output : torch.Tensor
        Its output on ``probe``.
    """
    # torch's global generator is shared by the threads of a process (a
    # threaded dask worker runs several students at once): one seeded
    # construction at a time, or two would draw from each other's seed.
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        module = factory(**kwargs)
        if not isinstance(module, torch.nn.Module):
            raise TypeError(
                f"The student factory returned a {type(module).__name__}, not a "
                "torch.nn.Module. Pass an nn.Module subclass, or a function "
                "that builds and returns one."
            )
        module.eval()
        with torch.no_grad():
            output = module(probe)
    return module, output


# -- losses: loss_fn(outputs, y, *targets, sample_weight=None) ----------------


def weighted_mean(losses, sample_weight=None):
    """Mean of per-sample ``losses``, weighted as ``sample_weight`` says."""
    if sample_weight is None:
        return losses.mean()
    return (losses * sample_weight).sum() / sample_weight.sum()


def cross_entropy_loss(outputs, y, sample_weight=None):
    """Cross-entropy on the class indices ``y`` (the scratch student)."""
    losses = nn.functional.cross_entropy(outputs, y, reduction="none")
    return weighted_mean(losses, sample_weight)


def mse_loss(outputs, y, targets, sample_weight=None):
    """Mean squared error to ``targets`` (``y`` only picks the split)."""
    losses = (outputs - targets).square().mean(dim=1)
    return weighted_mean(losses, sample_weight)


def cosine_loss(outputs, y, targets, sample_weight=None):
    """One minus the cosine similarity to ``targets``."""
    losses = 1.0 - nn.functional.cosine_similarity(outputs, targets, dim=1)
    return weighted_mean(losses, sample_weight)


def mixed_loss(head, restore, alpha, label_map=None):
    """The mixed objective: the head's cross-entropy and the MSE, as a loss function.

    ``alpha * CE(head(restore(outputs)), y) + (1 - alpha) * MSE(outputs,
    targets)``, with the MSE of :func:`mse_loss` on the standardized
    targets. The cross-entropy flows through ``head`` (a frozen torch module)
    to the student's outputs; a term whose weight is zero is not computed.

    Parameters
    ----------
    head : torch.nn.Module
        Maps projected features to class logits; its parameters should not
        require gradients.
    restore : callable
        Maps the student's raw outputs to the head's input coordinates
        (:meth:`TargetScale.restore`).
    alpha : float
        Weight of the cross-entropy, in [0, 1].
    label_map : torch.Tensor or None, default=None
        Maps class indices ``y`` to the head's logit columns (-100 for a
        class the head never saw, which the cross-entropy then ignores);
        ``None`` when they agree.

    Returns
    -------
    callable
        ``loss(outputs, y, targets, sample_weight=None)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.distill._training import mixed_loss, mse_loss
    >>> head = torch.nn.Linear(2, 3).requires_grad_(False)
    >>> outputs, targets = torch.randn(4, 2), torch.randn(4, 2)
    >>> y = torch.tensor([0, 1, 2, 0])
    >>> mse_only = mixed_loss(head, lambda o: o, alpha=0.0)
    >>> bool(mse_only(outputs, y, targets) == mse_loss(outputs, y, targets))
    True
    """

    def loss(outputs, y, targets, sample_weight=None):
        losses = 0.0
        if alpha < 1:
            losses = (1.0 - alpha) * (outputs - targets).square().mean(dim=1)
        if alpha > 0:
            labels = y if label_map is None else label_map.to(y.device)[y]
            logits = head(restore(outputs))
            cross_entropy = nn.functional.cross_entropy(
                logits, labels, reduction="none", ignore_index=-100
            )
            losses = losses + alpha * cross_entropy
        return weighted_mean(losses, sample_weight)

    return loss


def kd_loss(temperature, alpha):
    """Hinton et al.'s loss on teacher logits and labels, as a loss function."""

    def loss(outputs, y, teacher_logits, sample_weight=None):
        soft = nn.functional.kl_div(
            nn.functional.log_softmax(outputs / temperature, dim=1),
            nn.functional.log_softmax(teacher_logits / temperature, dim=1),
            reduction="none",
            log_target=True,
        ).sum(dim=1)
        hard = nn.functional.cross_entropy(outputs, y, reduction="none")
        # T^2 keeps the soft term's gradients on the scale of the hard term.
        losses = alpha * temperature**2 * soft + (1.0 - alpha) * hard
        return weighted_mean(losses, sample_weight)

    return loss


def logits_accuracy(y_pred, y_true):
    """Share of validation rows whose largest logit is the true class."""
    labels = y_true[0] if isinstance(y_true, tuple) else y_true
    return float((y_pred.argmax(dim=1) == labels).float().mean())


# -- the fit ------------------------------------------------------------------


def _history(net):
    """The epoch history as plain lists (NaN where there was no validation)."""
    nan = float("nan")
    rows = list(net.history)
    return {
        "epoch": [int(row["epoch"]) for row in rows],
        "train_loss": [float(row["train_loss"]) for row in rows],
        "valid_loss": [float(row.get("valid_loss", nan)) for row in rows],
        "valid_accuracy": [float(row.get("valid_accuracy", nan)) for row in rows],
    }


def fit_student(
    module,
    X,
    targets,
    loss_fn,
    *,
    settings,
    seeds,
    split,
    score_fn,
    device,
    name,
):
    """Train ``module`` in place with the engine; return its history.

    Parameters
    ----------
    module : torch.nn.Module
        The network to train (built by :func:`build_module`).
    X : ndarray of shape (n_samples, ...)
        All training inputs, validation rows included.
    targets : tuple of ndarray
        Per-sample targets, class indices first; the loss is
        ``loss_fn(outputs, *targets)``.
    loss_fn : callable
        Returns a scalar loss tensor.
    settings : dict
        ``optimizer``, ``lr``, ``weight_decay``, ``max_epochs``,
        ``batch_size``, ``tol``, ``patience``, ``verbose`` and
        ``callbacks`` (extra skorch callbacks or None).
    seeds : dict
        From :func:`student_seeds`; ``"shuffle"`` orders the batches.
    split : HoldoutSplit or None
        From :func:`validation_split`.
    score_fn : callable
        ``score_fn(outputs, labels) -> accuracy`` on the validation part
        (``labels``: the class indices of its rows, a NumPy array).
    device : torch.device
        Where to train.
    name : str
        What is trained, for messages (e.g. ``"scratch student"``).

    Returns
    -------
    history : dict of list
        ``epoch``, ``train_loss``, ``valid_loss`` and ``valid_accuracy``
        (the validation entries are NaN without a split).
    best_epoch : int
        The 1-based epoch whose weights ``module`` holds on return.
    converged : bool
        Whether a stopping rule fired before ``max_epochs`` (True with
        ``tol=None``); when not, a ``ConvergenceWarning`` was issued.
    """
    s = settings
    callbacks = [("finite", FiniteLoss(name))]
    if split is not None:
        callbacks.append(("valid_accuracy", validation_score(score_fn)))
    callbacks += stopping_callbacks(
        solver=s["optimizer"],
        validation=split is not None,
        tol=s["tol"],
        patience=s["patience"],
        max_epochs=s["max_epochs"],
        monitor="valid_accuracy",
        lower_is_better=False,
    )
    n_params = sum(p.numel() for p in module.parameters())
    net = TrainingNet(
        module,
        criterion=CallableLoss,
        criterion__loss_fn=loss_fn,
        max_epochs=s["max_epochs"],
        batch_size=s["batch_size"],
        iterator_train__shuffle=True,
        iterator_train__seed=seeds["shuffle"],
        iterator_valid__batch_size=PREDICT_BATCH_SIZE,
        train_split=split,
        callbacks=[*callbacks, *(s["callbacks"] or [])],
        # A student step costs about batch x parameters multiply-adds.
        n_threads=threads_for_step(s["batch_size"], n_params, 1, device),
        device=str(device),
        verbose=s["verbose"],
        **optimizer_settings(
            s["optimizer"], lr=s["lr"], weight_decay=s["weight_decay"], device=device
        ),
    )
    net.fit(X, tuple(targets))
    module.eval()
    history = _history(net)
    stopping = dict(net.callbacks_).get("stopping")
    best = getattr(stopping, "best_epoch_", None)
    best_epoch = int(best) if best is not None else len(history["epoch"])
    converged = warn_if_not_converged(
        net, tol=s["tol"], max_epochs=s["max_epochs"], estimator=f"The {name}"
    )
    return history, best_epoch, converged


def predict_outputs(module, X):
    """Outputs of a trained student on ``X``, under the small-step thread rule."""
    n_params = sum(p.numel() for p in module.parameters())
    device = next(module.parameters(), torch.empty(0)).device
    return module_outputs(
        module,
        X,
        n_threads=threads_for_step(
            min(len(X), PREDICT_BATCH_SIZE), n_params, 1, device
        ),
    )


class TargetScale(nn.Module):
    """A trained network followed by the fixed map back to the target scale.

    Students regress standardized targets, ``(t - mean) / scale`` with a
    per-dimension ``mean`` and one global ``scale`` (the loss is then the
    original MSE divided by ``scale**2``, with the same minimiser): raw
    teacher features can be far from unit scale, and a freshly initialised
    network would spend most of a short budget just growing its outputs.
    This module maps the network's outputs back, so that it alone maps
    inputs to the target coordinates.

    With ``normalize=True`` (cosine loss) only the direction is learned and
    outputs are rescaled to the norm ``scale`` instead.

    Parameters
    ----------
    module : torch.nn.Module
        The trained network.
    mean : torch.Tensor of shape (n_outputs,)
        Per-dimension mean of the training targets (zeros for cosine).
    scale : float
        Global scale of the training targets, or their mean norm for cosine.
    normalize : bool, default=False
        Whether outputs are normalized to norm ``scale``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.distill._training import TargetScale
    >>> net = TargetScale(torch.nn.Identity(), torch.tensor([1.0, 2.0]), 10.0)
    >>> net(torch.tensor([[0.5, -0.5]]))
    tensor([[ 6., -3.]])
    """

    def __init__(self, module, mean, scale, normalize=False):
        super().__init__()
        self.module = module
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.normalize = bool(normalize)

    def restore(self, outputs):
        """Map raw network outputs to the target coordinates."""
        if self.normalize:
            norms = outputs.norm(dim=1, keepdim=True).clamp_min(1e-12)
            return outputs / norms * self.scale
        return outputs * self.scale + self.mean

    def forward(self, X):
        return self.restore(self.module(X))


def target_statistics(targets):
    """Per-dimension mean and one global scale of a (n, k) target array.

    Returns
    -------
    mean : ndarray of shape (k,)
    scale : float
        Root mean squared deviation from ``mean`` over all entries; 1.0 when
        the targets are constant.
    """
    targets = np.asarray(targets, dtype=np.float64)
    mean = targets.mean(axis=0)
    scale = float(np.sqrt(np.mean((targets - mean) ** 2)))
    return (
        mean.astype(np.float32),
        scale if scale > 0 and math.isfinite(scale) else 1.0,
    )
