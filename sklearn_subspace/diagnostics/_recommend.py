"""Three answers to "how small can k be?", side by side.

The worst-case Johnson-Lindenstrauss bound ignores the data; the intrinsic
dimension ignores the projection; the measured distortion looks at both but
only on sampled pairs. Each answers a different question, so they are
reported together and never merged into one number.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._frames import check_numeric_columns
from .._param_validation import Interval, StrOptions, validate_params
from ..projection import (
    PROJECTION_FAMILIES,
    johnson_lindenstrauss_min_dim,
    make_projection,
)
from ._checks import _check_features
from ._distortion import _pair_squared_distances, _sample_pairs
from ._intrinsic import _METHODS, estimate_intrinsic_dimension

_MEANINGS = {
    "worst_case": (
        "Smallest k for which a Gaussian JL projection keeps every pairwise "
        "squared distance of n_samples points within 1 +- eps with probability "
        "at least 1 - failure_probability, whatever the data. Depends only on "
        "n_samples and eps, and can exceed n_features."
    ),
    "intrinsic_dimension": (
        "Estimated number of dimensions the data occupies locally. A floor: a "
        "projection below it must fold the data. Says nothing about eps."
    ),
    "measured": (
        "Smallest k on the grid whose projection kept the sampled pairs of this "
        "data within 1 +- eps in every repeated draw. Data-dependent and "
        "optimistic (sampled pairs and a few draws only; another draw may let "
        "a few pairs out); None when no grid value passed."
    ),
}


def _default_grid(n_features):
    # Powers of two below d, then d itself: coarse, but it brackets the
    # answer within a factor of two at a cost dominated by the largest k.
    grid = [2**i for i in range(1, int(np.log2(n_features)) + 1) if 2**i < n_features]
    return [*grid, n_features]


def _check_grid(grid, n_features):
    if grid is None:
        return _default_grid(n_features)
    values = np.atleast_1d(np.asarray(grid))
    if (
        values.ndim != 1
        or values.size == 0
        or values.dtype.kind not in "iu"
        or values.min() < 1
        or values.max() > n_features
    ):
        raise ValueError(
            "n_components_grid must be a non-empty sequence of integers in "
            f"[1, n_features={n_features}], got {grid!r}."
        )
    return [int(k) for k in np.unique(values)]


class NComponentsRecommendation:
    """Worst-case, intrinsic and measured answers for the projection size.

    Built by :func:`recommend_n_components`; see there for what each number
    means. :meth:`to_frame` puts them side by side with their meanings.

    Parameters
    ----------
    worst_case_n_components : int
        Worst-case Johnson-Lindenstrauss ``k``.
    intrinsic_dimension : float
        Intrinsic-dimension estimate of the data.
    measured_n_components : int or None
        Smallest grid ``k`` whose measured distortion stayed inside ``eps``.
    grid_results : pandas.DataFrame
        One row per ``k`` tried, in increasing order.
    eps, failure_probability : float
        The distortion and failure probability asked for.
    projection : str
        Projection family measured.
    n_samples, n_features : int
        Shape of the data.
    projection_seeds : tuple of int
        Seeds of the measured draws: ``JLSubspaceTransformer(k,
        projection=projection, random_state=seed)`` rebuilds each of them.

    Attributes
    ----------
    worst_case_n_components, intrinsic_dimension, measured_n_components, \
grid_results, eps, failure_probability, projection, n_samples, n_features, \
projection_seeds
        The parameters, stored as given.

    See Also
    --------
    recommend_n_components : Builds this object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.diagnostics import recommend_n_components
    >>> X = np.random.default_rng(0).standard_normal((100, 64))
    >>> rec = recommend_n_components(X, eps=0.5, n_pairs=500, random_state=0)
    >>> type(rec).__name__, len(rec.projection_seeds)
    ('NComponentsRecommendation', 3)
    """

    def __init__(
        self,
        *,
        worst_case_n_components,
        intrinsic_dimension,
        measured_n_components,
        grid_results,
        eps,
        failure_probability,
        projection,
        n_samples,
        n_features,
        projection_seeds,
    ):
        self.worst_case_n_components = worst_case_n_components
        self.intrinsic_dimension = intrinsic_dimension
        self.measured_n_components = measured_n_components
        self.grid_results = grid_results
        self.eps = eps
        self.failure_probability = failure_probability
        self.projection = projection
        self.n_samples = n_samples
        self.n_features = n_features
        self.projection_seeds = tuple(int(seed) for seed in projection_seeds)

    def to_frame(self):
        """The three numbers side by side, each with what it means.

        Returns
        -------
        frame : pandas.DataFrame
            Index ``["worst_case", "intrinsic_dimension", "measured"]``,
            columns ``value`` and ``meaning``.

        See Also
        --------
        recommend_n_components : Explains each of the three numbers.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_subspace.diagnostics import recommend_n_components
        >>> X = np.random.default_rng(0).standard_normal((100, 64))
        >>> rec = recommend_n_components(X, eps=0.5, n_pairs=500, random_state=0)
        >>> rec.to_frame().loc["worst_case", "value"]
        269
        """
        values = {
            "worst_case": self.worst_case_n_components,
            "intrinsic_dimension": self.intrinsic_dimension,
            "measured": self.measured_n_components,
        }
        return pd.DataFrame(
            {
                "value": pd.Series(values, dtype=object),
                "meaning": pd.Series(_MEANINGS),
            }
        )

    def __repr__(self):
        return (
            f"NComponentsRecommendation(worst_case={self.worst_case_n_components}, "
            f"intrinsic_dimension={self.intrinsic_dimension:.3g}, "
            f"measured={self.measured_n_components}, eps={self.eps:g}, "
            f"projection={self.projection!r})"
        )


@validate_params(
    {
        "X": ["array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "failure_probability": [Interval(Real, 0, 1, closed="neither")],
        "projection": [StrOptions(set(PROJECTION_FAMILIES))],
        # A grid's values are checked against the data's width below.
        "n_components_grid": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "n_pairs": [Interval(Integral, 1, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "max_fraction_outside": [Interval(Real, 0, 1, closed="left")],
        "intrinsic_method": [StrOptions(set(_METHODS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def recommend_n_components(
    X,
    *,
    eps=0.1,
    failure_probability=1e-3,
    projection="gaussian",
    n_components_grid=None,
    n_pairs=10000,
    n_repeats=3,
    max_fraction_outside=0.0,
    intrinsic_method="twonn",
    random_state=None,
):
    """Report three answers to "how many components does my data need?".

    1. **Worst case** (``worst_case_n_components``): the Johnson-Lindenstrauss
       ``k`` from :func:`~sklearn_subspace.projection.johnson_lindenstrauss_min_dim`
       with ``failure_probability``. With probability at least
       ``1 - failure_probability`` a Gaussian projection to this ``k`` keeps
       *every* pairwise squared distance of *any* ``n_samples`` points within
       ``1 +- eps``. It depends only on ``n_samples`` and ``eps`` and is often
       larger than ``n_features``.
    2. **Intrinsic dimension** (``intrinsic_dimension``): from
       :func:`estimate_intrinsic_dimension`. The number of dimensions the
       data occupies locally; no projection below it can keep the geometry,
       and it is blind to ``eps``.
    3. **Measured** (``measured_n_components``): the smallest ``k`` on
       ``n_components_grid`` for which ``n_repeats`` independent draws of
       ``projection`` each kept all but ``max_fraction_outside`` of
       ``n_pairs`` sampled pairs of *this* data within ``1 +- eps``. It is
       specific to the data and usually far below the worst case, but it
       only covers the sampled pairs and a few draws: another draw at this
       ``k`` may push a small fraction of pairs outside the band, so raise
       ``n_repeats`` (or step up one grid value) when that matters. ``None``
       if no grid value passed.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The features to be projected. Must be finite.
    eps : float, default=0.1
        Allowed relative distortion of squared distances, in (0, 1).
    failure_probability : float, default=1e-3
        Probability, over the draw of the matrix, that the worst-case
        guarantee fails; in (0, 1).
    projection : str, default="gaussian"
        Family measured for the third answer: one of "gaussian",
        "orthogonal", "rademacher", "sparse", "srht" or "countsketch".
    n_components_grid : sequence of int or None, default=None
        Values of ``k`` to measure, each in ``[1, n_features]``. ``None``
        uses the powers of two below ``n_features``, then ``n_features``.
        The search stops at the first ``k`` that passes.
    n_pairs : int, default=10000
        Sampled pairs per measurement (see :func:`distortion_report`). The
        same pairs are used for every ``k`` and draw.
    n_repeats : int, default=3
        Independent projection draws that must all pass at a given ``k``.
    max_fraction_outside : float, default=0.0
        Fraction of sampled pairs allowed outside ``1 +- eps``, in [0, 1).
        0 mirrors the worst-case guarantee: no pair may leave the band.
    intrinsic_method : {"twonn", "mle"}, default="twonn"
        Estimator for the second answer.
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling, the intrinsic-dimension subsample and the
        projection draws. Pass an int for reproducible results.

    Returns
    -------
    recommendation : NComponentsRecommendation
        Holds the three numbers; ``to_frame()`` shows them side by side with
        their meanings and ``grid_results`` the measurement for each ``k``
        tried (worst ``max_distortion`` and ``fraction_outside`` over draws).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, holds NaN or infinity or has fewer than 3 rows,
        an option is unknown, or a probability or grid value is out of range.

    See Also
    --------
    estimate_intrinsic_dimension : The second answer on its own.
    distortion_report : The full distortion distribution for one projection.
    sklearn_subspace.projection.johnson_lindenstrauss_min_dim : The first answer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.diagnostics import recommend_n_components

    Points on a 5-dimensional plane inside R^1024:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 5)) @ rng.standard_normal((5, 1024))
    >>> rec = recommend_n_components(X, eps=0.5, n_pairs=2000, random_state=0)
    >>> rec.worst_case_n_components
    335
    >>> round(rec.intrinsic_dimension, 2)
    4.49
    >>> rec.measured_n_components < rec.worst_case_n_components
    True
    >>> rec.grid_results.columns.tolist()
    ['n_components', 'max_distortion', 'fraction_outside', 'inside']
    >>> list(rec.to_frame().index)
    ['worst_case', 'intrinsic_dimension', 'measured']
    """
    check_numeric_columns(X, "recommend_n_components")
    X = _check_features(X, min_samples=3, what="recommend_n_components")
    n_samples, n_features = X.shape
    grid = _check_grid(n_components_grid, n_features)

    rng = check_random_state(random_state)
    worst_case = int(
        johnson_lindenstrauss_min_dim(
            n_samples, eps=eps, failure_probability=failure_probability
        )
    )
    intrinsic = estimate_intrinsic_dimension(
        X, method=intrinsic_method, random_state=rng.randint(np.iinfo(np.int32).max)
    )

    pairs, _ = _sample_pairs(n_samples, n_pairs, rng)
    rows, local = np.unique(pairs, return_inverse=True)
    local = local.reshape(pairs.shape)
    X_rows = X[rows]
    original = _pair_squared_distances(X_rows, local)
    local = local[original > 0]
    original = original[original > 0]
    if original.size == 0:
        raise ValueError(
            "Every sampled pair joins two identical rows of X, so distortion "
            "cannot be measured. Remove duplicate rows or pass more varied data."
        )
    # Same seed range as JLSubspaceTransformer, so each draw can be rebuilt.
    seeds = rng.randint(2**31 - 1, size=n_repeats)

    records = []
    measured = None
    for k in grid:
        worst_distortion, worst_outside = 0.0, 0.0
        for seed in seeds:
            op = make_projection(
                projection, k, n_features, seed=int(seed), dtype=X.dtype
            )
            ratios = _pair_squared_distances(op.apply(X_rows), local) / original
            deviation = np.abs(ratios - 1.0)
            worst_distortion = max(worst_distortion, float(deviation.max()))
            worst_outside = max(worst_outside, float(np.mean(deviation > eps)))
        inside = worst_outside <= max_fraction_outside
        records.append(
            {
                "n_components": k,
                "max_distortion": worst_distortion,
                "fraction_outside": worst_outside,
                "inside": inside,
            }
        )
        if inside:
            measured = k
            break

    return NComponentsRecommendation(
        worst_case_n_components=worst_case,
        intrinsic_dimension=intrinsic,
        measured_n_components=measured,
        grid_results=pd.DataFrame.from_records(records),
        eps=float(eps),
        failure_probability=float(failure_probability),
        projection=projection,
        n_samples=n_samples,
        n_features=n_features,
        projection_seeds=seeds,
    )
