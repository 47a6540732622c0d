"""The student training loop shared by the distiller and the comparison.

Every student in this package -- the subspace-native one and the baselines it
is compared against -- is trained by :func:`train_student`: a plain torch loop
that slices in-memory tensors (no ``DataLoader``: on small in-memory data its
per-sample collation costs more than the training step), draws the batch order
from a local seeded :class:`torch.Generator`, scores a validation split after
every epoch and keeps the weights of the best epoch. Sharing the loop is what
makes the comparison fair: the same budget, batch order and selection rule
for every method.
"""

import copy
import math
import numbers

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from torch import nn

#: Optimizer names accepted by ``optimizer=``.
OPTIMIZERS = ("adamw", "sgd")

# SGD runs with the momentum the paper uses for its SGD heads.
_SGD_MOMENTUM = 0.9

# Rows per forward pass when no gradient is kept (validation, transform).
PREDICT_BATCH_SIZE = 4096


def draw_seeds(random_state):
    """Seeds for a fit: student init, batch order, split, projection, head.

    The comparison and :class:`SubspaceDistiller` both derive their seeds
    here, so that for one ``random_state`` every method sees the same
    validation split, the same batch order and the same initial student body.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As in scikit-learn.

    Returns
    -------
    seeds : dict
        Integer seeds with keys ``init``, ``shuffle``, ``split``,
        ``projection`` and ``head``.

    Examples
    --------
    >>> from sklearn_subspace.distill._training import draw_seeds
    >>> draw_seeds(0) == draw_seeds(0)
    True
    >>> sorted(draw_seeds(0))
    ['head', 'init', 'projection', 'shuffle', 'split']
    """
    rng = check_random_state(random_state)
    values = rng.randint(np.iinfo(np.int32).max, size=5)
    names = ("init", "shuffle", "split", "projection", "head")
    return {name: int(value) for name, value in zip(names, values)}


def check_positive_int(name, value):
    """Return ``value`` as an int, or raise if it is not an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a positive int, got {type(value).__name__}: {value!r}."
        )
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def check_option(name, value, options):
    """Raise a ``ValueError`` listing ``options`` when ``value`` is not one."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"Unknown {name} {value!r}. Valid options: "
            f"{', '.join(repr(option) for option in options)}."
        )
    return value


def split_indices(y, validation_fraction, seed):
    """Training and validation row indices, stratified on ``y`` when possible.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels.
    validation_fraction : float or None
        Share of the rows held out (rounded up); ``None`` holds out nothing.
    seed : int
        Seed of the split.

    Returns
    -------
    train_idx, valid_idx : ndarray of int
        Sorted row indices; ``valid_idx`` is empty when nothing is held out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.distill._training import split_indices
    >>> train, valid = split_indices(np.repeat([0, 1], 10), 0.2, seed=0)
    >>> len(train), len(valid)
    (16, 4)
    """
    n_samples = len(y)
    all_rows = np.arange(n_samples)
    if validation_fraction is None:
        return all_rows, all_rows[:0]
    n_valid = math.ceil(validation_fraction * n_samples)
    if n_valid < 1 or n_valid >= n_samples:
        raise ValueError(
            f"validation_fraction={validation_fraction} of {n_samples} samples "
            f"holds out {n_valid} of them; both parts need at least one sample. "
            "Pass more data, another validation_fraction, or "
            "validation_fraction=None to train on all samples."
        )
    _, counts = np.unique(y, return_counts=True)
    # Stratify when every class can appear on both sides; tiny classes fall
    # back to a plain shuffled split rather than failing.
    can_stratify = counts.min() >= 2 and min(n_valid, n_samples - n_valid) >= len(
        counts
    )
    train_idx, valid_idx = train_test_split(
        all_rows,
        test_size=n_valid,
        stratify=y if can_stratify else None,
        random_state=seed,
    )
    return np.sort(train_idx), np.sort(valid_idx)


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
    with torch.random.fork_rng(devices=[]):
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


def make_optimizer(name, parameters, lr, weight_decay):
    """A torch optimizer by name: AdamW, or SGD with momentum 0.9."""
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(
        parameters, lr=lr, momentum=_SGD_MOMENTUM, weight_decay=weight_decay
    )


def predict_batches(module, X, batch_size=PREDICT_BATCH_SIZE):
    """Outputs of ``module`` on ``X`` (a tensor), in eval mode, no gradients."""
    was_training = module.training
    module.eval()
    with torch.inference_mode():
        outputs = [
            module(X[start : start + batch_size])
            for start in range(0, X.shape[0], batch_size)
        ]
    module.train(was_training)
    return torch.cat(outputs) if outputs else X.new_zeros((0,))


def _score_validation(module, loss_fn, score_fn, X_valid, valid_targets):
    outputs = predict_batches(module, X_valid)
    loss = float(loss_fn(outputs, *valid_targets))
    return loss, float(score_fn(outputs))


def train_student(
    module,
    X,
    targets,
    loss_fn,
    *,
    optimizer,
    lr,
    weight_decay,
    max_epochs,
    batch_size,
    shuffle_seed,
    X_valid=None,
    valid_targets=(),
    score_fn=None,
    verbose=0,
    name="student",
):
    """Train ``module`` in place; keep the weights of the best validation epoch.

    Parameters
    ----------
    module : torch.nn.Module
        The network to train, already on the device of ``X``.
    X : torch.Tensor
        Training inputs, on the training device.
    targets : tuple of torch.Tensor
        Per-sample targets, indexed together with ``X``; the loss is
        ``loss_fn(module(X[idx]), *(t[idx] for t in targets))``.
    loss_fn : callable
        Returns a scalar loss tensor.
    optimizer : {"adamw", "sgd"}
        Optimizer name.
    lr, weight_decay : float
        Optimizer settings.
    max_epochs, batch_size : int
        The training budget.
    shuffle_seed : int
        Seed of the local generator that draws each epoch's batch order.
    X_valid : torch.Tensor or None
        Validation inputs; ``None`` (or empty) disables validation and keeps
        the last epoch.
    valid_targets : tuple of torch.Tensor
        Targets of the validation rows, for the validation loss.
    score_fn : callable
        Maps the module's validation outputs to an accuracy in [0, 1].
    verbose : int
        When positive, print one line per epoch.
    name : str
        Name used in messages.

    Returns
    -------
    history : dict of list
        ``epoch``, ``train_loss``, ``valid_loss``, ``valid_accuracy`` (the
        validation entries are NaN without validation).
    best_epoch : int
        The 1-based epoch whose weights ``module`` holds on return: the best
        validation accuracy, ties broken by the lower validation loss, or the
        last epoch without validation.

    Raises
    ------
    FloatingPointError
        If the training loss becomes NaN or infinite.
    """
    n_samples = X.shape[0]
    generator = torch.Generator().manual_seed(int(shuffle_seed))
    opt = make_optimizer(optimizer, module.parameters(), lr, weight_decay)
    validate = X_valid is not None and X_valid.shape[0] > 0
    history = {"epoch": [], "train_loss": [], "valid_loss": [], "valid_accuracy": []}
    best_key, best_epoch, best_state = None, max_epochs, None

    module.train()
    for epoch in range(1, max_epochs + 1):
        # The order is drawn on the CPU so that it does not depend on the device.
        order = torch.randperm(n_samples, generator=generator).to(X.device)
        total = torch.zeros((), device=X.device)
        for start in range(0, n_samples, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(module(X[idx]), *(t[idx] for t in targets))
            loss.backward()
            opt.step()
            total += loss.detach() * idx.shape[0]
        train_loss = float(total) / n_samples
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"Training the {name} diverged at epoch {epoch}: the loss is "
                f"{train_loss}. Lower lr (now {lr}), or check the inputs and "
                "targets for extreme values."
            )
        valid_loss = valid_accuracy = float("nan")
        if validate:
            valid_loss, valid_accuracy = _score_validation(
                module, loss_fn, score_fn, X_valid, valid_targets
            )
            key = (valid_accuracy, -valid_loss)
            if best_key is None or key > best_key:
                best_key, best_epoch = key, epoch
                best_state = copy.deepcopy(module.state_dict())
        history["epoch"].append(epoch)
        history["train_loss"].append(train_loss)
        history["valid_loss"].append(valid_loss)
        history["valid_accuracy"].append(valid_accuracy)
        if verbose > 0:
            print(
                f"[{name}] epoch {epoch:3d}/{max_epochs}  train_loss "
                f"{train_loss:.5g}  valid_loss {valid_loss:.5g}  valid_acc "
                f"{valid_accuracy:.4f}",
                flush=True,
            )
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history, best_epoch


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
    """Per-dimension mean and one global scale of a (n, k) target tensor.

    Returns
    -------
    mean : torch.Tensor of shape (k,)
    scale : float
        Root mean squared deviation from ``mean`` over all entries; 1.0 when
        the targets are constant.
    """
    mean = targets.mean(dim=0)
    scale = float((targets - mean).pow(2).mean().sqrt())
    return mean, (scale if scale > 0 and math.isfinite(scale) else 1.0)
