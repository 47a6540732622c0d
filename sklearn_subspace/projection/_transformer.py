"""The scikit-learn transformer for seeded Johnson-Lindenstrauss projections."""

import functools
import math
import os
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._frames import check_numeric_columns
from .._param_validation import Interval, StrOptions, _fit_context
from ._apply import apply_in_blocks
from ._bounds import johnson_lindenstrauss_min_dim
from ._matrices import PROJECTION_FAMILIES, make_projection, resolve_density

_FLOAT_DTYPES = (np.float64, np.float32)
# Families whose every output coordinate depends on every input coordinate.
_MIXING_FAMILIES = ("gaussian", "orthogonal", "rademacher", "srht")


# -- dask arrays ---------------------------------------------------------------
# dask is optional: its arrays are recognised by the module of their type, so
# the numpy path never imports it.
def _is_dask_collection(X):
    return type(X).__module__.startswith("dask")


def _check_dask_array(X, method):
    """Check a dask array's metadata only: nothing is computed."""
    try:
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            f"X is a {type(X).__module__}.{type(X).__name__}, but dask cannot "
            f"be imported ({exc}). Install it with "
            "`pip install 'sklearn-subspace[dask]'`, or pass a numpy array."
        ) from exc
    if not isinstance(X, da.Array):
        raise TypeError(
            f"JLSubspaceTransformer.{method} accepts dask arrays, not "
            f"{type(X).__name__}. Convert a dask DataFrame with "
            "X.to_dask_array(lengths=True)."
        )
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array (n_samples, n_features), got ndim={X.ndim}."
            " Reshape it, e.g. X.reshape(X.shape[0], -1)."
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(
            f"X has dtype {X.dtype}; a numeric dtype is needed. Cast it first, "
            "e.g. X.astype(np.float32)."
        )
    if math.isnan(X.shape[1]):
        raise ValueError(
            "The dask array has an unknown number of columns. Call "
            "X.compute_chunk_sizes() first."
        )
    if X.shape[0] == 0:
        raise ValueError(
            "Found array with 0 sample(s) (shape=(0, "
            f"{X.shape[1]})) while a minimum of 1 is required."
        )
    # Same dtype rule as numpy input: float32 stays, anything else is float64.
    return X if X.dtype in _FLOAT_DTYPES else X.astype(np.float64)


# -- memory a map needs ---------------------------------------------------------
def _format_bytes(n):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024


def _map_nbytes(projection, k, d, density, itemsize):
    """Bytes the stored map of ``k`` rows and ``d`` columns needs (at least)."""
    indptr = (k + 1) * 8  # the sparse families store k + 1 row offsets
    if projection == "sparse":
        return math.ceil(k * d * density) * (itemsize + 8) + indptr
    if projection == "countsketch":  # one nonzero per input feature
        return d * (itemsize + 8) + indptr
    if projection == "srht":  # k row indices and d signs
        return 8 * k + itemsize * d
    return k * d * itemsize  # a dense matrix


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on this platform
        return 1 << 40


def _check_map_size(spec, dtype):
    """Refuse a map larger than the machine's memory, before allocating it."""
    k, d = spec["n_components"], spec["n_features"]
    itemsize = np.dtype(dtype).itemsize
    need = _map_nbytes(spec["projection"], k, d, spec["density"], itemsize)
    have = _physical_memory()
    if need > have:
        raise ValueError(
            f"n_components={k} would need a {spec['projection']!r} projection "
            f"map of about {_format_bytes(need)} ({k} x {d}, "
            f"{np.dtype(dtype).name}), more than this machine's "
            f"{_format_bytes(have)} of memory. Lower n_components: a random "
            f"projection compresses, so k is meant to be below d = {d}; "
            "johnson_lindenstrauss_min_dim gives the k a distortion eps needs."
        )


@functools.lru_cache(maxsize=4)
def _cached_projection(projection, n_components, n_features, seed, density, dtype):
    return make_projection(
        projection, n_components, n_features, seed=seed, density=density, dtype=dtype
    )


def _check_block_finite(block):
    check_array(
        block,
        accept_sparse=True,
        dtype=None,
        input_name="X",
        estimator="JLSubspaceTransformer",
    )


def _project_block(block, spec):
    """Project one block of rows on whatever process dask runs it.

    Only the spec travels with the task; each process rebuilds the map once
    per dtype. ``apply_in_blocks`` makes a row's result independent of the
    chunking, so the blocks equal the numpy transform.
    """
    projection = _cached_projection(**spec, dtype=block.dtype.name)
    check_output = spec["projection"] in _MIXING_FAMILIES
    if not check_output:
        _check_block_finite(block)
    Z = apply_in_blocks(projection, block)
    if not np.isfinite(Z).all():  # finite input can still overflow, any family
        _check_block_finite(block)
        raise ValueError(
            "The projection of X overflowed to infinity although X is finite. "
            "Rescale X, or use float64 input."
        )
    return Z


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

    A dask array chunked by rows is transformed lazily, block by block: each
    dask worker rebuilds the map from ``projection_spec_`` (no matrix is
    sent), and the result equals the numpy one, bit for bit in float64.
    ``fit`` reads only the shape and dtype of a dask array.

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

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "projection": [StrOptions(set(PROJECTION_FAMILIES))],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "density": [Interval(Real, 0, 1, closed="right"), StrOptions({"auto"})],
        "random_state": ["random_state"],
        "compute_inverse_components": ["boolean"],
    }

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
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        # None or a RandomState: draw the integer that defines the map, so the
        # fitted map can still be rebuilt exactly from seed_.
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the random map for the shape of ``X``.

        Only the shape and dtype of ``X`` are used, and its finiteness is
        checked. A dask array is not computed at all (its finiteness is
        checked block by block in :meth:`transform`).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, dask array} of shape \
(n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : JLSubspaceTransformer
            The fitted transformer.
        """
        if _is_dask_collection(X):
            # Metadata only: sets n_features_in_ without computing X.
            X = _check_dask_array(X, "fit")
            validate_data(self, X, skip_check_array=True)
            auto = isinstance(self.n_components, str) and self.n_components == "auto"
            if auto and math.isnan(X.shape[0]):
                raise ValueError(
                    "n_components='auto' needs the number of samples, which "
                    "this dask array does not know. Call X.compute_chunk_sizes()"
                    " or pass an integer n_components."
                )
        else:
            check_numeric_columns(X, type(self).__name__)
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
        _check_map_size(self.projection_spec_, X.dtype)
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
        X : {array-like, sparse matrix, DataFrame, dask array} of shape \
(n_samples, n_features)
            Data with the width seen in ``fit``.

        Returns
        -------
        X_new : ndarray or dask array of shape (n_samples, n_components_)
            Projected data, float32 for float32 input and float64 otherwise.
            For a dask array, a lazy dask array with the same row chunks,
            equal to the numpy result.
        """
        check_is_fitted(self, "projection_spec_")
        if _is_dask_collection(X):
            return self._transform_dask(X)
        # In the dense families every input coordinate reaches every output,
        # so a NaN or inf in X always shows in the (k/d times smaller) output:
        # checking that instead of X saves a full pass over the input.
        check_output = self.projection in _MIXING_FAMILIES
        check_numeric_columns(X, type(self).__name__)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=_FLOAT_DTYPES,
            reset=False,
            ensure_all_finite=not check_output,
        )
        Z = apply_in_blocks(self._map(X.dtype), X)
        # Every family is checked: sums of finite values overflow in the
        # sparse families too (X was checked above, the output is not).
        if not np.isfinite(Z.sum()) and not np.isfinite(Z).all():
            # Name the real cause: non-finite input, or finite input so large
            # that the projection overflows.
            check_array(
                X,
                accept_sparse=["csr", "csc"],
                dtype=None,
                input_name="X",  # names X and the estimator in the NaN message
                estimator=self,
            )
            raise ValueError(
                "The projection of X overflowed to infinity although X is "
                f"finite; its largest magnitude is {abs(X).max():.3g}. Rescale "
                "X, or use float64 input."
            )
        return Z

    def _transform_dask(self, X):
        X = _check_dask_array(X, "transform")
        validate_data(self, X, skip_check_array=True, reset=False)
        output = self._output_container()
        if output != "default":
            # The container would be built by computing the whole array.
            raise ValueError(
                f"set_output(transform={output!r}) would load the whole dask "
                "array into memory. Use set_output(transform='default') for "
                "dask input, then e.g. dask.dataframe.from_dask_array(Z, "
                "columns=jl.get_feature_names_out())."
            )
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})  # a row needs all of its features in one block
        return X.map_blocks(
            _project_block,
            spec=dict(self.projection_spec_),
            chunks=(X.chunks[0], (self.n_components_,)),
            dtype=X.dtype,
            meta=np.empty((0, 0), dtype=X.dtype),
        )

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
        if input_features is not None:
            _check_input_features(self, input_features)
        return np.asarray([f"jl{i}" for i in range(self.n_components_)], dtype=object)

    def set_output(self, *, transform=None):
        """Set the container of ``transform``'s output.

        As scikit-learn's ``set_output``; the choice is also recorded so
        that ``transform`` can refuse a container for dask input, which
        would load the whole array into memory.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            ``"default"``: NumPy arrays; ``None``: leave the setting as is.

        Returns
        -------
        self : JLSubspaceTransformer
        """
        super().set_output(transform=transform)
        if transform is not None:
            self._transform_output = transform
        return self

    def __sklearn_clone__(self):
        new = super().__sklearn_clone__()
        if hasattr(self, "_transform_output"):  # clone keeps set_output's choice
            new._transform_output = self._transform_output
        return new

    def _output_container(self):
        """The container ``set_output`` chose: this estimator's, else global."""
        return (
            getattr(self, "_transform_output", None) or get_config()["transform_output"]
        )

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


def _check_input_features(estimator, input_features):
    """Refuse ``input_features`` that differ from what ``fit`` saw."""
    input_features = np.asarray(input_features, dtype=object)
    if len(input_features) != estimator.n_features_in_:
        raise ValueError(
            f"input_features should have length equal to number of features "
            f"({estimator.n_features_in_}), got {len(input_features)}."
        )
    seen = getattr(estimator, "feature_names_in_", None)
    if seen is not None and not np.array_equal(seen, input_features):
        position = int(np.flatnonzero(seen != input_features)[0])
        raise ValueError(
            "input_features is not equal to feature_names_in_: at position "
            f"{position} got {input_features[position]!r}, fitted on "
            f"{seen[position]!r}. Pass the column names of the DataFrame given "
            "to fit, or None."
        )
