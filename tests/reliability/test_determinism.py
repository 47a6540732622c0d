"""An integer seed gives the same subspace and the same head everywhere.

Across processes, for any batch split of ``transform`` and any internal block
size, results are bit for bit identical. On dask workers the same holds:
``tests/distributed/test_dask.py`` proves it on a two-process
``LocalCluster`` (``test_dask_transform_on_process_workers_equals_numpy_bit_
for_bit_float64`` and ``test_any_row_chunking_gives_the_numpy_result_bit_
for_bit``), so it is not repeated here.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from bad_input_cases import tiny_mlp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from reliability_utils import subprocess_env

from sklearn_subspace import (
    JLSubspaceTransformer,
    SubspaceHeadClassifier,
    TorchFeatureExtractor,
)
from sklearn_subspace.projection import PROJECTION_FAMILIES, _apply

# Fresh interpreters are the point of these tests: slow.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SEED = 7

# Builds the data from a seed, fits every family and a head with SEED, and
# saves what a user would compare: the maps, the projections, the head's
# probabilities and labels.
_WORK = textwrap.dedent(
    """
    import sys
    import numpy as np
    import scipy.sparse as sp
    from sklearn_subspace import JLSubspaceTransformer
    from sklearn_subspace.projection import PROJECTION_FAMILIES

    def _imported(*packages):
        return sorted({name.split(".")[0] for name in sys.modules} & set(packages))

    def run(seed):
        rng = np.random.RandomState(0)
        X = rng.standard_normal((300, 100)).astype(np.float32)
        y = (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)
        out = {}
        for family in PROJECTION_FAMILIES:
            jl = JLSubspaceTransformer(24, projection=family, random_state=seed)
            Z = jl.fit_transform(X)
            M = jl.components_
            out[f"{family}.components"] = M.toarray() if sp.issparse(M) else M
            out[f"{family}.Z"] = Z
            out[f"{family}.Z64"] = jl.transform(X.astype(np.float64))
        # Projecting is numpy: it must not pay for torch, nor need dask.
        out["numpy_path_imports"] = np.array(_imported("torch", "dask"), dtype=str)

        from sklearn_subspace import SubspaceHeadClassifier
        from sklearn_subspace.teachers._identity import (
            callable_fingerprint,
            module_fingerprint,
        )
        from teachers_tiny_models import RowwiseMLP, make_mlp

        head = SubspaceHeadClassifier(max_epochs=4, device="cpu", random_state=seed)
        head.fit(out["gaussian.Z"], y)
        out["head.proba"] = head.predict_proba(out["gaussian.Z"])
        out["head.labels"] = head.predict(out["gaussian.Z"])
        # What keys the feature cache: a module's weights and attributes, and
        # a model callable's code.
        out["fingerprints"] = np.array(
            [module_fingerprint(RowwiseMLP()), callable_fingerprint(make_mlp)]
        )
        # dask is optional: only a dask input may import it.
        out["torch_path_imports"] = np.array(_imported("dask"), dtype=str)
        return out

    if __name__ == "__main__":
        np.savez(sys.argv[2], **run(int(sys.argv[1])))
    """
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same seeded work in this process and in two fresh ones, at once."""
    folder = tmp_path_factory.mktemp("determinism")
    script = folder / "work.py"
    script.write_text(_WORK)
    # Each child hashes strings with its own seed: nothing may depend on it.
    children = [
        subprocess.Popen(
            [sys.executable, str(script), str(SEED), str(folder / f"run{i}.npz")],
            env={**subprocess_env(), "PYTHONHASHSEED": str(12345 + i)},
        )
        for i in range(2)
    ]
    namespace = {}
    exec(compile(_WORK, str(script), "exec"), namespace)
    here = namespace["run"](SEED)
    for child in children:
        assert child.wait(timeout=240) == 0
    there = [dict(np.load(folder / f"run{i}.npz")) for i in range(2)]
    return here, there


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_integer_seed_gives_the_same_map_and_projection_in_every_process(runs, family):
    here, (first, second) = runs
    for key in ("components", "Z", "Z64"):
        name = f"{family}.{key}"
        assert_array_equal(first[name], second[name], err_msg=name)
        assert_array_equal(first[name], here[name], err_msg=name)
        assert first[name].dtype == here[name].dtype


def test_integer_seed_gives_the_same_head_predictions_in_every_process(runs):
    here, (first, second) = runs
    for key in ("head.proba", "head.labels"):
        assert_array_equal(first[key], second[key], err_msg=key)
        assert_array_equal(first[key], here[key], err_msg=key)


def test_model_fingerprints_are_the_same_in_every_process_and_hash_seed(runs):
    here, children = runs
    for child in children:
        assert child["fingerprints"].tolist() == here["fingerprints"].tolist()


def test_projecting_imports_neither_torch_nor_dask_and_a_head_no_dask(runs):
    _, children = runs
    for child in children:
        assert child["numpy_path_imports"].tolist() == []
        assert child["torch_path_imports"].tolist() == []


def test_different_seeds_give_different_maps():
    X = np.random.RandomState(0).standard_normal((10, 50))
    a = JLSubspaceTransformer(8, random_state=1).fit(X).components_
    b = JLSubspaceTransformer(8, random_state=2).fit(X).components_
    assert not np.array_equal(a, b)


# -- batch and block sizes ----------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_maps():
    X = np.random.RandomState(1).standard_normal((700, 90)).astype(np.float32)
    maps = {
        family: JLSubspaceTransformer(20, projection=family, random_state=SEED).fit(X)
        for family in PROJECTION_FAMILIES
    }
    return X, maps


def _split(n, cuts):
    bounds = sorted({0, n, *(c % n for c in cuts)})
    return list(zip(bounds[:-1], bounds[1:]))


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
@settings(max_examples=10)
@given(
    cuts=st.lists(st.integers(1, 10**6), max_size=8),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_any_batch_split_of_transform_gives_identical_rows(
    fitted_maps, family, cuts, dtype
):
    X, maps = fitted_maps
    X = X.astype(dtype)
    jl = maps[family]
    whole = jl.transform(X)
    parts = np.concatenate([jl.transform(X[a:b]) for a, b in _split(len(X), cuts)])
    assert_array_equal(parts, whole)


@pytest.mark.parametrize("family", ["gaussian", "sparse", "countsketch"])
@settings(max_examples=5)
@given(cuts=st.lists(st.integers(1, 10**6), max_size=5))
def test_any_batch_split_of_sparse_input_gives_identical_rows(
    fitted_maps, family, cuts
):
    X, maps = fitted_maps
    X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    jl = maps[family]
    whole = jl.transform(X)
    parts = np.concatenate([jl.transform(X[a:b]) for a, b in _split(X.shape[0], cuts)])
    assert_array_equal(parts, whole)


@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
@pytest.mark.parametrize("block_rows", [64, 256])
def test_internal_block_size_does_not_change_the_result(
    fitted_maps, family, block_rows, monkeypatch
):
    X, maps = fitted_maps
    jl = maps[family]
    default = jl.transform(X)
    monkeypatch.setattr(_apply, "_MAX_BLOCK_ROWS", block_rows)
    assert _apply.block_rows_for(jl._map()) <= block_rows
    assert_array_equal(jl.transform(X), default)


def test_head_labels_do_not_depend_on_the_batch_split(blobs):
    X, y = blobs
    head = SubspaceHeadClassifier(max_epochs=3, device="cpu", random_state=0)
    head.fit(X, y)
    whole = head.predict_proba(X)
    rows = np.concatenate([head.predict_proba(X[i : i + 1]) for i in range(len(X))])
    # torch picks its matmul kernel by batch shape, so probabilities agree to
    # float32 round-off, and the labels exactly.
    assert_allclose(rows, whole, rtol=0, atol=1e-6)
    labels = np.concatenate([head.predict(X[i : i + 7]) for i in range(0, len(X), 7)])
    assert_array_equal(labels, head.predict(X))


def test_head_refit_with_the_same_seed_is_identical(blobs):
    X, y = blobs
    fits = [
        SubspaceHeadClassifier(max_epochs=3, device="cpu", random_state=5).fit(X, y)
        for _ in range(2)
    ]
    assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_extractor_batch_size_changes_features_only_by_round_off(blobs):
    X, _ = blobs
    features = [
        TorchFeatureExtractor(tiny_mlp(), batch_size=size, device="cpu").fit_transform(
            X
        )
        for size in (1, 7, 120)
    ]
    for other in features[1:]:
        assert_allclose(other, features[0], rtol=1e-5, atol=1e-6)


def test_cached_features_equal_fresh_ones_bit_for_bit(blobs, tmp_path):
    X, _ = blobs
    fresh = TorchFeatureExtractor(tiny_mlp(), batch_size=16, device="cpu")
    cached = TorchFeatureExtractor(
        tiny_mlp(), batch_size=16, device="cpu", cache_dir=tmp_path
    )
    first = cached.fit_transform(X)
    again = cached.transform(X[::-1])[::-1]  # read back, in another order
    assert_array_equal(first, fresh.fit_transform(X))
    assert_array_equal(again, first)
