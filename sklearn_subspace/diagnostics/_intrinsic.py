"""Intrinsic-dimension estimators: TwoNN and the Levina-Bickel MLE.

Both estimators look only at a few nearest-neighbour distances per point, so
they work in the full feature space and say how many coordinates the data
really uses locally. That number is a floor under any useful ``k``: a
projection to fewer dimensions than the data occupies must fold it.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

from .._frames import check_numeric_columns
from .._param_validation import Interval, StrOptions, validate_params
from ._checks import _check_features

_METHODS = ("twonn", "mle")

# Rows closer than this fraction of the data's spread are treated as copies
# of each other: well above float64 round-off in the neighbour search, and
# at the resolution of float32 features.
_DUPLICATE_RTOL = 1e-6
_MAX_DEDUPLICATION_PASSES = 30

# Neighbour searches cost O(n^2 d) in high dimension; a few thousand points
# already pin the estimate down to a few percent.
_DEFAULT_MAX_SAMPLES = 5000


def _subsample_distinct(X, n_samples, random_state):
    """Subsample rows, then drop exact duplicates.

    Duplicates give zero neighbour distances, which would turn the distance
    ratios below into inf or NaN; a repeated point carries no geometric
    information, so it is dropped rather than patched.
    """
    limit = _DEFAULT_MAX_SAMPLES if n_samples is None else n_samples
    if X.shape[0] > limit:
        rng = check_random_state(random_state)
        X = X[np.sort(rng.choice(X.shape[0], size=limit, replace=False))]
    # float64 for the distances: float32 round-off in ||a||^2 + ||b||^2 - 2ab
    # swamps small neighbour distances.
    return np.unique(np.asarray(X, dtype=np.float64), axis=0)


def _neighbour_distances(X, n_neighbors):
    """Sorted distances from each row to its ``n_neighbors`` nearest others.

    Rows closer than round-off to another row are numerical duplicates: the
    neighbour search can return 0 for them, and even when it does not, the
    ratio of a round-off distance to a real one says nothing about the
    geometry. One row of each such group is kept and the search rerun.
    """
    centred = X - X.mean(axis=0)
    tolerance = _DUPLICATE_RTOL * np.sqrt(np.mean(np.sum(centred**2, axis=1)))
    for _ in range(_MAX_DEDUPLICATION_PASSES):
        if X.shape[0] <= n_neighbors:
            raise ValueError(
                f"Estimating the intrinsic dimension from {n_neighbors} "
                f"neighbours per point needs more than {n_neighbors} distinct "
                f"rows, got {X.shape[0]} once near-identical rows are merged. "
                "Pass more distinct rows (or, with method='mle', lower "
                "n_neighbors)."
            )
        nn = NearestNeighbors(n_neighbors=n_neighbors).fit(X)
        # Calling kneighbors without X excludes each point from its own list.
        distances, indices = nn.kneighbors(n_neighbors=n_neighbors)
        close = distances[:, 0] <= tolerance
        if not close.any():
            return distances
        # A close row's neighbour is close too, so the close row with the
        # highest index always goes: every pass makes progress.
        X = X[~(close & (indices[:, 0] < np.arange(X.shape[0])))]
    # Still clustered after many passes: drop the offending rows instead.
    return distances[distances[:, 0] > tolerance]


def _twonn(X, discard_fraction):
    distances = _neighbour_distances(X, 2)
    if distances.shape[0] < 3:
        raise ValueError(
            f"TwoNN needs at least 3 distinct points, got {distances.shape[0]} "
            "once near-identical rows are merged; pass more distinct rows."
        )
    mu = np.sort(distances[:, 1] / distances[:, 0])
    n = mu.shape[0]
    # Under the TwoNN model mu ~ Pareto(d): -log(1 - F(mu)) = d log(mu). The
    # largest ratios come from sparse regions and bias the slope, hence the
    # discard fraction (0.1 in Facco et al., 2017).
    # The largest ratio always goes: its empirical CDF is 1 and -log(0) = inf.
    n_kept = min(max(int(np.floor(n * (1.0 - discard_fraction))), 2), n - 1)
    x = np.log(mu[:n_kept])
    y = -np.log1p(-np.arange(1, n_kept + 1) / n)
    denominator = float(x @ x)
    if denominator <= 0:
        raise ValueError(
            "TwoNN is undefined here: every point's first and second neighbours "
            "are at the same distance (lattice-like data). Use method='mle'."
        )
    return float(x @ y) / denominator


def _mle(X, n_neighbors):
    distances = _neighbour_distances(X, n_neighbors)
    if distances.shape[0] <= n_neighbors:
        raise ValueError(
            f"method='mle' with n_neighbors={n_neighbors} needs more than "
            f"{n_neighbors} distinct points, got {distances.shape[0]}. Pass more "
            "rows or lower n_neighbors."
        )
    log_ratios = np.log(distances[:, -1:] / distances[:, :-1])
    inverse_estimates = log_ratios.mean(axis=1)
    mean_inverse = float(inverse_estimates.mean())
    if mean_inverse <= 0:
        raise ValueError(
            f"method='mle' is undefined here: the {n_neighbors} nearest "
            "neighbours of every point are equidistant. Use a larger n_neighbors."
        )
    # Averaging the per-point inverses (MacKay and Ghahramani, 2005) rather
    # than the per-point estimates removes most of the small-k bias.
    return 1.0 / mean_inverse


@validate_params(
    {
        "X": ["array-like"],
        "method": [StrOptions(set(_METHODS))],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "n_samples": [Interval(Integral, 3, None, closed="left"), None],
        "discard_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def estimate_intrinsic_dimension(
    X,
    *,
    method="twonn",
    n_neighbors=20,
    n_samples=None,
    discard_fraction=0.1,
    random_state=None,
):
    """Estimate how many dimensions the data occupies locally.

    The intrinsic dimension is the number of coordinates needed to describe
    the data near each point. Deep features of width ``d = 2048`` often have
    an intrinsic dimension of a few tens; a random projection keeps their
    geometry once ``k`` is comfortably above it, and no projection can go
    below it without folding the data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The feature vectors. Must be finite.
    method : {"twonn", "mle"}, default="twonn"
        ``"twonn"``: TwoNN (Facco et al., 2017). The ratio
        ``mu = r2 / r1`` of each point's second- to first-nearest-neighbour
        distance follows a Pareto law with exponent ``d``; ``d`` is the slope
        of ``-log(1 - F(mu))`` against ``log(mu)``, fitted through the origin
        after discarding the largest ``discard_fraction`` of the ratios.
        ``"mle"``: Levina-Bickel maximum likelihood on the ``n_neighbors``
        nearest distances, with the per-point inverses averaged (MacKay and
        Ghahramani, 2005).
    n_neighbors : int, default=20
        Neighbours used by ``method="mle"``, at least 2; ignored by TwoNN.
        Larger values lower the variance but see more curvature.
    n_samples : int or None, default=None
        Number of rows to subsample before the neighbour search, at least 3.
        ``None`` uses all rows up to 5000. Subsampling measures the dimension at a
        coarser scale, which is usually what matters for a projection.
    discard_fraction : float, default=0.1
        Fraction of the largest TwoNN ratios left out of the fit; 0.1 is the
        value recommended by Facco et al. Must lie in [0, 1). The largest
        ratio is always left out, since its empirical CDF is 1.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsampling. Pass an int for a reproducible estimate.

    Returns
    -------
    intrinsic_dimension : float
        The estimate; always finite and positive.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, contains NaN or infinity, has too few distinct
        rows, or an option is unknown or out of range.
    TypeError
        If ``X`` is a DataFrame with categorical or text columns; the
        message names them.

    See Also
    --------
    distortion_report : Measured distortion of a projection on the data.
    recommend_n_components : Worst-case, intrinsic and measured ``k``.

    Notes
    -----
    Duplicate rows are removed before the estimate, since a zero neighbour
    distance makes both estimators divide by zero. Duplicates carry no
    information about the dimension, so the estimate on data with repeated
    rows equals the estimate on its distinct rows. Rows closer to each other
    than ``1e-6`` times the data's spread (its root-mean-square distance to
    the mean) count as duplicates too: at that distance the neighbour search
    sees round-off, not geometry.

    References
    ----------
    .. [1] E. Facco, M. d'Errico, A. Rodriguez and A. Laio, "Estimating the
       intrinsic dimension of datasets by a minimal neighborhood
       information", Scientific Reports 7, 2017.
    .. [2] E. Levina and P. J. Bickel, "Maximum likelihood estimation of
       intrinsic dimension", NeurIPS, 2004.
    .. [3] D. J. C. MacKay and Z. Ghahramani, "Comments on 'Maximum likelihood
       estimation of intrinsic dimension' by E. Levina and P. Bickel", 2005.

    Examples
    --------
    Points on a random 3-dimensional plane inside R^40:

    >>> import numpy as np
    >>> from sklearn_subspace.diagnostics import estimate_intrinsic_dimension
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 3)) @ rng.standard_normal((3, 40))
    >>> round(estimate_intrinsic_dimension(X, random_state=0))
    3
    >>> round(estimate_intrinsic_dimension(X, method="mle", n_neighbors=10))
    3
    """
    check_numeric_columns(X, "estimate_intrinsic_dimension")
    X = _check_features(X, min_samples=3, what="estimate_intrinsic_dimension")
    X = _subsample_distinct(X, n_samples, random_state)
    if X.shape[0] < 3:
        raise ValueError(
            f"X has only {X.shape[0]} distinct row(s); the intrinsic dimension "
            "needs at least 3 distinct points. Pass more varied data."
        )
    if method == "twonn":
        return _twonn(X, discard_fraction)
    return _mle(X, n_neighbors)
