"""A fast skorch integration for heads trained on in-memory features.

skorch's default path wraps arrays in a ``Dataset`` and batches them with a
``DataLoader``, which collates one sample at a time. For a small head on
features already in memory that costs several times more than the training
itself (see ``benchmarks/bench_head.py``). This module keeps skorch's training loop, callbacks and history, but
feeds it whole-tensor slices:

- :class:`TensorData` holds ``X`` and ``y`` as tensors, moved to the training
  device once;
- :class:`SliceLoader` yields ``(X[idx], y[idx])`` batches from a permutation
  drawn by its own seeded :class:`torch.Generator`;
- :class:`StratifiedHoldout` carves the validation part by indexing those
  tensors once per fit;
- :class:`FastNet` is a ``skorch.NeuralNet`` wired to the three, which
  trains the linear head with closed-form gradients
  (:mod:`._closed_form`) and a direct AdamW update
  (:mod:`._optimizer_step`), and only calls callbacks that do something.
"""

import functools
import math
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog

from ._closed_form import closed_form_layer, linear_cross_entropy_step
from ._optimizer_step import adamw_step


def as_float32_tensor(X, device):
    """Return ``X`` as a float32 tensor on ``device``, sharing memory on CPU."""
    if isinstance(X, torch.Tensor):
        return X.to(device=device, dtype=torch.float32)
    with warnings.catch_warnings():
        # Read-only arrays (e.g. joblib memmaps) trigger a warning about
        # writes; the tensor is only ever read, so sharing is safe.
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)


@functools.cache
def _fused_step_works(optimizer_cls, device_type):
    try:
        param = torch.zeros(1, device=device_type, requires_grad=True)
        param.grad = torch.ones_like(param)
        optimizer_cls([param], lr=0.1, fused=True).step()
    except (RuntimeError, TypeError, ValueError, NotImplementedError):
        return False
    return True


def fused_optimizer_params(optimizer_cls, device):
    """``{"optimizer__fused": True}`` where this torch supports it, else ``{}``.

    The fused kernels update all parameters in one call instead of a chain
    of small ops; for a small head that is a noticeable share of each step.
    Support depends on the torch version and device, so it is probed once
    with a one-element step rather than guessed from version numbers.
    """
    device_type = torch.device(device).type
    if _fused_step_works(optimizer_cls, device_type):
        return {"optimizer__fused": True}
    return {}


class TensorData(torch.utils.data.Dataset):
    """Features and (optional) integer targets held as device tensors.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        Float32 features.
    y : torch.Tensor of shape (n_samples,) or None
        Int64 class indices, or None at prediction time.
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        # Only used by tools that index samples one by one; training and
        # prediction go through SliceLoader instead.
        return self.X[i], (None if self.y is None else self.y[i])

    def subset(self, indices):
        """Return the rows ``indices`` as a new :class:`TensorData`."""
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.X.device)
        return TensorData(self.X[idx], None if self.y is None else self.y[idx])


# Optimizers whose step never calls a closure.
_CLOSURE_FREE_OPTIMIZERS = (torch.optim.AdamW, torch.optim.Adam, torch.optim.SGD)

# Upper bound on the rows SliceLoader gathers in one go (at least one batch).
_GATHER_BLOCK_BYTES = 32 * 2**20


class SliceLoader:
    """Batches of a :class:`TensorData`, cut by slicing whole tensors.

    Parameters
    ----------
    dataset : TensorData
        The data to batch.
    batch_size : int, default=256
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Whether each pass draws a fresh permutation of the rows.
    seed : int, default=0
        Seed of the loader's own generator. The permutation sequence is
        fixed by it: iterating twice gives two different, reproducible
        orders, and torch's global random state is never touched.
    """

    def __init__(self, dataset, batch_size=256, shuffle=False, seed=0):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n, step = X.shape[0], self.batch_size
        if self.shuffle:
            # Drawn on the CPU generator so the order does not depend on
            # the device, then moved once per epoch.
            perm = torch.randperm(n, generator=self.generator).to(X.device)
            # Rows are gathered many batches at a time (one index_select,
            # whole rows at once) and batches are then views of the
            # gathered block: the same batches as gathering each on its
            # own, at a fraction of the cost. The block is capped in bytes
            # so wide features never copy a whole epoch.
            row_bytes = max(1, X[:1].numel() * X.element_size())
            block = max(1, _GATHER_BLOCK_BYTES // (row_bytes * step)) * step
            for block_start in range(0, n, block):
                idx = perm[block_start : block_start + block]
                X_block = torch.index_select(X, 0, idx)
                y_block = None if y is None else torch.index_select(y, 0, idx)
                for start in range(0, idx.shape[0], step):
                    stop = start + step
                    yield (
                        X_block[start:stop],
                        None if y_block is None else y_block[start:stop],
                    )
        else:
            # Contiguous slices are views: no copy at all.
            for start in range(0, n, step):
                stop = start + step
                yield X[start:stop], (None if y is None else y[start:stop])


class StratifiedHoldout:
    """Split a :class:`TensorData` into training and validation parts.

    Parameters
    ----------
    validation_fraction : float
        Share of the samples held out; see :func:`n_validation` for the
        exact count.
    seed : int
        Seed of the split.

    Notes
    -----
    Callers check :func:`stratify_problem` first: when it names a problem,
    no validation part should be requested.
    """

    def __init__(self, validation_fraction, seed):
        self.validation_fraction = validation_fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        y_np = dataset.y.cpu().numpy()
        train_idx, valid_idx = stratified_indices(
            y_np, self.validation_fraction, self.seed
        )
        return dataset.subset(train_idx), dataset.subset(valid_idx)


def n_validation(y_indices, validation_fraction):
    """Size of the validation part: the fraction rounded up, at least one
    sample per class (a stratified split needs a slot for each)."""
    n_classes = np.count_nonzero(np.bincount(y_indices))
    return max(math.ceil(validation_fraction * len(y_indices)), n_classes)


def stratify_problem(y_indices, validation_fraction):
    """Why a stratified split cannot keep every class on both sides, or None."""
    counts = np.bincount(y_indices)
    counts = counts[counts > 0]
    if counts.min() < 2:
        return (
            f"{np.count_nonzero(counts < 2)} class(es) have a single sample, "
            "which cannot be both trained on and validated on"
        )
    n_train = len(y_indices) - n_validation(y_indices, validation_fraction)
    if n_train < len(counts):
        return (
            f"validation_fraction={validation_fraction} leaves {n_train} "
            f"training samples for {len(counts)} classes"
        )
    return None


def _allocate(counts, n_valid):
    """Validation samples per class: proportional, but 1 <= v_c <= count_c - 1.

    scikit-learn's ``StratifiedShuffleSplit`` rounds proportional shares and
    can leave a small class out of a small validation part; here every class
    keeps at least one sample on each side. Feasible when every count is at
    least 2 and ``n_classes <= n_valid <= n_samples - n_classes``.
    """
    share = counts * (n_valid / counts.sum())
    alloc = np.clip(np.floor(share), 1, counts - 1).astype(np.int64)
    # Largest-remainder adjustment to hit n_valid exactly, within the bounds.
    while alloc.sum() < n_valid:
        room = np.where(alloc < counts - 1, share - alloc, -np.inf)
        alloc[np.argmax(room)] += 1
    while alloc.sum() > n_valid:
        excess = np.where(alloc > 1, share - alloc, np.inf)
        alloc[np.argmin(excess)] -= 1
    return alloc


def stratified_indices(y_indices, validation_fraction, seed):
    """Training and validation row indices of a seeded stratified split.

    Every class lands on both sides (see :func:`stratify_problem` for when
    that is possible); which samples go where is drawn from ``seed``.
    """
    y_indices = np.asarray(y_indices)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y_indices, return_counts=True)
    alloc = _allocate(counts, n_validation(y_indices, validation_fraction))
    valid = [
        rng.permutation(np.flatnonzero(y_indices == cls))[:n_valid]
        for cls, n_valid in zip(classes, alloc)
    ]
    valid_idx = np.sort(np.concatenate(valid))
    train_mask = np.ones(len(y_indices), dtype=bool)
    train_mask[valid_idx] = False
    # Sorted so slicing reads memory in order; the loader shuffles anyway.
    return np.flatnonzero(train_mask), valid_idx


class ValidAccuracy(Callback):
    """Record ``valid_acc`` from the predictions of the validation steps.

    skorch's ``EpochScoring`` re-gathers targets and predictions through
    numpy; counting hits per batch on the device is enough here.
    """

    def on_epoch_begin(self, net, **kwargs):
        self._correct = 0
        self._count = 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training:
            return
        _, yi = batch
        self._correct += (y_pred.argmax(dim=1) == yi).sum()
        self._count += yi.shape[0]

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None or self._count == 0:
            return
        net.history.record("valid_acc", float(self._correct) / self._count)


class FastNet(NeuralNet):
    """``skorch.NeuralNet`` that trains on whole-tensor slices.

    Data passed to ``fit`` and ``forward`` is converted to a
    :class:`TensorData` on the net's device once; batching goes through
    :class:`SliceLoader`. Everything else -- the training step, callbacks,
    history, early stopping, pickling -- is skorch's.
    """

    def get_dataset(self, X, y=None):
        if isinstance(X, TensorData):
            return X
        if y is None:
            # Prediction: keep X where it is (no copy on CPU); skorch's
            # ``infer`` moves each batch to the device, so data larger than
            # the device's memory can still be predicted.
            return TensorData(as_float32_tensor(X, "cpu"))
        # Training: move everything to the device once, not per batch.
        X_t = as_float32_tensor(X, self.device)
        y_t = torch.as_tensor(np.asarray(y), dtype=torch.long, device=self.device)
        return TensorData(X_t, y_t)

    def initialize_callbacks(self):
        self._listeners = {}
        return super().initialize_callbacks()

    def _callback_methods(self, method_name):
        """The ``method_name`` methods of the callbacks that override it.

        skorch calls every callback's method for every event, most of them
        no-ops inherited from ``Callback``; a few per batch add up for a
        small head. Cached until the callbacks are re-initialised.
        """
        listeners = self.__dict__.setdefault("_listeners", {})
        if method_name not in listeners:
            base = getattr(Callback, method_name)
            listeners[method_name] = [
                getattr(cb, method_name)
                for _, cb in self.callbacks_
                if getattr(type(cb), method_name, base) is not base
            ]
        return listeners[method_name]

    def notify(self, method_name, **cb_kwargs):
        getattr(self, method_name)(self, **cb_kwargs)
        for method in self._callback_methods(method_name):
            method(self, **cb_kwargs)

    def __getstate__(self):
        # The cache of bound callback methods is rebuilt on use.
        state = super().__getstate__()
        state.pop("_listeners", None)
        return state

    def train_step(self, batch, **fit_params):
        """One optimisation step, without skorch's closure.

        AdamW and SGD never re-evaluate the loss, so the step is taken as
        "gradients, then ``optimizer.step()``" rather than through a closure
        and step accumulator. For the paper's linear head under plain
        cross-entropy (:func:`closed_form_layer`) the gradients are computed
        in closed form (the values autograd gives, see
        :mod:`._closed_form`); any other module goes through skorch's
        ``train_step_single`` and autograd. Optimizers that may need a
        closure get skorch's own ``train_step``.
        """
        if not all(
            isinstance(getattr(self, name + "_"), _CLOSURE_FREE_OPTIMIZERS)
            for name in self._optimizers
        ):
            return super().train_step(batch, **fit_params)
        layer = closed_form_layer(self.module_, self.criterion_)
        if layer is None or fit_params:
            self._zero_grad_optimizer()
            step = self.train_step_single(batch, **fit_params)
        else:
            self._set_training(True)
            loss, logits = linear_cross_entropy_step(layer, *batch)
            step = {"loss": loss, "y_pred": logits}
        if self._callback_methods("on_grad_computed"):
            self.notify(
                "on_grad_computed",
                named_parameters=list(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self._step_optimizer(None)
        return step

    def _step_optimizer(self, step_fn):
        # Steps without a closure skip the optimizer's per-call bookkeeping
        # where that is exact; see adamw_step.
        if step_fn is not None:
            return super()._step_optimizer(step_fn)
        for name in self._optimizers:
            adamw_step(getattr(self, name + "_"))
        return None

    def _set_training(self, training=True):
        # Called before every batch; walking the module tree only when the
        # mode actually changes saves a share of a small step.
        modules = (self.module_, self.criterion_)
        if any(m.training != training for m in modules if m is not None):
            super()._set_training(training)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, as skorch's, with one device sync.

        skorch calls ``loss.item()`` after every batch, which stalls a GPU
        until the batch is done. Here the batch losses are kept as tensors
        and written into the history at the end of the epoch, before the
        epoch-level callbacks read them.
        """
        if iterator is None:
            return
        losses, records = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            record = self.history[-1]["batches"][-1]
            record[prefix + "_batch_size"] = batch[0].shape[0]
            losses.append(step["loss"].detach())
            records.append(record)
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            for record, value in zip(records, torch.stack(losses).tolist()):
                record[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(records))

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", ValidAccuracy()),
        ]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks
