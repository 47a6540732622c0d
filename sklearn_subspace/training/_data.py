"""In-memory data for the training engine: tensors in, tensor slices out.

skorch's default path wraps arrays in a ``Dataset`` and batches them with a
``DataLoader`` that collates one sample at a time; for a small model on data
already in memory that costs more than the training itself. Here the data
stay whole tensors and batches are slices of them:

- :class:`TensorData` holds the inputs and any number of target tensors
  (class indices, teacher features, teacher logits, sample weights);
- :class:`SliceLoader` yields ``(X[idx], targets[idx])`` from a permutation
  drawn by its own seeded :class:`torch.Generator`.

Both plug into skorch's public ``get_dataset`` / ``iterator_train`` /
``iterator_valid`` extension points.
"""

import math
import warnings

import numpy as np
import torch


def as_float32_tensor(X, device):
    """Return ``X`` as a float32 tensor on ``device``, sharing memory on CPU.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.training import as_float32_tensor
    >>> as_float32_tensor(np.ones((2, 3)), "cpu").dtype
    torch.float32
    """
    if isinstance(X, torch.Tensor):
        return X.to(device=device, dtype=torch.float32)
    with warnings.catch_warnings():
        # Read-only arrays (e.g. joblib memmaps) trigger a warning about
        # writes; the tensor is only ever read, so sharing is safe.
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)


def _take(targets, index):
    if targets is None:
        return None
    if isinstance(targets, tuple):
        return tuple(_take(t, index) for t in targets)
    return targets[index]


def _select(targets, idx):
    if targets is None:
        return None
    if isinstance(targets, tuple):
        return tuple(_select(t, idx) for t in targets)
    return torch.index_select(targets, 0, idx)


class TensorData(torch.utils.data.Dataset):
    """Inputs and targets held as tensors on one device.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        The inputs.
    y : torch.Tensor, tuple of torch.Tensor or None, default=None
        The targets: one tensor (for example class indices), a tuple of
        tensors with ``n_samples`` rows each (for example class indices and
        sample weights), or None at prediction time. The loss receives
        them as ``criterion(y_pred, *y)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training import TensorData
    >>> data = TensorData(torch.zeros(4, 2), (torch.arange(4), torch.ones(4)))
    >>> len(data), data.subset([0, 2]).y[0].tolist()
    (4, [0, 2])
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        # Only used by tools that index samples one by one; training and
        # prediction go through SliceLoader instead.
        return self.X[i], _take(self.y, i)

    def subset(self, indices):
        """Return the rows ``indices`` as a new :class:`TensorData`."""
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.X.device)
        # Targets live on the device of X (see ``TrainingNet.get_dataset``).
        return TensorData(torch.index_select(self.X, 0, idx), _select(self.y, idx))


# Upper bound on the rows SliceLoader gathers in one go (at least one batch).
_GATHER_BLOCK_BYTES = 32 * 2**20


class SliceLoader:
    """Batches of a :class:`TensorData`, cut by slicing whole tensors.

    Parameters
    ----------
    dataset : TensorData
        The data to batch.
    batch_size : int, default=256
        Rows per batch; the last batch may be smaller. ``-1`` gives one
        batch holding all rows (the full-batch solvers).
    shuffle : bool, default=False
        Whether each pass draws a fresh permutation of the rows.
    seed : int, default=0
        Seed of the loader's own generator. The permutation sequence is
        fixed by it: iterating twice gives two different, reproducible
        orders, and torch's global random state is never touched.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training import SliceLoader, TensorData
    >>> data = TensorData(torch.arange(10.0)[:, None], torch.arange(10))
    >>> [len(yb) for _, yb in SliceLoader(data, batch_size=4, shuffle=True)]
    [4, 4, 2]
    """

    def __init__(self, dataset, batch_size=256, shuffle=False, seed=0):
        self.dataset = dataset
        n = len(dataset)
        self.batch_size = max(n, 1) if batch_size in (-1, None) else int(batch_size)
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n, step = X.shape[0], self.batch_size
        if not self.shuffle or step >= n:
            # Contiguous slices are views: no copy at all. A single full
            # batch needs no shuffling either.
            for start in range(0, n, step):
                index = slice(start, start + step)
                yield X[index], _take(y, index)
            return
        # Drawn on the CPU generator so the order does not depend on the
        # device, then moved once per epoch.
        perm = torch.randperm(n, generator=self.generator).to(X.device)
        # Rows are gathered many batches at a time (one index_select, whole
        # rows at once) and batches are then views of the gathered block:
        # the same batches as gathering each on its own, at a fraction of
        # the cost. The block is capped in bytes so wide features never
        # copy a whole epoch.
        row_bytes = max(1, X[:1].numel() * X.element_size())
        block = max(1, _GATHER_BLOCK_BYTES // (row_bytes * step)) * step
        for block_start in range(0, n, block):
            idx = perm[block_start : block_start + block]
            X_block = torch.index_select(X, 0, idx)
            y_block = _select(y, idx)
            for start in range(0, idx.shape[0], step):
                index = slice(start, start + step)
                yield X_block[index], _take(y_block, index)
