"""The scikit-learn transformer for seeded Johnson-Lindenstrauss projections."""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._apply import apply_in_blocks
from ._bounds import _check_eps, johnson_lindenstrauss_min_dim
from ._matrices import (
    PROJECTION_FAMILIES,
    check_projection_name,
    make_projection,
    resolve_density,
)

_FLOAT_DTYPES = (np.float64, np.float32)
# Families whose every output coordinate depends on every input coordinate.
_MIXING_FAMILIES = ("gaussian", "orthogonal", "rademacher", "srht")


class JLSubspaceTransformer(TransformerMixin, BaseEstimator):
    """Project features into a fixed, seeded random subspace.

    The map ``x -> S x`` from ``R^d`` to ``R^k`` is drawn once from
    ``random_state`` and never trained. Every family is an unbiased
    Johnson-Lindenstrauss map (``E ||S x||^2 = ||x||^2``), so pairwise
    distances are kept up to a small relative error ``eps`` when
    ``k`` is large enough (:func:`johnson_lindenstrauss_min_dim`).

    Parameters
    ----------
    n_components : int or "auto", default="auto"
        Target dimension ``k``. ``"auto"`` picks the textbook JL bound for the
        number of samples seen in ``fit`` and ``eps``, and raises when that
        exceeds the number of features.
    projection : str, default="gaussian"
        The family of random maps:

        - ``"gaussian"``: entries ``N(0, 1/k)``, the matrix of the original
          method.
        - ``"orthogonal"``: ``k`` rows of a Haar-random orthonormal basis,
          scaled by ``sqrt(d / k)``. Needs ``k <= d``.
        - ``"rademacher"``: entries ``+-1/sqrt(k)``.
        - ``"sparse"``: Achlioptas / Li very sparse entries
          ``+-sqrt(1 / (density k))``, zero with probability ``1 - density``.
        - ``"srht"``: random signs, a fast Walsh-Hadamard transform and ``k``
          coordinates sampled uniformly. Inputs whose width is not a power of
          two are zero-padded to the next one, which changes no norm, so the
          map stays unbiased. Needs ``k`` at most that power of two.
        - ``"countsketch"``: each input coordinate is added, with a random
          sign, to one random output coordinate.
    eps : float, default=0.1
        Distortion used by ``n_components="auto"``; strictly in (0, 1).
    density : float or "auto", default="auto"
        Density of the ``"sparse"`` family, in (0, 1]. ``"auto"`` is
        ``1 / sqrt(n_features)``. Ignored by the other families.
    random_state : int, RandomState instance or None, default=None
        Seed of the map. An integer gives the same map in every process and
        on every dask worker, for any block size.
    compute_inverse_components : bool, default=False
        Whether to compute the pseudo-inverse of the map in ``fit`` (stored as
        ``inverse_components_``). Otherwise ``inverse_transform`` computes it
        on each call.

    Attributes
    ----------
    n_components_ : int
        The target dimension actually used.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen in ``fit``, when ``X`` has string column names.
    seed_ : int
        Integer seed the map was generated from. The map is a pure function of
        ``projection_spec_``.
    density_ : float or None
        Density used by the ``"sparse"`` family, else ``None``.
    projection_spec_ : dict
        ``projection``, ``n_components``, ``n_features``, ``seed`` and
        ``density``: all that is needed to rebuild the map with
        :func:`make_projection`.
    components_ : ndarray or sparse matrix of shape (n_components_, n_features_in_)
        The map as a matrix: CSR for ``"sparse"`` and ``"countsketch"``,
        dense otherwise (built on first access for ``"srht"``).
    inverse_components_ : ndarray of shape (n_features_in_, n_components_)
        Pseudo-inverse of ``components_``; only with
        ``compute_inverse_components=True``.

    See Also
    --------
    johnson_lindenstrauss_min_dim : How small ``k`` can be for ``n`` points.
    make_projection : The seeded maps behind this transformer.
    sklearn.random_projection.GaussianRandomProjection : scikit-learn's own.

    Notes
    -----
    float32 input gives float32 output and a float32 map, drawn directly in
    float32; integer input is converted to float64. Sparse input is accepted;
    the output is always dense. A fitted transformer pickles only the spec of
    its map, not the matrix, and rebuilds the map when it is next used.

    References
    ----------
    .. [1] D. Achlioptas, "Database-friendly random projections:
       Johnson-Lindenstrauss with binary coins", JCSS, 2003.
    .. [2] P. Li, T. Hastie and K. Church, "Very sparse random projections",
       KDD, 2006.
    .. [3] J. A. Tropp, "Improved analysis of the subsampled randomized
       Hadamard transform", Adv. Adapt. Data Anal., 2011.
    .. [4] K. L. Clarkson and D. P. Woodruff, "Low rank approximation and
       regression in input sparsity time", STOC, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace import JLSubspaceTransformer
    >>> X = np.random.default_rng(0).standard_normal((100, 2048), dtype=np.float32)
    >>> jl = JLSubspaceTransformer(n_components=128, random_state=0)
    >>> Z = jl.fit_transform(X)
    >>> Z.shape, Z.dtype
    ((100, 128), dtype('float32'))
    >>> jl.get_feature_names_out()[:3]
    array(['jl0', 'jl1', 'jl2'], dtype=object)
    """

    _parameter_constraints = {}

    def __init__(
        self,
        n_components="auto",
        *,
        projection="gaussian",
        eps=0.1,
        density="auto",
        random_state=None,
        compute_inverse_components=False,
    ):
        self.n_components = n_components
        self.projection = projection
        self.eps = eps
        self.density = density
        self.random_state = random_state
        self.compute_inverse_components = compute_inverse_components

    # ------------------------------------------------------------------ fit
    def _resolve_n_components(self, n_samples, n_features):
        if isinstance(self.n_components, str) and self.n_components == "auto":
            _check_eps(self.eps)
            k = int(johnson_lindenstrauss_min_dim(n_samples, eps=self.eps))
            if k <= 0:
                raise ValueError(
                    f"eps={self.eps} and n_samples={n_samples} give an invalid "
                    f"number of components ({k}). Pass n_components explicitly."
                )
            if k > n_features:
                raise ValueError(
                    f"eps={self.eps} and n_samples={n_samples} lead to a target "
                    f"dimension of {k} which is larger than the number of "
                    f"features n_features={n_features}. Raise eps, or set "
                    "n_components explicitly."
                )
            return k
        if (
            not isinstance(self.n_components, numbers.Integral)
            or isinstance(self.n_components, bool)
            or self.n_components <= 0
        ):
            raise ValueError(
                "n_components must be a positive integer or 'auto', got "
                f"{self.n_components!r}."
            )
        k = int(self.n_components)
        if k > n_features:
            warnings.warn(
                f"The number of components is higher than the number of "
                f"features: n_features < n_components ({n_features} < {k}). "
                "The dimensionality of the problem will not be reduced.",
                DataDimensionalityWarning,
                stacklevel=3,
            )
        return k

    def _draw_seed(self):
        if isinstance(self.random_state, numbers.Integral) and not isinstance(
            self.random_state, bool
        ):
            if self.random_state < 0:
                raise ValueError(
                    f"random_state must be non-negative, got {self.random_state}."
                )
            return int(self.random_state)
        # None or a RandomState: draw the integer that defines the map, so the
        # fitted map can still be rebuilt exactly from seed_.
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def fit(self, X, y=None):
        """Draw the random map for the shape of ``X``.

        Only the shape and dtype of ``X`` are used, and its finiteness is
        checked.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : JLSubspaceTransformer
            The fitted transformer.
        """
        check_projection_name(self.projection)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=_FLOAT_DTYPES,
            ensure_min_samples=1,
        )
        n_samples, n_features = X.shape
        self.n_components_ = self._resolve_n_components(n_samples, n_features)
        self.density_ = (
            resolve_density(self.density, n_features)
            if self.projection == "sparse"
            else None
        )
        self.seed_ = self._draw_seed()
        self.projection_spec_ = {
            "projection": self.projection,
            "n_components": self.n_components_,
            "n_features": n_features,
            "seed": self.seed_,
            "density": self.density_,
        }
        self._fit_dtype = X.dtype
        self._projection = make_projection(**self.projection_spec_, dtype=X.dtype)
        if self.compute_inverse_components:
            self.inverse_components_ = self._pseudo_inverse()
        return self

    # ------------------------------------------------------------ the map
    def _map(self, dtype=None):
        """The fitted map, rebuilt from its spec after unpickling."""
        if getattr(self, "_projection", None) is None:
            self._projection = make_projection(
                **self.projection_spec_, dtype=self._fit_dtype
            )
        projection = self._projection
        return projection if dtype is None else projection.astype(dtype)

    @property
    def components_(self):
        check_is_fitted(self, "projection_spec_")
        return self._map().components

    def _pseudo_inverse(self):
        components = self._map().to_dense()
        if sp.issparse(components):
            components = components.toarray()
        return linalg.pinv(components, check_finite=False).astype(
            components.dtype, copy=False
        )

    # ---------------------------------------------------------- transform
    def transform(self, X):
        """Project ``X`` into the subspace.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Data with the width seen in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components_)
            Projected data, float32 for float32 input and float64 otherwise.
        """
        check_is_fitted(self, "projection_spec_")
        # In the dense families every input coordinate reaches every output,
        # so a NaN or inf in X always shows in the (k/d times smaller) output:
        # checking that instead of X saves a full pass over the input.
        check_output = self.projection in _MIXING_FAMILIES
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=_FLOAT_DTYPES,
            reset=False,
            ensure_all_finite=not check_output,
        )
        Z = apply_in_blocks(self._map(X.dtype), X)
        if check_output and not np.isfinite(Z.sum()) and not np.isfinite(Z).all():
            # Name the real cause: non-finite input, or finite input so large
            # that the projection overflows.
            check_array(X, accept_sparse=["csr", "csc"], dtype=None)
            raise ValueError(
                "The projection of X overflowed to infinity although X is "
                f"finite; its largest magnitude is {abs(X).max():.3g}. Rescale "
                "X, or use float64 input."
            )
        return Z

    def inverse_transform(self, X):
        """Map projected data back to the input space.

        Uses the pseudo-inverse of the map, so
        ``transform(inverse_transform(Z))`` equals ``Z`` when
        ``n_components_ <= n_features_in_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Projected data.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            The least-norm preimage of ``X``.
        """
        check_is_fitted(self, "projection_spec_")
        X = self._check_projected(X)
        inverse = getattr(self, "inverse_components_", None)
        if inverse is None:
            inverse = self._pseudo_inverse()
        return X @ inverse.T.astype(X.dtype, copy=False)

    def _check_projected(self, X):
        X = check_array(X, dtype=_FLOAT_DTYPES, accept_sparse=False)
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but inverse_transform expects "
                f"{self.n_components_} (the number of components of this "
                "projection). Pass the output of transform."
            )
        return X

    def get_feature_names_out(self, input_features=None):
        """Names of the projected features: ``jl0``, ``jl1``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in ``fit``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_components_`` names.
        """
        check_is_fitted(self, "n_components_")
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray([f"jl{i}" for i in range(self.n_components_)], dtype=object)

    # --------------------------------------------------------- persistence
    def __getstate__(self):
        state = super().__getstate__()
        # The matrix is a pure function of projection_spec_: keep pickles small.
        state.pop("_projection", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


__all__ = ["JLSubspaceTransformer", "PROJECTION_FAMILIES"]
