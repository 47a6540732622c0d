import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import DataDimensionalityWarning, NotFittedError
from sklearn.random_projection import GaussianRandomProjection

from sklearn_subspace import JLSubspaceTransformer, johnson_lindenstrauss_min_dim
from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.projection import PROJECTION_FAMILIES, make_projection


@pytest.fixture
def X32():
    return np.random.default_rng(0).standard_normal((60, 300), dtype=np.float32)


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_dtype_is_preserved_and_ints_become_float64(family, X32):
    jl = JLSubspaceTransformer(16, projection=family, random_state=0)
    assert jl.fit_transform(X32).dtype == np.float32
    assert jl.fit_transform(X32.astype(np.float64)).dtype == np.float64
    X_int = (X32 * 10).astype(np.int64)
    assert jl.fit_transform(X_int).dtype == np.float64


def test_float32_fit_holds_a_float32_matrix(X32):
    jl = JLSubspaceTransformer(16, random_state=0).fit(X32)
    assert jl.components_.dtype == np.float32


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_transform_is_the_matrix_product(family, X32):
    jl = JLSubspaceTransformer(16, projection=family, random_state=0).fit(X32)
    M = jl.components_
    M = M.toarray() if sp.issparse(M) else M
    np.testing.assert_allclose(jl.transform(X32), X32 @ M.T, rtol=1e-4, atol=1e-4)


def test_gaussian_matches_paper_scaling(X32):
    # h~ = R h / sqrt(k) with R_ij ~ N(0, 1): the transformer's matrix is R / sqrt(k).
    jl = JLSubspaceTransformer(200, random_state=0).fit(X32)
    R = jl.components_ * np.sqrt(200)
    assert abs(R.std() - 1) < 0.01


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
@pytest.mark.parametrize("n_components", [1, 9, 16, 100])
def test_result_does_not_depend_on_how_rows_are_split(family, n_components):
    X = np.random.default_rng(1).standard_normal((1500, 300), dtype=np.float32)
    jl = JLSubspaceTransformer(n_components, projection=family, random_state=5)
    reference = jl.fit(X).transform(X)
    for cuts in ([1], [7, 64, 1025], [333, 334, 1499]):
        pieces = np.split(X, cuts)
        np.testing.assert_array_equal(
            np.vstack([jl.transform(p) for p in pieces]), reference
        )


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_integer_seed_is_the_seed_of_make_projection(X32, family, dtype):
    # The property tests of the families draw maps with make_projection:
    # they hold for the transformer because it applies the same map.
    X = X32.astype(dtype)
    jl = JLSubspaceTransformer(16, projection=family, random_state=7).fit(X)
    assert jl.seed_ == 7
    S = make_projection(
        family, 16, X.shape[1], seed=7, density=jl.density_, dtype=dtype
    )
    components = jl.components_
    if sp.issparse(components):
        components = components.toarray()
    np.testing.assert_array_equal(components, S.to_dense())
    assert components.dtype == dtype


def test_random_state_instance_and_none_record_a_rebuildable_seed(X32):
    jl = JLSubspaceTransformer(8, random_state=np.random.RandomState(3)).fit(X32)
    again = JLSubspaceTransformer(8, random_state=jl.seed_).fit(X32)
    np.testing.assert_array_equal(jl.transform(X32), again.transform(X32))
    a = JLSubspaceTransformer(8).fit(X32)
    b = JLSubspaceTransformer(8).fit(X32)
    assert a.seed_ != b.seed_


def test_sparse_and_dataframe_inputs(X32):
    jl = JLSubspaceTransformer(16, random_state=0).fit(X32)
    Z = jl.transform(X32)
    np.testing.assert_allclose(jl.transform(sp.csr_matrix(X32)), Z, atol=1e-5)
    np.testing.assert_allclose(jl.transform(sp.csc_matrix(X32)), Z, atol=1e-5)
    df = pd.DataFrame(X32, columns=[f"h{i}" for i in range(X32.shape[1])])
    jl_df = JLSubspaceTransformer(16, random_state=0).fit(df)
    np.testing.assert_array_equal(jl_df.feature_names_in_, df.columns)
    np.testing.assert_allclose(jl_df.transform(df), Z, atol=1e-6)


@pytest.mark.parametrize("n_components", ["auto", 16])
def test_pandas_output_and_feature_names_including_auto(n_components):
    X = np.random.default_rng(0).standard_normal((20, 3000))
    jl = JLSubspaceTransformer(n_components, eps=0.5, random_state=0)
    jl.set_output(transform="pandas")
    out = jl.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    k = jl.n_components_
    assert list(out.columns) == [f"jl{i}" for i in range(k)]
    assert list(jl.get_feature_names_out()) == list(out.columns)


def test_feature_names_out_checks_the_input_features_against_fit():
    X = pd.DataFrame(
        np.random.default_rng(0).standard_normal((20, 3)), columns=["a", "b", "c"]
    )
    jl = JLSubspaceTransformer(2, random_state=0).fit(X)
    expected = ["jl0", "jl1"]
    assert list(jl.get_feature_names_out(["a", "b", "c"])) == expected
    with pytest.raises(ValueError, match="not equal to feature_names_in_"):
        jl.get_feature_names_out(["a", "b", "x"])
    unnamed = JLSubspaceTransformer(2, random_state=0).fit(X.to_numpy())
    assert list(unnamed.get_feature_names_out(["p", "q", "r"])) == expected
    with pytest.raises(ValueError, match=r"equal to number of features \(3\), got 2"):
        unnamed.get_feature_names_out(["p", "q"])


def test_auto_n_components_uses_the_jl_bound():
    X = np.zeros((50, 5000))
    jl = JLSubspaceTransformer(eps=0.5).fit(X)
    assert jl.n_components_ == johnson_lindenstrauss_min_dim(50, eps=0.5)
    # Same k as scikit-learn's own "auto".
    assert jl.n_components_ == GaussianRandomProjection(eps=0.5).fit(X).n_components_


def test_auto_n_components_larger_than_d_errors():
    with pytest.raises(ValueError, match="larger than the number of features"):
        JLSubspaceTransformer(eps=0.1).fit(np.zeros((100, 50)))


def test_explicit_k_larger_than_d_warns():
    with pytest.warns(DataDimensionalityWarning, match="higher than the number"):
        JLSubspaceTransformer(20, random_state=0).fit(np.zeros((5, 10)))


@pytest.mark.parametrize("k", [0, -3, 2.5, "many", None])
def test_bad_n_components_gets_the_standard_message(k):
    message = (
        "The 'n_components' parameter of JLSubspaceTransformer must be an int "
        f"in the range [1, inf) or a str among {{'auto'}}. Got {k!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        JLSubspaceTransformer(k).fit(np.zeros((5, 10)))


def test_unknown_projection_lists_valid_ones():
    with pytest.raises(InvalidParameterError) as info:
        JLSubspaceTransformer(2, projection="fft").fit(np.zeros((5, 10)))
    message = str(info.value)
    assert message.startswith(
        "The 'projection' parameter of JLSubspaceTransformer must be a str among {"
    )
    assert message.endswith("}. Got 'fft' instead.")
    assert all(repr(family) in message for family in PROJECTION_FAMILIES)


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("eps", 1.5, "a float in the range (0.0, 1.0)"),
        ("eps", 0, "a float in the range (0.0, 1.0)"),
        ("density", 0.0, "a float in the range (0.0, 1.0] or a str among {'auto'}"),
        ("density", "dense", "a float in the range (0.0, 1.0] or a str among {'auto'}"),
        ("compute_inverse_components", "yes", "an instance of 'bool' or an "),
        ("random_state", -1, "an int in the range [0, 4294967295], an instance"),
    ],
)
def test_bad_parameters_get_the_standard_message(name, value, expected):
    # Checked in fit whatever the other parameters: a bad eps is refused
    # even with an integer n_components, which does not use it.
    jl = JLSubspaceTransformer(2, **{name: value})
    prefix = f"The {name!r} parameter of JLSubspaceTransformer must be {expected}"
    with pytest.raises(InvalidParameterError, match=re.escape(prefix)) as info:
        jl.fit(np.zeros((5, 10)))
    assert str(info.value).endswith(f"Got {value!r} instead.")


def test_numpy_scalars_are_valid_parameters():
    X = np.random.default_rng(0).standard_normal((20, 10))
    jl = JLSubspaceTransformer(
        np.int64(3), eps=np.float64(0.5), random_state=np.int32(7)
    ).fit(X)
    reference = JLSubspaceTransformer(3, eps=0.5, random_state=7).fit(X)
    assert jl.n_components_ == 3
    np.testing.assert_array_equal(jl.transform(X), reference.transform(X))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_rejected(bad, X32):
    X = X32.copy()
    X[3, 4] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        JLSubspaceTransformer(8).fit(X)
    jl = JLSubspaceTransformer(8).fit(X32)
    with pytest.raises(ValueError, match="NaN|infinity"):
        jl.transform(X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        jl.transform(sp.csr_matrix(X))


def test_wrong_width_is_rejected(X32):
    jl = JLSubspaceTransformer(8).fit(X32)
    with pytest.raises(ValueError, match="X has 299 features, but"):
        jl.transform(X32[:, :-1])
    with pytest.raises(ValueError, match="inverse_transform expects 8"):
        jl.inverse_transform(np.zeros((2, 9)))


def test_not_fitted_error():
    with pytest.raises(NotFittedError):
        JLSubspaceTransformer(8).transform(np.zeros((2, 3)))


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_pickle_keeps_the_map_but_not_the_matrix(family, X32):
    jl = JLSubspaceTransformer(16, projection=family, random_state=0).fit(X32)
    Z = jl.transform(X32)
    blob = pickle.dumps(jl)
    assert len(blob) < X32.shape[1] * 16 * 4  # smaller than the matrix itself
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(X32), Z)


def test_clone_gives_the_same_map_with_an_integer_seed(X32):
    jl = JLSubspaceTransformer(16, projection="srht", random_state=4)
    np.testing.assert_array_equal(jl.fit_transform(X32), clone(jl).fit_transform(X32))


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_inverse_components_are_a_pseudo_inverse(family, X32):
    jl = JLSubspaceTransformer(
        16, projection=family, random_state=0, compute_inverse_components=True
    ).fit(X32)
    Z = jl.transform(X32)
    assert jl.inverse_components_.shape == (300, 16)
    np.testing.assert_allclose(jl.transform(jl.inverse_transform(Z)), Z, atol=1e-3)


def test_finite_input_that_overflows_is_named_as_such():
    X = np.full((3, 50), 3e38, dtype=np.float32)
    jl = JLSubspaceTransformer(4, projection="rademacher", random_state=0).fit(X)
    with pytest.raises(ValueError, match="overflowed to infinity although X is finite"):
        jl.transform(X)
