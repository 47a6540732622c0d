"""Johnson-Lindenstrauss bounds: how small can k be?

Two answers are offered. The textbook bound is the one scikit-learn uses; it
is loose. The exact bound uses the distribution of a Gaussian projection's
squared-norm ratio, which is exactly ``chi2(k) / k``, and a union bound over
the ``n (n - 1) / 2`` pairs of points.
"""

from numbers import Integral, Real

import numpy as np
from scipy import stats

from .._param_validation import Interval, validate_params


# The declared constraints check scalars; the entries of an array-like eps or
# n_samples are checked here.
def _check_eps(eps):
    eps = np.asarray(eps)
    if eps.dtype.kind not in "iuf":
        raise TypeError(
            f"eps must hold floats strictly between 0 and 1, got an array of "
            f"dtype {eps.dtype}: {eps.tolist()!r}. Pass e.g. eps=[0.1, 0.2]."
        )
    eps = eps.astype(np.float64)
    if not np.all(np.isfinite(eps)) or np.any(eps <= 0.0) or np.any(eps >= 1.0):
        raise ValueError(
            f"eps must lie strictly between 0 and 1, got {eps.tolist()!r}. eps is "
            "the allowed relative distortion of squared distances, e.g. eps=0.1."
        )
    return eps


def _check_n_samples(n_samples):
    n_samples = np.asarray(n_samples)
    if n_samples.dtype.kind not in "iu" or np.any(n_samples <= 0):
        raise ValueError(
            f"n_samples must hold positive integers, got {n_samples.tolist()!r}."
        )
    return n_samples.astype(np.int64)


def _log_pair_failure(k, eps):
    """Log-probability that one pair's squared-distance ratio leaves (1 +- eps).

    For a Gaussian matrix with N(0, 1/k) entries, ``||R v||^2 / ||v||^2`` is
    distributed as ``chi2(k) / k`` whatever the vector ``v``.
    """
    upper = stats.chi2.logsf(k * (1.0 + eps), k)
    lower = stats.chi2.logcdf(k * (1.0 - eps), k)
    return np.logaddexp(upper, lower)


def _exact_min_dim(n_samples, eps, failure_probability):
    n_pairs = n_samples * (n_samples - 1) / 2.0
    if n_pairs == 0:
        return 1
    # The union bound over pairs: n_pairs * P(one pair fails) <= p.
    log_budget = np.log(failure_probability) - np.log(n_pairs)

    def ok(k):
        return _log_pair_failure(k, eps) <= log_budget

    # The tail probability falls with k: double until it fits, then bisect.
    high = 1
    while not ok(high):
        high *= 2
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return int(high)


@validate_params(
    {
        "n_samples": ["array-like", Interval(Integral, 1, None, closed="left")],
        "eps": ["array-like", Interval(Real, 0, 1, closed="neither")],
        "failure_probability": [Interval(Real, 0, 1, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def johnson_lindenstrauss_min_dim(n_samples, *, eps=0.1, failure_probability=None):
    """Find a safe number of components for a random projection.

    Parameters
    ----------
    n_samples : int or array-like of int
        Number of points to embed. Must be positive.
    eps : float or array-like of float, default=0.1
        Maximum relative distortion of squared pairwise distances, strictly
        between 0 and 1.
    failure_probability : float or None, default=None
        ``None`` gives scikit-learn's textbook bound
        ``k >= 4 log(n) / (eps^2 / 2 - eps^3 / 3)``, with identical int64
        results. A probability ``p`` in (0, 1) gives the smallest ``k`` for
        which a Gaussian projection keeps every pairwise squared distance of
        ``n`` points within ``(1 - eps, 1 + eps)`` with probability at least
        ``1 - p``. It uses the exact chi-square tail of one pair and a union
        bound over the ``n (n - 1) / 2`` pairs.

    Returns
    -------
    n_components : int or ndarray of int64
        The minimal number of components. An array when ``n_samples`` or
        ``eps`` is an array (they broadcast).

    See Also
    --------
    sklearn.random_projection.johnson_lindenstrauss_min_dim :
        The textbook bound, which this function reproduces with
        ``failure_probability=None``.

    Notes
    -----
    The textbook bound follows Dasgupta and Gupta's proof: each pair fails
    with probability at most ``2 / n^2``, so all pairs are kept only with
    probability at least ``1 / n``, a weak promise. It is also loose, as it
    bounds the chi-square tails with exponentials. The exact bound says
    what it promises: with probability at least ``1 - failure_probability``
    over the draw of the matrix, no pair is distorted by more than ``eps``.
    It is exact for the ``"gaussian"`` family; the other families behave
    alike in practice and can be checked with a measured distortion report.
    For a moderate ``p`` such as 0.5 the exact ``k`` is 10-35% below the
    textbook one; a small ``p`` such as ``1e-3`` can need more components
    than the textbook value, which never promised that much confidence.

    References
    ----------
    .. [1] S. Dasgupta and A. Gupta, "An elementary proof of a theorem of
       Johnson and Lindenstrauss", Random Structures & Algorithms, 2003.
    .. [2] W. B. Johnson and J. Lindenstrauss, "Extensions of Lipschitz
       mappings into a Hilbert space", Contemporary Mathematics, 1984.

    Examples
    --------
    >>> from sklearn_subspace.projection import johnson_lindenstrauss_min_dim
    >>> int(johnson_lindenstrauss_min_dim(1_000_000, eps=0.5))
    663
    >>> int(johnson_lindenstrauss_min_dim(1_000_000, eps=0.5, failure_probability=0.01))
    602
    >>> int(johnson_lindenstrauss_min_dim(10_000, eps=0.1)), int(
    ...     johnson_lindenstrauss_min_dim(10_000, eps=0.1, failure_probability=1e-3))
    (7894, 9305)
    >>> int(johnson_lindenstrauss_min_dim(10_000, eps=0.1, failure_probability=0.5))
    6744
    >>> johnson_lindenstrauss_min_dim([1_000, 10_000], eps=0.1)
    array([5920, 7894])
    """
    eps = _check_eps(eps)
    n_samples = _check_n_samples(n_samples)

    if failure_probability is None:
        # Same formula, same dtype and rounding as scikit-learn.
        denominator = (eps**2 / 2) - (eps**3 / 3)
        return (4 * np.log(n_samples) / denominator).astype(np.int64)
    n_b, eps_b = np.broadcast_arrays(n_samples, eps)
    result = np.array(
        [
            _exact_min_dim(int(n), float(e), float(failure_probability))
            for n, e in zip(n_b.ravel(), eps_b.ravel())
        ],
        dtype=np.int64,
    ).reshape(n_b.shape)
    return result if result.ndim else result[()]


@validate_params(
    {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_pairs": [Interval(Integral, 1, None, closed="left")],
        "false_alarm": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def pair_distortion_band(n_components, *, n_pairs=1, false_alarm=1e-6):
    """Interval that every squared-distance ratio of a Gaussian projection hits.

    For a Gaussian projection to ``n_components`` dimensions, each ratio
    ``||R u - R v||^2 / ||u - v||^2`` is distributed as ``chi2(k) / k``. The
    returned two-sided interval holds all ``n_pairs`` ratios at once with
    probability at least ``1 - false_alarm`` (Bonferroni over the pairs).

    Parameters
    ----------
    n_components : int
        The projected dimension ``k``.
    n_pairs : int, default=1
        Number of ratios that must all fall inside the band.
    false_alarm : float, default=1e-6
        Probability that at least one ratio falls outside.

    Returns
    -------
    low, high : float
        The band's edges.

    Examples
    --------
    >>> from sklearn_subspace.projection import pair_distortion_band
    >>> low, high = pair_distortion_band(1000, n_pairs=10)
    >>> bool(0.7 < low < 1.0 < high < 1.3)
    True
    """
    alpha = false_alarm / int(n_pairs)
    k = int(n_components)
    low = stats.chi2.ppf(alpha / 2.0, k) / k
    high = stats.chi2.isf(alpha / 2.0, k) / k
    return float(low), float(high)
