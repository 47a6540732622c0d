"""Seeded random projection families.

Each family is a pure function of ``(projection, n_components, n_features,
seed, density)``: the same arguments give the same map in every process and
on every machine. Every family is an unbiased Johnson-Lindenstrauss map,
``E ||S x||^2 = ||x||^2`` for any ``x``.

The random draws are made directly in float32 (or as integers), so fitting
on float32 data never allocates a float64 copy of a large matrix, and a
float64 map holds exactly the same values as the float32 one.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._param_validation import Interval, StrOptions, validate_params

PROJECTION_FAMILIES = (
    "gaussian",
    "orthogonal",
    "rademacher",
    "sparse",
    "srht",
    "countsketch",
)

# A sparse map is applied to dense data through BLAS on a dense copy when that
# copy is this small: scipy's sparse-times-dense product runs single-threaded
# and is several times slower than a dense GEMM for moderate k * d.
_DENSE_COPY_MAX_BYTES = 256 * 2**20
# Gaussian rows are drawn in blocks of this many rows, each from its own
# seeded stream, so that large matrices are drawn on all cores.
_RNG_BLOCK_ROWS = 32


def resolve_density(density, n_features):
    """Density of the very sparse family: ``"auto"`` means ``1 / sqrt(d)``."""
    if isinstance(density, str) and density == "auto":
        return 1.0 / math.sqrt(n_features)
    return float(density)


def _float_dtype(dtype):
    """``dtype`` as a numpy dtype, if it is float32 or float64."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:  # a string or type numpy does not know
        resolved = None
    if resolved is None or resolved not in (np.float32, np.float64):
        raise ValueError(
            f"dtype must be float32 or float64, got {dtype!r}. Pass "
            "dtype=np.float32 (the default) or dtype=np.float64."
        )
    return resolved


def _rng(seed):
    return np.random.default_rng(np.random.SeedSequence(int(seed)))


class _Projection:
    """A fixed linear map ``R^d -> R^k``, applied row-wise: ``X -> X S^T``."""

    family = None

    def __init__(
        self, n_components, n_features, seed, dtype, density=None, family=None
    ):
        # The family name is part of ``spec``: ``astype`` rebuilds the map
        # from it when transform gets another float dtype than fit did.
        self.family = family
        self.n_components = int(n_components)
        self.n_features = int(n_features)
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self.density = density

    @property
    def spec(self):
        return {
            "projection": self.family,
            "n_components": self.n_components,
            "n_features": self.n_features,
            "seed": self.seed,
            "density": self.density,
        }

    def astype(self, dtype):
        """The same map with its values held in another floating dtype."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        return make_projection(**self.spec, dtype=dtype)

    def to_dense(self):
        raise NotImplementedError

    def apply(self, X, out=None):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self.spec.items())
        return f"{type(self).__name__}({args}, dtype={self.dtype.name})"


class _DenseProjection(_Projection):
    """A map held as a dense ``(k, d)`` matrix and applied with one GEMM."""

    def __init__(self, matrix, **kwargs):
        super().__init__(**kwargs)
        self.components = matrix

    def to_dense(self):
        return self.components

    def apply(self, X, out=None):
        if sp.issparse(X):
            result = np.asarray(X @ self.components.T)
            if out is None:
                return result
            out[...] = result
            return out
        return np.matmul(X, self.components.T, out=out)


class _SparseProjection(_Projection):
    """A map held as a CSR matrix (the very sparse and count-sketch families)."""

    def __init__(self, matrix, **kwargs):
        super().__init__(**kwargs)
        self.components = matrix.tocsr()
        self._dense_copy = None

    def to_dense(self):
        return self.components.toarray()

    def apply(self, X, out=None):
        if sp.issparse(X):
            result = (X @ self.components.T).toarray()
        else:
            nbytes = self.n_components * self.n_features * self.dtype.itemsize
            if nbytes <= _DENSE_COPY_MAX_BYTES:
                if self._dense_copy is None:
                    self._dense_copy = self.components.toarray()
                return np.matmul(X, self._dense_copy.T, out=out)
            # (S X^T)^T keeps scipy on its CSR-times-dense kernel.
            result = np.asarray((self.components @ X.T).T)
        if out is None:
            return np.ascontiguousarray(result)
        out[...] = result
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_dense_copy"] = None
        return state


class _SRHTProjection(_Projection):
    """Subsampled randomized Hadamard transform.

    ``S x = sqrt(1 / k) * P H D x_pad``: random signs ``D``, zero padding to
    the next power of two ``d' >= d``, the (unnormalised) Walsh-Hadamard
    transform ``H``, and ``k`` coordinates sampled uniformly without
    replacement. Since ``H / sqrt(d')`` is orthogonal and each coordinate is
    kept with probability ``k / d'``, ``E ||S x||^2 = ||x||^2`` for any ``d``,
    power of two or not: padding with zeros changes no norm.

    The transform is applied as ``H = H_a kron H_b`` with ``a * b = d'``: two
    small dense GEMMs, ``O(d (sqrt(d')))`` work per row instead of ``O(k d)``.
    """

    def __init__(self, signs, rows, **kwargs):
        super().__init__(**kwargs)
        self.signs = signs
        self.rows = rows
        self.padded_features = 1 << max(self.n_features - 1, 0).bit_length()
        order = self.padded_features.bit_length() - 1
        self._order_a = order // 2
        self._order_b = order - order // 2
        # Sylvester ordering, the one ``to_dense`` computes entry by entry.
        self._H_a = scipy.linalg.hadamard(1 << self._order_a, dtype=self.dtype)
        self._H_b = scipy.linalg.hadamard(1 << self._order_b, dtype=self.dtype)
        self._scale = self.dtype.type(1.0 / math.sqrt(self.n_components))

    @property
    def components(self):
        return self.to_dense()

    def to_dense(self):
        # H[i, j] = (-1) ** popcount(i & j) for the Sylvester ordering.
        bits = np.bitwise_and.outer(self.rows, np.arange(self.n_features))
        parity = np.zeros(bits.shape, dtype=np.int8)
        while np.any(bits):
            parity ^= (bits & 1).astype(np.int8)
            bits >>= 1
        dense = (1 - 2 * parity).astype(self.dtype)
        dense *= self.signs[np.newaxis, :] * self._scale
        return dense

    def apply(self, X, out=None):
        if sp.issparse(X):
            X = X.toarray()
        n = X.shape[0]
        a, b = 1 << self._order_a, 1 << self._order_b
        padded = np.zeros((n, self.padded_features), dtype=self.dtype)
        np.multiply(X, self.signs, out=padded[:, : self.n_features])
        # H x = H_a X H_b with x laid out as an (a, b) matrix in C order.
        right = padded.reshape(n * a, b) @ self._H_b
        right = right.reshape(n, a, b).transpose(1, 0, 2).reshape(a, n * b)
        full = (self._H_a @ right).reshape(a, n, b).transpose(1, 0, 2)
        full = full.reshape(n, self.padded_features)
        if out is None:
            out = np.empty((n, self.n_components), dtype=self.dtype)
        np.take(full, self.rows, axis=1, out=out)
        out *= self._scale
        return out


def _gaussian(k, d, seed, dtype):
    matrix = np.empty((k, d), dtype=dtype)
    scale = dtype.type(1.0 / math.sqrt(k))

    def fill(rows):
        # Each block of rows has its own stream keyed by its position, so the
        # matrix is the same whatever the number of threads.
        rng = np.random.default_rng(
            np.random.SeedSequence(int(seed), spawn_key=(rows.start,))
        )
        block = rng.standard_normal((rows.stop - rows.start, d), dtype=np.float32)
        np.multiply(block, scale, out=matrix[rows])

    blocks = [
        slice(start, min(start + _RNG_BLOCK_ROWS, k))
        for start in range(0, k, _RNG_BLOCK_ROWS)
    ]
    # numpy's generators release the GIL while filling arrays.
    with ThreadPoolExecutor(max_workers=min(len(blocks), os.cpu_count() or 1)) as pool:
        list(pool.map(fill, blocks))
    return matrix


def _orthogonal(k, d, seed, dtype):
    if k > d:
        raise ValueError(
            f"The 'orthogonal' projection needs n_components <= n_features, got "
            f"n_components={k} > n_features={d}: a {d}-dimensional space has at "
            f"most {d} orthonormal directions. Lower n_components, or use "
            "projection='gaussian'."
        )
    gaussian = _rng(seed).standard_normal((d, k), dtype=np.float32)
    q, r = np.linalg.qr(gaussian.astype(dtype, copy=False))
    # Fixing the signs of R's diagonal makes Q Haar-distributed.
    q *= np.where(np.diag(r) < 0, -1, 1).astype(dtype)
    matrix = np.ascontiguousarray(q.T)
    matrix *= dtype.type(math.sqrt(d / k))
    return matrix


def _rademacher(k, d, seed, dtype):
    bits = _rng(seed).integers(0, 2, size=(k, d), dtype=np.int8)
    matrix = (2 * bits - 1).astype(dtype)
    matrix *= dtype.type(1.0 / math.sqrt(k))
    return matrix


def _very_sparse(k, d, seed, dtype, density):
    rng = _rng(seed)
    nnz_per_row = rng.binomial(d, density, size=k)
    indices = np.concatenate(
        [np.sort(rng.choice(d, size=int(m), replace=False)) for m in nnz_per_row]
    ).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(nnz_per_row)]).astype(np.int64)
    value = math.sqrt(1.0 / (density * k))
    signs = rng.integers(0, 2, size=indices.size, dtype=np.int8)
    data = ((2 * signs - 1) * value).astype(dtype)
    return sp.csr_matrix((data, indices, indptr), shape=(k, d))


def _countsketch(k, d, seed, dtype):
    rng = _rng(seed)
    buckets = rng.integers(0, k, size=d)
    signs = (2 * rng.integers(0, 2, size=d, dtype=np.int8) - 1).astype(dtype)
    return sp.csr_matrix((signs, (buckets, np.arange(d))), shape=(k, d))


@validate_params(
    {
        "projection": [StrOptions(set(PROJECTION_FAMILIES))],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "density": [
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto"}),
            None,
        ],
        # Which dtypes is checked below: np.float32, "float32" and
        # np.dtype("float32") name the same one.
        "dtype": [type, str, np.dtype],
    },
    prefer_skip_nested_validation=True,
)
def make_projection(
    projection, n_components, n_features, *, seed, density=None, dtype=np.float32
):
    """Build the seeded random map of one family.

    Parameters
    ----------
    projection : {"gaussian", "orthogonal", "rademacher", "sparse", "srht", \
"countsketch"}
        The family. ``"gaussian"``: entries ``N(0, 1/k)``. ``"orthogonal"``:
        ``k`` rows of a Haar-random orthonormal basis scaled by
        ``sqrt(d / k)``. ``"rademacher"``: entries ``+-1/sqrt(k)``.
        ``"sparse"``: Achlioptas / Li very sparse entries
        ``+-sqrt(1 / (density k))`` with probability ``density``.
        ``"srht"``: random signs, Walsh-Hadamard transform and uniform
        row sampling. ``"countsketch"``: one ``+-1`` per input coordinate.
    n_components : int
        Target dimension ``k``.
    n_features : int
        Input dimension ``d``.
    seed : int
        Non-negative integer seed. The map is a pure function of the
        arguments.
    density : float in (0, 1], "auto" or None, default=None
        Density of the ``"sparse"`` family (``None`` or ``"auto"`` means
        ``1 / sqrt(d)``). Ignored by the other families.
    dtype : {np.float32, np.float64}, default=np.float32
        Floating dtype the map is held and applied in, as a numpy type, a
        dtype or its name.

    Returns
    -------
    projection : object
        Has ``apply(X)`` returning ``X S^T`` as a dense ``(n, k)`` array,
        ``to_dense()`` returning ``S`` as a ``(k, d)`` array, ``components``
        (dense or CSR) and ``spec``, the arguments that rebuild it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace.projection import make_projection
    >>> S = make_projection("srht", 4, 6, seed=0)
    >>> X = np.arange(12, dtype=np.float32).reshape(2, 6)
    >>> np.allclose(S.apply(X), X @ S.to_dense().T, atol=1e-5)
    True
    """
    k, d = int(n_components), int(n_features)
    dtype = _float_dtype(dtype)
    common = {
        "n_components": k,
        "n_features": d,
        "seed": int(seed),
        "dtype": dtype,
        "family": projection,
    }

    if projection == "gaussian":
        return _DenseProjection(_gaussian(k, d, seed, dtype), **common)
    if projection == "orthogonal":
        return _DenseProjection(_orthogonal(k, d, seed, dtype), **common)
    if projection == "rademacher":
        return _DenseProjection(_rademacher(k, d, seed, dtype), **common)
    if projection == "sparse":
        density = resolve_density("auto" if density is None else density, d)
        matrix = _very_sparse(k, d, seed, dtype, density)
        return _SparseProjection(matrix, density=density, **common)
    if projection == "countsketch":
        return _SparseProjection(_countsketch(k, d, seed, dtype), **common)

    padded = 1 << max(d - 1, 0).bit_length()
    if k > padded:
        raise ValueError(
            f"The 'srht' projection samples n_components rows of a {padded} x "
            f"{padded} Hadamard transform, so it needs n_components <= {padded}; "
            f"got {k}. Lower n_components, or use projection='gaussian'."
        )
    rng = _rng(seed)
    signs = (2 * rng.integers(0, 2, size=d, dtype=np.int8) - 1).astype(dtype)
    rows = rng.choice(padded, size=k, replace=False).astype(np.int64)
    return _SRHTProjection(signs, rows, **common)
