"""Measured distortion of a projection on the user's own data.

The Johnson-Lindenstrauss bound is a worst case over all data sets. What a
user needs is how much *their* pairwise distances move: the distribution of
``||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2`` over sampled pairs ``(i, j)``.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._frames import check_numeric_columns
from .._param_validation import HasMethods, Interval, validate_params
from ._checks import _check_features

_DEFAULT_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)

# Pairs are differenced in blocks so that n_pairs * n_features float64 values
# are never held at once.
_PAIR_BLOCK = 2048


def _sample_pairs(n_samples, n_pairs, rng):
    """Index pairs ``(i, j)`` with ``i != j``; all of them when few enough.

    Returns the ``(m, 2)`` pair array and whether it is exhaustive.
    """
    n_distinct = n_samples * (n_samples - 1) // 2
    if n_pairs >= n_distinct:
        i, j = np.triu_indices(n_samples, k=1)
        return np.column_stack([i, j]), True
    # j = i + offset (mod n) with offset in [1, n) is uniform over j != i.
    i = rng.randint(n_samples, size=n_pairs)
    j = (i + rng.randint(1, n_samples, size=n_pairs)) % n_samples
    return np.column_stack([i, j]), False


def _pair_squared_distances(A, pairs):
    """``||A[i] - A[j]||^2`` for each pair, accumulated in float64."""
    out = np.empty(pairs.shape[0], dtype=np.float64)
    for start in range(0, pairs.shape[0], _PAIR_BLOCK):
        block = pairs[start : start + _PAIR_BLOCK]
        diff = A[block[:, 0]].astype(np.float64) - A[block[:, 1]]
        out[start : start + _PAIR_BLOCK] = np.einsum("ij,ij->i", diff, diff)
    return out


def _check_quantiles(quantiles):
    # The declared constraint admits any array-like: its entries are checked
    # here.
    levels = np.atleast_1d(np.asarray(quantiles))
    if (
        levels.ndim != 1
        or levels.size == 0
        or levels.dtype.kind not in "iuf"
        or not np.all((levels >= 0) & (levels <= 1))
    ):
        raise ValueError(
            "quantiles must be a non-empty sequence of levels in [0, 1], got "
            f"{quantiles!r}. Pass e.g. quantiles=(0.05, 0.5, 0.95)."
        )
    return tuple(float(q) for q in np.unique(levels))


def _quantile_name(level):
    return f"q{100 * level:g}"


class DistortionReport:
    """Distribution of squared-distance ratios of a projection over pairs.

    Each ratio is ``||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2`` for a sampled
    pair of distinct points; a perfect isometry gives 1 for every pair, and a
    Johnson-Lindenstrauss projection with distortion ``eps`` keeps every
    ratio inside ``[1 - eps, 1 + eps]``. Built by :func:`distortion_report`.

    Parameters
    ----------
    ratios : ndarray of shape (n_pairs,)
        The squared-distance ratios.
    pairs : ndarray of shape (n_pairs, 2)
        Row indices into ``X`` of the pair behind each ratio.
    eps : float
        Half-width of the band ``[1 - eps, 1 + eps]`` that ratios should stay in.
    n_features : int
        Width of the original data.
    n_components : int
        Width of the projected data.
    quantile_levels : tuple of float, default=(0.01, 0.05, 0.25, 0.5, 0.75, \
0.95, 0.99)
        Levels reported by :attr:`quantiles` and :meth:`to_frame`.
    exhaustive : bool, default=False
        Whether every distinct pair was used, making the report exact.
    n_duplicate_pairs : int, default=0
        Sampled pairs left out because both points coincide, so their ratio
        is undefined.

    Attributes
    ----------
    ratios, pairs, eps, n_features, n_components, quantile_levels, \
exhaustive, n_duplicate_pairs
        The parameters, stored as given.

    See Also
    --------
    distortion_report : Builds this report from data and a projection.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.diagnostics import DistortionReport
    >>> report = DistortionReport(
    ...     np.array([0.8, 0.95, 1.0, 1.05, 1.3]), np.zeros((5, 2), dtype=int),
    ...     eps=0.1, n_features=10, n_components=5)
    >>> report.min, report.max, report.fraction_outside
    (0.8, 1.3, 0.4)
    >>> report.fraction_outside_at(0.25)
    0.2
    """

    def __init__(
        self,
        ratios,
        pairs,
        *,
        eps,
        n_features,
        n_components,
        quantile_levels=_DEFAULT_QUANTILES,
        exhaustive=False,
        n_duplicate_pairs=0,
    ):
        self.ratios = np.asarray(ratios, dtype=np.float64)
        self.pairs = np.asarray(pairs)
        self.eps = float(eps)
        self.n_features = int(n_features)
        self.n_components = int(n_components)
        self.quantile_levels = tuple(quantile_levels)
        self.exhaustive = bool(exhaustive)
        self.n_duplicate_pairs = int(n_duplicate_pairs)

    @property
    def n_pairs(self):
        """Number of pairs with a defined ratio."""
        return int(self.ratios.shape[0])

    @property
    def min(self):
        """Smallest ratio: the most a pair was shrunk."""
        return float(self.ratios.min())

    @property
    def max(self):
        """Largest ratio: the most a pair was stretched."""
        return float(self.ratios.max())

    @property
    def mean(self):
        """Mean ratio; close to 1 for an unbiased projection."""
        return float(self.ratios.mean())

    @property
    def max_distortion(self):
        """Largest ``|ratio - 1|``: the measured ``eps`` of these pairs."""
        return float(np.abs(self.ratios - 1.0).max())

    @property
    def quantiles(self):
        """Ratio quantiles as a :class:`pandas.Series` indexed by level."""
        values = np.quantile(self.ratios, self.quantile_levels)
        # Interpolation can overshoot the extremes by one ulp; clip so that
        # min <= quantiles <= max holds exactly.
        values = np.clip(values, self.min, self.max)
        return pd.Series(values, index=list(self.quantile_levels), name="ratio")

    @property
    def fraction_below(self):
        """Fraction of pairs shrunk below ``1 - eps``."""
        return float(np.mean(self.ratios < 1.0 - self.eps))

    @property
    def fraction_above(self):
        """Fraction of pairs stretched above ``1 + eps``."""
        return float(np.mean(self.ratios > 1.0 + self.eps))

    @property
    def fraction_outside(self):
        """Fraction of pairs outside ``[1 - eps, 1 + eps]``."""
        return self.fraction_outside_at(self.eps)

    @validate_params(
        {"eps": [Interval(Real, 0, 1, closed="neither")]},
        prefer_skip_nested_validation=True,
    )
    def fraction_outside_at(self, eps):
        """Fraction of pairs outside ``[1 - eps, 1 + eps]`` for another ``eps``.

        Parameters
        ----------
        eps : float
            Half-width of the band, in (0, 1).

        Returns
        -------
        fraction : float
            In [0, 1].

        See Also
        --------
        DistortionReport.fraction_outside : The same at the report's ``eps``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_subspace.diagnostics import DistortionReport
        >>> report = DistortionReport(
        ...     np.array([0.7, 1.0, 1.2]), np.zeros((3, 2), dtype=int),
        ...     eps=0.1, n_features=4, n_components=2)
        >>> report.fraction_outside_at(0.25)
        0.3333333333333333
        """
        return float(np.mean(np.abs(self.ratios - 1.0) > eps))

    def to_frame(self):
        """Summarise the report as a one-row :class:`pandas.DataFrame`.

        One row per report, so reports for several ``k`` or projection
        families stack with :func:`pandas.concat`.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``n_features``, ``n_components``, ``n_pairs``, ``eps``,
            ``min``, one ``q<percent>`` column per quantile level, ``max``,
            ``mean``, ``max_distortion``, ``fraction_below``,
            ``fraction_above`` and ``fraction_outside``.

        See Also
        --------
        DistortionReport.plot : The same report as a histogram.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_subspace.diagnostics import distortion_report
        >>> X = np.random.default_rng(0).standard_normal((20, 8))
        >>> frame = distortion_report(X, 2 * X, eps=0.5).to_frame()
        >>> frame[["n_pairs", "min", "max", "fraction_above"]]
           n_pairs  min  max  fraction_above
        0      190  4.0  4.0             1.0
        """
        row = {
            "n_features": self.n_features,
            "n_components": self.n_components,
            "n_pairs": self.n_pairs,
            "eps": self.eps,
            "min": self.min,
        }
        quantiles = self.quantiles
        for level, value in quantiles.items():
            row[_quantile_name(level)] = float(value)
        row.update(
            max=self.max,
            mean=self.mean,
            max_distortion=self.max_distortion,
            fraction_below=self.fraction_below,
            fraction_above=self.fraction_above,
            fraction_outside=self.fraction_outside,
        )
        return pd.DataFrame([row])

    def plot(self, ax=None, *, bins=60):
        """Histogram of the ratios with the ``1 +- eps`` band shaded.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure when None.
        bins : int or str, default=60
            Passed to :meth:`matplotlib.axes.Axes.hist`.

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.

        See Also
        --------
        DistortionReport.to_frame : The same report as numbers.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_subspace.diagnostics import distortion_report
        >>> X = np.random.default_rng(0).standard_normal((50, 8))
        >>> ax = distortion_report(X, 1.05 * X, eps=0.2).plot()
        >>> ax.get_xlabel()
        'projected / original squared distance'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.axvspan(
            1.0 - self.eps,
            1.0 + self.eps,
            color="tab:green",
            alpha=0.15,
            label=f"1 ± eps (eps={self.eps:g})",
        )
        hist_range = None
        if self.max - self.min <= 1e-6 * max(abs(self.max), 1.0):
            # All ratios (nearly) equal, as for an isometry: numpy cannot
            # split a zero-width range into bins, so widen it.
            half_width = 0.05 * self.eps
            hist_range = (self.min - half_width, self.max + half_width)
        ax.hist(self.ratios, bins=bins, range=hist_range, color="tab:blue", alpha=0.8)
        ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
        ax.set_xlabel("projected / original squared distance")
        ax.set_ylabel("pairs")
        ax.set_title(
            f"k={self.n_components} of d={self.n_features}: "
            f"{100 * self.fraction_outside:.2f}% of {self.n_pairs} pairs outside"
        )
        ax.legend(loc="upper right")
        return ax

    def __repr__(self):
        return (
            f"DistortionReport(n_components={self.n_components}, "
            f"n_pairs={self.n_pairs}, min={self.min:.4g}, max={self.max:.4g}, "
            f"eps={self.eps:g}, fraction_outside={self.fraction_outside:.4g})"
        )


def _as_dense_2d(Z, n_rows, source):
    if sp.issparse(Z):
        Z = Z.toarray()
    Z = _check_features(Z, name=source, min_samples=1)
    if Z.shape[0] != n_rows:
        raise ValueError(
            f"{source} has {Z.shape[0]} rows but X has {n_rows}; pass the "
            "projection of the same samples, in the same order."
        )
    return Z


def _take_rows(X, rows):
    """``X[rows]`` for an array, a sparse matrix, a DataFrame or a list."""
    if hasattr(X, "iloc"):  # pandas: by position, keeping the column names
        return X.iloc[rows]
    if sp.issparse(X):
        return X.tocsr()[rows]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    return np.asarray(X)[rows]


def _project_rows(X, X_checked, transformer_or_X_projected, rows):
    """The projected coordinates of ``X[rows]``."""
    target = transformer_or_X_projected
    # DataFrames have a ``transform`` method too: data has a shape, a
    # transformer has none.
    if hasattr(target, "transform") and not hasattr(target, "shape"):
        if hasattr(target, "fit"):
            try:
                check_is_fitted(target)
            except NotFittedError:
                target = clone(target).fit(X)
        # Transformers act row by row, so only the sampled rows are projected.
        Z = target.transform(_take_rows(X, rows))
        return _as_dense_2d(Z, rows.shape[0], "the transformer's output")
    Z = _as_dense_2d(target, X_checked.shape[0], "X_projected")
    return Z[rows]


@validate_params(
    {
        "X": ["array-like"],
        "transformer_or_X_projected": [
            "array-like",
            "sparse matrix",
            HasMethods("transform"),
        ],
        "n_pairs": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "quantiles": ["array-like", Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def distortion_report(
    X,
    transformer_or_X_projected,
    *,
    n_pairs=10000,
    eps=0.1,
    quantiles=_DEFAULT_QUANTILES,
    random_state=None,
):
    """Measure how a projection distorts pairwise distances of ``X``.

    For ``n_pairs`` random pairs of distinct rows, compute the ratio of
    squared distances after and before the projection. The result holds the
    whole distribution (min, max, quantiles, fractions outside
    ``[1 - eps, 1 + eps]``) and renders as a DataFrame or a histogram.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The original features. Must be finite, with at least 2 rows.
    transformer_or_X_projected : transformer or array-like of shape \
(n_samples, n_components)
        Either the projection as a transformer (for example
        :class:`~sklearn_subspace.projection.JLSubspaceTransformer` or any
        scikit-learn transformer), or ``X`` already projected, row for row.
        A fitted transformer is used as is; an unfitted one is cloned and
        fitted on ``X``, leaving the object passed in untouched. Only the
        sampled rows are transformed.
    n_pairs : int, default=10000
        Number of pairs to sample, with replacement. When it reaches the
        number of distinct pairs ``n (n - 1) / 2``, every pair is used once
        instead, the report is exact and ``random_state`` has no effect.
    eps : float, default=0.1
        Half-width of the band ``[1 - eps, 1 + eps]`` in which ratios count
        as preserved. Must lie in (0, 1).
    quantiles : sequence of float, default=(0.01, 0.05, 0.25, 0.5, 0.75, \
0.95, 0.99)
        Quantile levels to report, each in [0, 1].
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling. It does not seed the transformer, whose own
        ``random_state`` decides the projection.

    Returns
    -------
    report : DistortionReport
        Use ``report.to_frame()`` for a DataFrame and ``report.plot()`` for
        the histogram. Pairs of identical rows have no ratio and are left
        out; ``report.n_duplicate_pairs`` counts them.

    Raises
    ------
    ValueError
        If ``X`` or the projection is not 2-D or holds NaN or infinity, the
        row counts differ, ``X`` has fewer than 2 rows, every sampled pair
        is a pair of identical rows, or ``eps`` is outside (0, 1).

    See Also
    --------
    estimate_intrinsic_dimension : How many dimensions the data occupies.
    recommend_n_components : Turns measured distortion into a choice of ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.random_projection import GaussianRandomProjection
    >>> from sklearn_subspace.diagnostics import distortion_report
    >>> X = np.random.default_rng(0).standard_normal((200, 500))
    >>> report = distortion_report(
    ...     X, GaussianRandomProjection(n_components=300, random_state=0),
    ...     n_pairs=2000, eps=0.3, random_state=0)
    >>> report.n_pairs, report.n_components
    (2000, 300)
    >>> bool(0.7 < report.min <= report.quantiles[0.5] <= report.max < 1.3)
    True
    >>> report.fraction_outside
    0.0
    >>> list(report.to_frame().columns[:5])
    ['n_features', 'n_components', 'n_pairs', 'eps', 'min']
    """
    levels = _check_quantiles(quantiles)
    check_numeric_columns(X, "distortion_report")
    X_checked = _check_features(X, min_samples=2, what="distortion_report")

    rng = check_random_state(random_state)
    pairs, exhaustive = _sample_pairs(X_checked.shape[0], n_pairs, rng)
    rows, local = np.unique(pairs, return_inverse=True)
    local = local.reshape(pairs.shape)

    Z = _project_rows(X, X_checked, transformer_or_X_projected, rows)
    original = _pair_squared_distances(X_checked[rows], local)
    projected = _pair_squared_distances(Z, local)

    defined = original > 0
    if not defined.any():
        raise ValueError(
            "Every sampled pair joins two identical rows of X, so no distance "
            "ratio is defined. Remove duplicate rows or pass more varied data."
        )
    return DistortionReport(
        projected[defined] / original[defined],
        pairs[defined],
        eps=eps,
        n_features=X_checked.shape[1],
        n_components=Z.shape[1],
        quantile_levels=levels,
        exhaustive=exhaustive,
        n_duplicate_pairs=int((~defined).sum()),
    )
