"""The exported deployable module: equal to the pipeline, small, compilable."""

import copy
import io
import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.head import (
    SubspaceClassifierModule,
    SubspaceHeadClassifier,
    export_torch,
)
from sklearn_subspace.head._export import RegeneratedProjection
from sklearn_subspace.projection import (
    PROJECTION_FAMILIES,
    JLSubspaceTransformer,
    make_projection,
)

D, K = 96, 16


def fast_head(**params):
    defaults = {"max_epochs": 5, "batch_size": 32, "lr": 1e-2, "device": "cpu"}
    return SubspaceHeadClassifier(**{**defaults, "random_state": 0, **params})


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=200, n_features=D, n_informative=20, n_classes=4, random_state=0
    )
    labels = np.array(["ant", "bee", "cat", "dog"])
    return X.astype(np.float32), labels[y]


@pytest.fixture(scope="module")
def pipeline(data):
    X, y = data
    return Pipeline(
        [
            ("jl", JLSubspaceTransformer(K, random_state=0)),
            ("head", fast_head(hidden_layer_sizes=(8,))),
        ]
    ).fit(X, y)


def _module_predict(module, X):
    with torch.no_grad():
        logits = module(torch.from_numpy(X))
    return module.classes_[logits.argmax(1).numpy()], logits.numpy()


@pytest.mark.parametrize("projection", PROJECTION_FAMILIES)
def test_exported_module_equals_pipeline(data, projection):
    X, y = data
    pipe = make_pipeline(
        JLSubspaceTransformer(K, projection=projection, random_state=1),
        fast_head(),
    ).fit(X, y)
    module = export_torch(pipe)
    pred, logits = _module_predict(module, X)
    np.testing.assert_array_equal(pred, pipe.predict(X))
    np.testing.assert_allclose(logits, pipe.decision_function(X), atol=1e-4)
    assert isinstance(module, SubspaceClassifierModule)
    assert not module.training


def test_exported_head_alone_equals_head(data):
    X, y = data
    head = fast_head().fit(X, y)
    module = export_torch(head)
    pred, logits = _module_predict(module, X)
    np.testing.assert_array_equal(pred, head.predict(X))
    np.testing.assert_allclose(logits, head.decision_function(X), atol=1e-6)
    assert module.size_report()["regenerated_elements"] == 0


def test_exported_scaler_and_passthrough_steps(data):
    X, y = data
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("skip", "passthrough"),
            ("jl", JLSubspaceTransformer(K, projection="sparse", random_state=0)),
            ("head", fast_head()),
        ]
    ).fit(X * 3 + 1, y)
    module = export_torch(pipe)
    pred, logits = _module_predict(module, X * 3 + 1)
    np.testing.assert_array_equal(pred, pipe.predict(X * 3 + 1))
    np.testing.assert_allclose(logits, pipe.decision_function(X * 3 + 1), atol=1e-4)


def test_state_dict_holds_head_weights_only(pipeline):
    module = export_torch(pipeline)
    state = module.state_dict()
    assert set(state) == {
        "head.layers.0.weight",
        "head.layers.0.bias",
        "head.layers.2.weight",
        "head.layers.2.bias",
    }
    # The k x d matrix is still there to compute with, just not saved.
    assert module.steps[0].weight.shape == (K, D)


def test_projection_is_regenerated_from_the_transformer_seed(pipeline):
    module = export_torch(pipeline)
    jl = pipeline.named_steps["jl"]
    assert module.steps[0].spec == jl.projection_spec_
    expected = make_projection(**jl.projection_spec_, dtype=np.float32).to_dense()
    np.testing.assert_array_equal(module.steps[0].weight.numpy(), expected)


@pytest.mark.parametrize("how", ["pickle", "torch.save", "deepcopy"])
def test_serialised_module_does_not_carry_the_matrix(data, how):
    X, _ = data
    # A wide projection makes the matrix dominate any serialised size.
    X_wide = np.tile(X, (1, 20))  # d = 1920
    y = data[1]
    pipe = make_pipeline(
        JLSubspaceTransformer(256, random_state=0), fast_head(max_epochs=1)
    ).fit(X_wide, y)
    module = export_torch(pipe)
    matrix_bytes = 256 * X_wide.shape[1] * 4
    if how == "pickle":
        payload = pickle.dumps(module)
        restored = pickle.loads(payload)
        size = len(payload)
    elif how == "torch.save":
        buffer = io.BytesIO()
        torch.save(module, buffer)
        size = buffer.tell()
        buffer.seek(0)
        restored = torch.load(buffer, weights_only=False)
    else:
        restored = copy.deepcopy(module)
        size = 0
    assert size < matrix_bytes / 10
    with torch.no_grad():
        X_t = torch.from_numpy(X_wide)
        assert torch.equal(restored(X_t), module(X_t))
    np.testing.assert_array_equal(restored.classes_, module.classes_)
    # The original module keeps its matrix after being serialised.
    assert "weight" in module.steps[0]._buffers


def test_size_report_counts_stored_against_full_linear_head(pipeline):
    report = export_torch(pipeline).size_report()
    stored = K * 8 + 8 + 8 * 4 + 4
    assert report == {
        "n_features": D,
        "n_components": K,
        "n_classes": 4,
        "stored_parameters": stored,
        "stored_bytes": 4 * stored,
        "regenerated_elements": K * D,
        "full_linear_head_parameters": D * 4 + 4,
        "compression_ratio": (D * 4 + 4) / stored,
    }


def test_torch_export_gives_same_logits(data, pipeline):
    X, _ = data
    module = export_torch(pipeline)
    X_t = torch.from_numpy(X)
    exported = torch.export.export(module, (X_t[:4],))
    with torch.no_grad():
        np.testing.assert_allclose(
            exported.module()(X_t[:4]).numpy(), module(X_t[:4]).numpy(), atol=1e-6
        )


def test_torch_jit_script_gives_same_logits(data, pipeline):
    X, _ = data
    module = export_torch(pipeline)
    with warnings.catch_warnings():
        # torch.jit.script is deprecated in recent torch, but still works.
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.script(module)
    X_t = torch.from_numpy(X)
    with torch.no_grad():
        assert torch.allclose(scripted(X_t), module(X_t), atol=1e-6)


def test_module_rejects_wrong_width_with_clear_message(pipeline):
    module = export_torch(pipeline)
    with pytest.raises(ValueError, match=f"expected {D}, got {D - 1}"):
        module(torch.zeros(2, D - 1))


def test_module_casts_float64_input(data, pipeline):
    X, _ = data
    module = export_torch(pipeline)
    with torch.no_grad():
        out64 = module(torch.from_numpy(X.astype(np.float64)))
        out32 = module(torch.from_numpy(X))
    assert out64.dtype == torch.float32
    assert torch.equal(out64, out32)


def test_export_does_not_share_weights_with_estimator(data, pipeline):
    X, _ = data
    module = export_torch(pipeline)
    before = pipeline.predict_proba(X)
    with torch.no_grad():
        for param in module.parameters():
            param.zero_()
    np.testing.assert_array_equal(pipeline.predict_proba(X), before)


def test_unsupported_step_is_rejected_listing_accepted_steps(data):
    X, y = data
    pipe = make_pipeline(PCA(8), fast_head(max_epochs=1)).fit(X, y)
    with pytest.raises(TypeError, match="'pca' \\(PCA\\).*JLSubspaceTransformer"):
        export_torch(pipe)


def test_non_head_estimator_is_rejected(data):
    message = (
        "The 'estimator' parameter of export_torch must be an instance of "
        "'sklearn_subspace.head._classifier.SubspaceHeadClassifier' or an "
        "instance of 'sklearn.pipeline.Pipeline'. Got StandardScaler() instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        export_torch(StandardScaler().fit(data[0]))


def test_pipeline_ending_in_another_estimator_is_rejected(data):
    pipe = make_pipeline(StandardScaler()).fit(data[0])
    with pytest.raises(TypeError, match="last step 'standardscaler' is a Standard"):
        export_torch(pipe)


def test_unfitted_head_is_rejected():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_torch(fast_head())


def test_mismatched_widths_are_rejected(data):
    X, y = data
    jl = JLSubspaceTransformer(K, random_state=0).fit(X)
    head = fast_head(max_epochs=1).fit(X[:, :10], y)
    with pytest.raises(ValueError, match="head expects 10 features.*output 16"):
        export_torch(Pipeline([("jl", jl), ("head", head)]))


def test_regenerated_projection_module_repr_names_the_recipe(pipeline):
    module = export_torch(pipeline)
    assert isinstance(module.steps[0], RegeneratedProjection)
    assert f"gaussian, {D} -> {K}, seed=" in repr(module)
