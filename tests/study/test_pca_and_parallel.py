"""The PCA baseline is fitted once per study; n_jobs=None uses the cores."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA

from sklearn_subspace._experiment import _runner, default_n_jobs
from sklearn_subspace.study import _study, compression_study
from sklearn_subspace.study._pca import TruncatedPCA, fit_shared_pca


@settings(max_examples=20, deadline=None)
@given(
    n_samples=st.integers(12, 60),
    n_features=st.integers(3, 10),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_truncation_equals_a_pca_fitted_at_that_k(n_samples, n_features, seed, data):
    rng = np.random.default_rng(seed)
    # Distinct variances, so that every component is well defined (up to sign).
    F = rng.normal(size=(n_samples, n_features)) * np.linspace(3, 1, n_features)
    k_max = data.draw(st.integers(1, min(n_samples, n_features)))
    k = data.draw(st.integers(1, k_max))
    shared = fit_shared_pca(F, k_max)
    Z = TruncatedPCA(shared, k).fit_transform(F)
    reference = PCA(k, svd_solver="full").fit(F)
    Z_ref = reference.transform(F)
    assert Z.shape == (n_samples, k)
    # Same subspace and coordinates up to the sign of each component.
    signs = np.sign(np.sum(Z * Z_ref, axis=0))
    np.testing.assert_allclose(Z * signs, Z_ref, atol=1e-8 * np.abs(F).max() * 100)


def test_truncation_keeps_float32_features_float32():
    F = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    Z = TruncatedPCA(fit_shared_pca(F, 4), 2).fit_transform(F)
    assert Z.dtype == np.float32


def test_truncation_beyond_the_shared_fit_is_refused():
    F = np.random.default_rng(0).normal(size=(30, 6))
    with pytest.raises(
        ValueError, match="keeps 5 components but the shared PCA has only 3"
    ):
        TruncatedPCA(fit_shared_pca(F, 3), 5).fit(F)


def test_study_fits_pca_once_at_the_largest_k(features, fast_head, monkeypatch):
    calls = []

    def counting(F, k):
        calls.append((F.shape, k))
        return fit_shared_pca(F, k)

    monkeypatch.setattr(_study, "fit_shared_pca", counting)
    result = compression_study(
        *features,
        n_components=[16, 8, 4],
        projections=[],
        baselines=["pca"],
        seeds=2,
        head=fast_head,
        intrinsic_dimension=False,
        progress=False,
    )
    assert calls == [((180, 32), 16)]
    assert sorted(result.table["n_components"].unique()) == [4, 8, 16]
    assert len(result.table) == 6


def test_study_with_param_grid_refits_pca_inside_each_fold(
    features, fast_head, monkeypatch
):
    monkeypatch.setattr(
        _study, "fit_shared_pca", lambda *a: pytest.fail("no shared PCA under CV")
    )
    result = compression_study(
        *features,
        n_components=[8],
        projections=[],
        baselines=["pca"],
        seeds=1,
        head=fast_head,
        param_grid={"lr": [1e-2]},
        cv=2,
        intrinsic_dimension=False,
        progress=False,
    )
    assert result.table["method"].tolist() == ["pca"]


def test_default_n_jobs_runs_tiny_studies_serially():
    F = np.zeros((180, 32), dtype=np.float32)
    assert default_n_jobs(40, F.size) == 1


def test_default_n_jobs_uses_every_core_for_a_real_study(monkeypatch):
    monkeypatch.setattr(_runner, "cpu_count", lambda: 4)
    F = np.zeros((60_000, 2048), dtype=np.float32)
    assert default_n_jobs(123, F.size) == 4
    # Never more workers than configurations.
    assert default_n_jobs(3, F.size) == 3
