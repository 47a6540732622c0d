"""A process-wide count of the samples pushed through teachers.

Cross-validation clones an extractor for every candidate and fold, so a count
stored on one instance cannot show how often a teacher really ran. This module
keeps one counter per process that every extractor adds to.
"""

import threading

_lock = threading.Lock()
_count = 0


def _add_forward_samples(n_samples):
    """Record that ``n_samples`` samples went through a teacher forward pass."""
    global _count
    with _lock:
        _count += int(n_samples)


def forward_pass_count():
    """Number of samples pushed through any teacher in this process.

    Every :class:`TorchFeatureExtractor` adds the number of samples of each
    batch it runs through its teacher, including the one-sample probe that
    ``fit`` runs to learn the feature width. Samples served from the feature
    cache are not counted. The count covers this process only: work done in
    joblib or dask worker processes is counted there.

    Returns
    -------
    count : int
        Samples processed by teacher forward passes since the last
        :func:`reset_forward_pass_count` (or since the process started).

    See Also
    --------
    reset_forward_pass_count : Set the count back to zero.
    TorchFeatureExtractor : The transformer whose teacher passes are counted.

    Examples
    --------
    >>> from sklearn_subspace.teachers import (
    ...     forward_pass_count, reset_forward_pass_count)
    >>> _ = reset_forward_pass_count()
    >>> forward_pass_count()
    0
    """
    with _lock:
        return _count


def reset_forward_pass_count():
    """Set the process-wide teacher forward-pass count back to zero.

    Returns
    -------
    previous : int
        The count just before the reset.

    See Also
    --------
    forward_pass_count : Read the count.

    Examples
    --------
    >>> from sklearn_subspace.teachers import reset_forward_pass_count
    >>> reset_forward_pass_count() >= 0
    True
    """
    global _count
    with _lock:
        previous, _count = _count, 0
    return previous
