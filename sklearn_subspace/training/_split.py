"""The one validation split of the training engine.

Every model that stops early or picks its best epoch holds out part of its
training data here. For class labels the split is stratified and keeps every
class on both sides (scikit-learn's ``StratifiedShuffleSplit`` rounds
proportional shares and can leave a small class out of a small validation
part); for regression targets (distillation students) it is a seeded random
holdout.
"""

import math

import numpy as np


def n_validation(y_indices, validation_fraction):
    """Size of the validation part: the fraction rounded up, at least one
    sample per class (a stratified split needs a slot for each).

    Examples
    --------
    >>> from sklearn_subspace.training import n_validation
    >>> n_validation([0, 0, 0, 1, 1, 1, 2, 2, 2, 2], 0.1)
    3
    """
    n_classes = np.count_nonzero(np.bincount(y_indices))
    return int(max(math.ceil(validation_fraction * len(y_indices)), n_classes))


def stratify_problem(y_indices, validation_fraction):
    """Why a stratified split cannot keep every class on both sides, or None.

    Examples
    --------
    >>> from sklearn_subspace.training import stratify_problem
    >>> stratify_problem([0, 0, 1, 1], 0.5) is None
    True
    >>> stratify_problem([0, 0, 1], 0.5)
    '1 class(es) have a single sample, which cannot be both trained on and validated on'
    """
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

    Feasible when every count is at least 2 and
    ``n_classes <= n_valid <= n_samples - n_classes``.
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

    Examples
    --------
    >>> from sklearn_subspace.training import stratified_indices
    >>> train, valid = stratified_indices([0] * 5 + [1] * 5, 0.2, seed=0)
    >>> len(train), len(valid)
    (8, 2)
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


def random_indices(n_samples, validation_fraction, seed):
    """Training and validation row indices of a seeded random holdout.

    Examples
    --------
    >>> from sklearn_subspace.training._split import random_indices
    >>> train, valid = random_indices(10, 0.3, seed=0)
    >>> len(train), len(valid)
    (7, 3)
    """
    n_valid = min(max(math.ceil(validation_fraction * n_samples), 1), n_samples - 1)
    perm = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])


class HoldoutSplit:
    """skorch ``train_split``: a seeded holdout of a :class:`TensorData`.

    Parameters
    ----------
    validation_fraction : float
        Share of the samples held out.
    seed : int
        Seed of the split.
    stratify : bool, default=True
        Stratify by the class indices in the dataset's first target (see
        :func:`stratified_indices`; callers check :func:`stratify_problem`
        first); otherwise a random holdout (:func:`random_indices`).
    """

    def __init__(self, validation_fraction, seed, stratify=True):
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.stratify = stratify

    def indices(self, dataset):
        """The training and validation row indices for ``dataset``."""
        if self.stratify:
            labels = dataset.y[0] if isinstance(dataset.y, tuple) else dataset.y
            return stratified_indices(
                labels.cpu().numpy(), self.validation_fraction, self.seed
            )
        return random_indices(len(dataset), self.validation_fraction, self.seed)

    def __call__(self, dataset, y=None, **fit_params):
        train_idx, valid_idx = self.indices(dataset)
        return dataset.subset(train_idx), dataset.subset(valid_idx)
