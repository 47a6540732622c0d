"""Every step of the library on dask, equal to a local run.

One real ``LocalCluster`` with two worker processes on loopback serves the
whole module, so the tests prove the behaviour across process boundaries.
"""

import functools
import pickle
import re
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_subspace import JLSubspaceTransformer  # noqa: E402
from sklearn_subspace._param_validation import InvalidParameterError  # noqa: E402
from sklearn_subspace.distributed import extract_distributed  # noqa: E402
from sklearn_subspace.distributed._extract import _worker_teacher_models  # noqa: E402
from sklearn_subspace.head import SubspaceHeadClassifier  # noqa: E402
from sklearn_subspace.projection import PROJECTION_FAMILIES  # noqa: E402
from sklearn_subspace.teachers import (  # noqa: E402
    TorchFeatureExtractor,
    forward_pass_count,
)

# A LocalCluster of worker processes serves the module: slow.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def X64():
    return np.random.default_rng(0).standard_normal((700, 200))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:360] / 16).astype(np.float32), y[:360]


def _raising_dask_array(shape, dtype=np.float32):
    """A dask array whose computation fails: proof that nothing computed it."""

    def compute():
        raise AssertionError("the dask array was computed")

    return da.from_delayed(dask.delayed(compute)(), shape=shape, dtype=dtype)


def _tiny_teacher():
    with torch.random.fork_rng():  # the same weights on every call
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh())


# -- blockwise projection ------------------------------------------------------------
@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
def test_dask_transform_on_process_workers_equals_numpy_bit_for_bit_float64(
    client, X64, family
):
    # Uneven row chunks and split columns: neither may change a single bit.
    X_dask = da.from_array(X64, chunks=(137, 90))
    jl = JLSubspaceTransformer(24, projection=family, random_state=3).fit(X64)

    Z = jl.transform(X_dask)

    assert isinstance(Z, da.Array)
    assert Z.chunks == (X_dask.chunks[0], (24,))
    result = client.compute(Z).result()
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, jl.transform(X64))


@pytest.mark.parametrize("family", ["gaussian", "sparse", "srht", "countsketch"])
def test_dask_transform_keeps_float32_and_matches_numpy(client, X64, family):
    X32 = X64.astype(np.float32)
    jl = JLSubspaceTransformer(24, projection=family, random_state=3).fit(X32)

    Z = jl.transform(da.from_array(X32, chunks=(250, 200)))

    assert Z.dtype == np.float32
    result = client.compute(Z).result()
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, jl.transform(X32), rtol=1e-6, atol=1e-6)


_JL_200 = {
    family: JLSubspaceTransformer(12, projection=family, random_state=1).fit(
        np.zeros((1, 50))
    )
    for family in PROJECTION_FAMILIES
}
_X_200 = np.random.default_rng(2).standard_normal((200, 50))


@given(
    family=st.sampled_from(PROJECTION_FAMILIES),
    cuts=st.lists(st.integers(1, 199), max_size=6, unique=True),
)
def test_any_row_chunking_gives_the_numpy_result_bit_for_bit(family, cuts):
    bounds = [0, *sorted(cuts), 200]
    chunks = tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))
    jl = _JL_200[family]

    Z = jl.transform(da.from_array(_X_200, chunks=(chunks, 50)))

    assert Z.chunks[0] == chunks
    np.testing.assert_array_equal(Z.compute(scheduler="sync"), jl.transform(_X_200))


def test_integer_dask_input_is_projected_in_float64_like_numpy(client):
    X_int = np.random.default_rng(1).integers(-5, 5, size=(90, 40))
    jl = JLSubspaceTransformer(8, random_state=0).fit(X_int)

    Z = jl.transform(da.from_array(X_int, chunks=30))

    assert Z.dtype == np.float64
    np.testing.assert_array_equal(client.compute(Z).result(), jl.transform(X_int))


def test_transform_builds_a_lazy_graph_without_computing():
    X_lazy = _raising_dask_array((300, 64))
    jl = JLSubspaceTransformer(8, random_state=0).fit(np.zeros((2, 64)))

    Z = jl.transform(X_lazy)

    assert Z.shape == (300, 8) and Z.dtype == np.float32


def test_tasks_carry_the_spec_not_the_matrix():
    # A (512, 4096) float64 gaussian matrix is 16 MiB; its spec is a few bytes.
    cloudpickle = pytest.importorskip("cloudpickle")
    X = da.ones((2048, 4096), chunks=(512, 4096))
    jl = JLSubspaceTransformer(512, random_state=0).fit(X)

    graph = dict(jl.transform(X).__dask_graph__())

    assert len(cloudpickle.dumps(graph)) < 200_000


def test_pickled_transformer_projects_dask_arrays_like_the_original(client, X64):
    jl = JLSubspaceTransformer(16, projection="srht", random_state=5).fit(X64)
    restored = pickle.loads(pickle.dumps(jl))

    Z = restored.transform(da.from_array(X64, chunks=100))

    np.testing.assert_array_equal(client.compute(Z).result(), jl.transform(X64))


# -- lazy fit -----------------------------------------------------------------------
def test_fit_on_a_dask_array_reads_only_its_shape_and_dtype():
    X_lazy = _raising_dask_array((500, 300))

    jl = JLSubspaceTransformer("auto", eps=0.5, random_state=0).fit(X_lazy)

    reference = JLSubspaceTransformer("auto", eps=0.5, random_state=0).fit(
        np.zeros((500, 300), dtype=np.float32)
    )
    assert jl.n_features_in_ == 300
    assert jl.n_components_ == reference.n_components_
    assert jl.projection_spec_ == reference.projection_spec_
    assert jl.components_.dtype == np.float32
    np.testing.assert_array_equal(jl.components_, reference.components_)
    assert not hasattr(jl, "feature_names_in_")


def test_fit_auto_components_on_unknown_chunk_sizes_says_how_to_fix():
    X = da.ones((40, 100), chunks=10)
    X_unknown = X[X[:, 0] > 0]  # boolean indexing forgets the row counts

    with pytest.raises(ValueError, match=r"compute_chunk_sizes"):
        JLSubspaceTransformer("auto").fit(X_unknown)
    jl = JLSubspaceTransformer(5, random_state=0).fit(X_unknown)
    assert jl.transform(X_unknown).compute().shape == (40, 5)


# -- bad dask input --------------------------------------------------------------
def test_dask_input_of_the_wrong_width_is_rejected_before_computing():
    jl = JLSubspaceTransformer(4, random_state=0).fit(np.zeros((3, 10)))

    with pytest.raises(ValueError, match=r"X has 7 features.*expecting 10"):
        jl.transform(_raising_dask_array((20, 7)))


def test_dask_input_of_the_wrong_ndim_or_dtype_is_rejected():
    jl = JLSubspaceTransformer(4, random_state=0)

    with pytest.raises(ValueError, match=r"2D dask array.*ndim=3"):
        jl.fit(da.ones((4, 5, 6)))
    with pytest.raises(TypeError, match=r"numeric dtype.*astype"):
        jl.fit(da.from_array(np.array([["a", "b"]] * 3)))


@pytest.mark.parametrize("family", ["gaussian", "sparse", "countsketch"])
def test_nan_in_a_dask_block_raises_when_computed(X64, family):
    X = X64.copy()
    X[500, 3] = np.nan
    jl = JLSubspaceTransformer(8, projection=family, random_state=0).fit(X64)

    Z = jl.transform(da.from_array(X, chunks=100))

    with pytest.raises(ValueError, match=r"Input X contains NaN"):
        Z.compute(scheduler="sync")


def test_dask_dataframe_like_input_is_rejected_with_the_conversion():
    fake = type("DataFrame", (), {"__module__": "dask.dataframe.core"})()

    with pytest.raises(TypeError, match=r"to_dask_array\(lengths=True\)"):
        JLSubspaceTransformer(4).fit(fake)


@pytest.mark.parametrize("how", ["set_output", "cloned", "global"])
def test_pandas_output_of_a_dask_array_is_refused_instead_of_computed(how):
    jl = JLSubspaceTransformer(4, random_state=0)
    if how != "global":
        jl.set_output(transform="pandas")
    if how == "cloned":
        jl = clone(jl)
    X_lazy = _raising_dask_array((10, 20))
    with sklearn.config_context(
        transform_output="pandas" if how == "global" else "default"
    ):
        jl.fit(X_lazy)
        with pytest.raises(ValueError, match=r"set_output\(transform='default'\)"):
            jl.transform(X_lazy)


def test_default_output_set_on_the_estimator_overrides_a_global_pandas_output():
    X = np.random.default_rng(0).normal(size=(10, 20))
    jl = JLSubspaceTransformer(4, random_state=0).set_output(transform="default")
    with sklearn.config_context(transform_output="pandas"):
        Z = jl.fit(X).transform(da.from_array(X, chunks=5))
    assert isinstance(Z, da.Array)


def test_dask_array_without_importable_dask_raises_a_clear_import_error(
    monkeypatch,
):
    X = da.ones((10, 6), chunks=5)
    jl = JLSubspaceTransformer(2, random_state=0).fit(np.zeros((3, 6)))
    # A None entry in sys.modules makes ``import dask`` fail.
    for name in [m for m in sys.modules if m == "dask" or m.startswith("dask.")]:
        monkeypatch.setitem(sys.modules, name, None)

    with pytest.raises(ImportError, match=r"dask.*sklearn-subspace\[dask\]"):
        jl.transform(X)
    with pytest.raises(ImportError, match=r"dask cannot be imported"):
        JLSubspaceTransformer(2).fit(X)


# -- head prediction ---------------------------------------------------------------
def test_parallel_post_fit_pipeline_predicts_dask_blocks_like_numpy(client, digits):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = digits
    pipe = Pipeline(
        [
            ("jl", JLSubspaceTransformer(16, random_state=0)),
            (
                "head",
                SubspaceHeadClassifier(max_epochs=3, device="cpu", random_state=0),
            ),
        ]
    )
    model = wrappers.ParallelPostFit(pipe).fit(X, y)
    X_dask = da.from_array(X, chunks=100)

    labels = model.predict(X_dask)
    proba = model.predict_proba(X_dask)

    assert isinstance(labels, da.Array) and isinstance(proba, da.Array)
    labels, proba = client.compute([labels, proba], sync=True)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    assert proba.dtype == np.float32 and proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-5, atol=1e-6)


# -- distributed sweeps -------------------------------------------------------------
def test_grid_search_on_the_dask_backend_scores_like_a_local_run(client, digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("jl", JLSubspaceTransformer(16, random_state=0)),
            (
                "head",
                SubspaceHeadClassifier(
                    max_epochs=4, batch_size=32, lr=1e-2, device="cpu", random_state=0
                ),
            ),
        ]
    )
    grid = {"jl__n_components": [8, 24], "jl__projection": ["gaussian", "sparse"]}

    local = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)

    # Ten classes: well above chance, so the scores carry a real signal.
    assert local.cv_results_["mean_test_score"].min() > 0.25
    for key in ["mean_test_score", "std_test_score", "rank_test_score"] + [
        f"split{i}_test_score" for i in range(3)
    ]:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_


def test_compression_study_on_a_client_equals_the_serial_study(client, digits):
    study = pytest.importorskip("sklearn_subspace.study")
    X, y = digits
    kwargs = dict(
        n_components=[8],
        projections=["gaussian", "srht"],
        baselines=["full"],
        seeds=1,
        head=SubspaceHeadClassifier(max_epochs=3, batch_size=32, device="cpu"),
        intrinsic_dimension=False,
        progress=False,
    )
    split = (X[:240], y[:240], X[240:], y[240:])

    serial = study.compression_study(*split, **kwargs).table
    remote = study.compression_study(*split, client=client, **kwargs).table

    columns = ["method", "n_components", "seed", "test_accuracy"]
    assert remote[columns].equals(serial[columns])


# -- distributed extraction ----------------------------------------------------------
def _total(per_worker):
    return sum(per_worker.values())


def test_extraction_across_workers_fills_the_cache_a_local_run_reuses(client, tmp_path):
    X = np.random.RandomState(0).rand(120, 8).astype(np.float32)
    extractor = TorchFeatureExtractor(
        _tiny_teacher(), device="cpu", batch_size=16, cache_dir=tmp_path
    )
    passes_before = _total(client.run(forward_pass_count))

    features = extract_distributed(extractor, X, client=client, partitions=6)

    # Every sample ran exactly once, on the workers, and each worker ran all
    # of its partitions on one loaded teacher.
    assert _total(client.run(forward_pass_count)) - passes_before == len(X)
    models = client.run(_worker_teacher_models)
    assert any(models.values())
    assert all(n == 1 for per_worker in models.values() for n in per_worker.values())
    assert not hasattr(extractor, "n_features_out_")  # the argument is untouched
    assert features.shape == (120, 16) and features.dtype == np.float32

    local_before = forward_pass_count()
    local = TorchFeatureExtractor(
        _tiny_teacher(), device="cpu", batch_size=16, cache_dir=tmp_path
    )
    cached = local.fit(X).transform(X)
    assert forward_pass_count() == local_before  # not even fit's probe ran
    np.testing.assert_array_equal(cached, features)
    fresh = TorchFeatureExtractor(_tiny_teacher(), device="cpu").fit_transform(X)
    np.testing.assert_allclose(features, fresh, rtol=1e-5, atol=1e-6)


def test_extraction_of_a_dask_array_stays_on_the_cluster_until_computed(client):
    X = np.random.RandomState(1).rand(90, 8).astype(np.float32)
    # A teacher built by a callable travels as its weights (it cannot be
    # rebuilt elsewhere): each worker must still build it only once.
    teacher = functools.partial(torch.nn.Linear, 8, 16)
    extractor = TorchFeatureExtractor(teacher, device="cpu").fit(X[:1])

    features = extract_distributed(
        extractor, da.from_array(X, chunks=(40, 4)), client=client, compute=False
    )
    Z = JLSubspaceTransformer(4, random_state=0).fit(features).transform(features)

    assert isinstance(features, da.Array) and features.chunks[0] == (40, 40, 10)
    assert features.shape == (90, 16) and features.dtype == np.float32
    gathered, projected = client.compute([features, Z], sync=True)
    expected = extractor.transform(X)
    np.testing.assert_allclose(gathered, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        projected, JLSubspaceTransformer(4, random_state=0).fit_transform(gathered)
    )
    models = client.run(_worker_teacher_models)
    assert all(n == 1 for per_worker in models.values() for n in per_worker.values())


def test_extract_distributed_rejects_bad_arguments_with_the_fix(client):
    X = np.zeros((4, 8), dtype=np.float32)
    extractor = TorchFeatureExtractor(_tiny_teacher(), device="cpu")

    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'extractor' parameter of extract_distributed must be an instance "
            "of 'sklearn_subspace.teachers._extractor.TorchFeatureExtractor'. Got "
            "JLSubspaceTransformer() instead."
        ),
    ):
        extract_distributed(JLSubspaceTransformer(), X, client=client)
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'partitions' parameter of extract_distributed must be an int in "
            "the range [1, inf) or None. Got 0 instead."
        ),
    ):
        extract_distributed(extractor, X, client=client, partitions=0)
    with pytest.raises(ValueError, match=r"no samples"):
        extract_distributed(extractor, X[:0], client=client)
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'client' parameter of extract_distributed must be an object "
            "implementing 'submit', 'map', 'scatter' and 'gather' or None. Got "
            "'tcp://127.0.0.1:8786' instead."
        ),
    ):
        extract_distributed(extractor, X, client="tcp://127.0.0.1:8786")
    with pytest.raises(InvalidParameterError, match="'inputs' parameter"):
        extract_distributed(extractor, 5, client=client)
    with pytest.raises(InvalidParameterError, match="'compute' parameter"):
        extract_distributed(extractor, X, client=client, compute="yes")


def test_extract_distributed_reads_a_generator_of_samples(client):
    X = np.random.RandomState(0).rand(6, 8).astype(np.float32)
    extractor = TorchFeatureExtractor(_tiny_teacher(), device="cpu")
    features = extract_distributed(extractor, (row for row in X), client=client)
    np.testing.assert_allclose(
        features, clone(extractor).fit_transform(X), rtol=1e-5, atol=1e-6
    )
