import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.random_projection import (
    GaussianRandomProjection,
    SparseRandomProjection,
)

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.projection import PROJECTION_FAMILIES, make_projection

SHAPES = [(8, 8), (16, 100), (64, 333), (5, 1024)]


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
@pytest.mark.parametrize("k, d", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_apply_equals_dense_matrix_product(family, k, d, dtype):
    S = make_projection(family, k, d, seed=3, dtype=dtype)
    X = np.random.default_rng(0).standard_normal((7, d)).astype(dtype)
    dense = S.to_dense()
    assert dense.shape == (k, d) and dense.dtype == dtype
    Z = S.apply(X)
    assert Z.shape == (7, k) and Z.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(Z, X @ dense.T, rtol=tol, atol=tol)


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_same_seed_same_map_and_dtypes_hold_the_same_values(family):
    a = make_projection(family, 16, 50, seed=11, dtype=np.float32).to_dense()
    b = make_projection(family, 16, 50, seed=11, dtype=np.float32).to_dense()
    c = make_projection(family, 16, 50, seed=12, dtype=np.float32).to_dense()
    d64 = make_projection(family, 16, 50, seed=11, dtype=np.float64).to_dense()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(a, d64, rtol=1e-5, atol=1e-6)


def test_gaussian_entries_have_variance_one_over_k():
    k, d = 64, 4000
    M = make_projection("gaussian", k, d, seed=0).to_dense().astype(np.float64)
    theirs = GaussianRandomProjection(k, random_state=0).fit(np.zeros((2, d)))
    ref = theirs.components_
    # Both are N(0, 1/k): 256,000 entries pin the moments down tightly.
    for M_ in (M, ref):
        assert abs(M_.mean()) < 5 / np.sqrt(M_.size * k)
        assert abs(M_.var() * k - 1) < 0.02


def test_sparse_matches_sklearn_density_and_values():
    k, d = 200, 10_000
    ours = make_projection("sparse", k, d, seed=0, dtype=np.float64).components
    theirs = SparseRandomProjection(k, random_state=0).fit(np.zeros((2, d)))
    ref = theirs.components_
    density = 1 / np.sqrt(d)
    for M in (ours, ref):
        assert sp.issparse(M)
        assert abs(M.nnz / (k * d) - density) < 0.1 * density
        values = np.unique(np.abs(M.data))
        np.testing.assert_allclose(values, np.sqrt(1 / density) / np.sqrt(k))
        # Signs are balanced and the variance per entry is 1/k.
        assert abs(np.sign(M.data).mean()) < 0.05
        assert abs((M.multiply(M)).sum() / (k * d) * k - 1) < 0.05


def test_orthogonal_rows_are_orthonormal_up_to_scale():
    k, d = 30, 90
    M = make_projection("orthogonal", k, d, seed=1, dtype=np.float64).to_dense()
    np.testing.assert_allclose(M @ M.T, np.eye(k) * d / k, atol=1e-10)


def test_countsketch_has_one_signed_unit_per_column():
    M = make_projection("countsketch", 10, 500, seed=2, dtype=np.float64).components
    M = M.toarray()
    assert np.all((M != 0).sum(axis=0) == 1)
    np.testing.assert_array_equal(np.abs(M).sum(axis=0), np.ones(500))


def test_srht_rows_are_distinct_hadamard_rows():
    k, d = 16, 64
    S = make_projection("srht", k, d, seed=0, dtype=np.float64)
    assert len(set(S.rows.tolist())) == k
    M = S.to_dense() * np.sqrt(k)
    np.testing.assert_allclose(np.abs(M), 1.0)
    # Distinct Hadamard rows stay orthogonal after the sign flips.
    np.testing.assert_allclose(M @ M.T, np.eye(k) * d, atol=1e-9)


@pytest.mark.parametrize("d", [1, 5, 64, 300, 1000])
def test_srht_fast_transform_is_exactly_the_dense_matrix(d):
    # k = 4 makes the scale 1/2 and integer inputs keep every sum exact, so
    # the two Hadamard constructions (scipy's, applied blockwise, and the
    # entry-wise parity in ``to_dense``) must agree bit for bit.
    X = np.random.default_rng(0).integers(-9, 10, size=(7, d)).astype(np.float64)
    S = make_projection("srht", 4 if d > 1 else 1, d, seed=3, dtype=np.float64)
    np.testing.assert_array_equal(S.apply(X), X @ S.to_dense().T)


@pytest.mark.parametrize("family", ["gaussian", "sparse", "srht", "countsketch"])
def test_sparse_input_gives_dense_output_equal_to_dense_input(family):
    X = sp.random(20, 300, density=0.05, random_state=0, format="csr")
    S = make_projection(family, 12, 300, seed=0, dtype=np.float64)
    Z = S.apply(X)
    assert isinstance(Z, np.ndarray)
    np.testing.assert_allclose(Z, S.apply(X.toarray()), atol=1e-12)


def test_unknown_family_lists_valid_names():
    with pytest.raises(InvalidParameterError) as info:
        make_projection("fourier", 2, 4, seed=0)
    message = str(info.value)
    assert message.startswith(
        "The 'projection' parameter of make_projection must be a str among {"
    )
    assert message.endswith("}. Got 'fourier' instead.")
    assert all(repr(family) in message for family in PROJECTION_FAMILIES)


@pytest.mark.parametrize("family, k, d", [("orthogonal", 10, 5), ("srht", 17, 16)])
def test_families_that_cannot_exceed_d_say_so(family, k, d):
    with pytest.raises(ValueError, match="n_components"):
        make_projection(family, k, d, seed=0)


@pytest.mark.parametrize("density", [0, -0.1, 1.5, "dense"])
def test_bad_density_is_rejected(density):
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'density' parameter of make_projection must be a float in the "
            "range (0.0, 1.0], a str among {'auto'} or None. Got "
            f"{density!r} instead."
        ),
    ):
        make_projection("sparse", 4, 16, seed=0, density=density)


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("seed", -1, "an int in the range [0, inf)"),
        ("seed", 1.5, "an int in the range [0, inf)"),
        ("n_components", 0, "an int in the range [1, inf)"),
        ("n_features", 4.0, "an int in the range [1, inf)"),
    ],
)
def test_bad_integers_get_the_standard_message(name, value, expected):
    params = {"n_components": 4, "n_features": 16, "seed": 0, name: value}
    seed = params.pop("seed")
    message = (
        f"The {name!r} parameter of make_projection must be {expected}. "
        f"Got {value!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        make_projection("gaussian", **params, seed=seed)


@pytest.mark.parametrize("dtype", ["float16", np.int64, "no such type", np.float16])
def test_a_dtype_other_than_float32_or_float64_is_rejected(dtype):
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got"):
        make_projection("gaussian", 4, 16, seed=0, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, "float64", np.dtype("float64")])
def test_every_spelling_of_a_float_dtype_gives_the_same_map(dtype):
    S = make_projection("gaussian", 4, 16, seed=0, dtype=dtype)
    reference = make_projection("gaussian", 4, 16, seed=0, dtype=np.float64)
    assert S.dtype == np.float64
    np.testing.assert_array_equal(S.to_dense(), reference.to_dense())
