"""Fitted estimators survive joblib, and a fresh process, bit for bit.

Every fitted estimator of the library, a fitted ``Pipeline([extractor, jl,
head])`` and the exported deployable module are saved here, loaded in a new
Python process that has never built any of them, and must give exactly the
outputs they gave before saving.
"""

import io
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from bad_input_cases import tiny_mlp
from numpy.testing import assert_array_equal
from reliability_utils import subprocess_env
from sklearn.pipeline import Pipeline

from sklearn_subspace import (
    JLSubspaceTransformer,
    SubspaceHeadClassifier,
    TorchFeatureExtractor,
    export_torch,
)
from sklearn_subspace.distill import StudentMLP, SubspaceDistiller
from sklearn_subspace.projection import PROJECTION_FAMILIES

# Every test reads what a fresh interpreter loaded: slow.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _fitted_estimators(X, y, images):
    """``name -> (estimator, [(method, input name), ...])``, all fitted."""
    head = lambda: SubspaceHeadClassifier(  # noqa: E731
        max_epochs=3, device="cpu", random_state=0
    )
    fitted = {}
    for family in PROJECTION_FAMILIES:
        jl = JLSubspaceTransformer(8, projection=family, random_state=0).fit(X)
        fitted[f"jl-{family}"] = (jl, [("transform", "X"), ("transform", "X64")])
    fitted["jl-float64-auto-seed"] = (
        JLSubspaceTransformer(8, random_state=np.random.RandomState(3)).fit(
            X.astype(np.float64)
        ),
        [("transform", "X64"), ("inverse_transform", "Z8")],
    )
    classifier_methods = [
        ("predict", "X"),
        ("predict_proba", "X"),
        ("decision_function", "X"),
    ]
    fitted["head"] = (head().fit(X, y), classifier_methods)
    fitted["head-mlp-sgd"] = (
        SubspaceHeadClassifier(
            (8,), optimizer="sgd", max_epochs=3, device="cpu", random_state=1
        ).fit(X, y.astype(str)),
        classifier_methods,
    )
    # The three ways an extractor pickles its teacher: a module passed in
    # (kept as the parameter), a callable (the built module is stored) and a
    # model name with seeded random weights (left out, rebuilt on load).
    fitted["extractor-module"] = (
        TorchFeatureExtractor(tiny_mlp(), device="cpu").fit(X),
        [("transform", "X")],
    )
    fitted["extractor-callable"] = (
        TorchFeatureExtractor(tiny_mlp, device="cpu").fit(X),
        [("transform", "X")],
    )
    fitted["extractor-resnet18"] = (
        TorchFeatureExtractor("resnet18", weights=None, device="cpu").fit(images),
        [("transform", "images")],
    )
    fitted["pipeline"] = (
        Pipeline(
            [
                ("extract", TorchFeatureExtractor(tiny_mlp(), device="cpu")),
                ("jl", JLSubspaceTransformer(6, projection="srht", random_state=0)),
                ("head", head()),
            ]
        ).fit(X, y),
        [("predict", "X"), ("predict_proba", "X")],
    )
    fitted["distiller"] = (
        SubspaceDistiller(
            StudentMLP,
            student_params={"hidden_layer_sizes": (16,)},
            n_components=6,
            max_epochs=3,
            batch_size=32,
            device="cpu",
            random_state=0,
            head=SubspaceHeadClassifier(max_epochs=3, early_stopping=False),
        ).fit(X, y),
        [("transform", "X"), ("predict", "X"), ("predict_proba", "X")],
    )
    return fitted


_CHILD = textwrap.dedent(
    """
    import sys
    import joblib, numpy as np, torch

    folder = sys.argv[1]
    inputs = dict(np.load(f"{folder}/inputs.npz"))
    outputs = {}
    for name, methods in joblib.load(f"{folder}/plan.joblib").items():
        estimator = joblib.load(f"{folder}/{name}.joblib")
        for method, input_name in methods:
            out = getattr(estimator, method)(inputs[input_name])
            outputs[f"{name}.{method}.{input_name}"] = np.asarray(out)
    module = torch.load(f"{folder}/module.pt", weights_only=False)
    with torch.no_grad():
        logits = module(torch.from_numpy(inputs["F"]))
    outputs["module.logits"] = logits.numpy()
    outputs["module.state_keys"] = np.array(sorted(module.state_dict()))
    np.savez(f"{folder}/outputs.npz", **outputs)
    """
)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory, blobs):
    """Outputs before saving, and after loading in a fresh process."""
    folder = tmp_path_factory.mktemp("persistence")
    X, y = blobs
    images = np.random.RandomState(0).randint(0, 256, (3, 8, 8, 3)).astype(np.uint8)
    fitted = _fitted_estimators(X, y, images)
    inputs = {
        "X": X,
        "X64": X.astype(np.float64),
        "Z8": np.random.RandomState(1).standard_normal((5, 8)),
        "images": images,
    }
    before = {}
    for name, (estimator, methods) in fitted.items():
        joblib.dump(estimator, folder / f"{name}.joblib")
        for method, input_name in methods:
            out = getattr(estimator, method)(inputs[input_name])
            before[f"{name}.{method}.{input_name}"] = np.asarray(out)
    joblib.dump(
        {name: methods for name, (_, methods) in fitted.items()}, folder / "plan.joblib"
    )

    # The deployable part: projection + head, on the teacher's features F.
    pipe = fitted["pipeline"][0]
    inputs["F"] = pipe[0].transform(X)
    module = export_torch(pipe[1:])
    with torch.no_grad():
        before["module.logits"] = module(torch.from_numpy(inputs["F"])).numpy()
    before["module.state_keys"] = np.array(sorted(module.state_dict()))
    torch.save(module, folder / "module.pt")
    np.savez(folder / "inputs.npz", **inputs)

    subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder)],
        check=True,
        timeout=240,
        env=subprocess_env(),
    )
    after = dict(np.load(folder / "outputs.npz"))
    return before, after, fitted


ESTIMATORS = [
    *(f"jl-{family}" for family in PROJECTION_FAMILIES),
    "jl-float64-auto-seed",
    "head",
    "head-mlp-sgd",
    "extractor-module",
    "extractor-callable",
    "extractor-resnet18",
    "pipeline",
    "distiller",
]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_estimator_loaded_in_a_fresh_process_gives_identical_outputs(round_trip, name):
    before, after, _ = round_trip
    keys = [key for key in before if key.split(".")[0] == name]
    assert keys, f"no outputs recorded for {name}"
    for key in keys:
        assert after[key].dtype == before[key].dtype, key
        assert_array_equal(after[key], before[key], err_msg=key)


def test_every_public_estimator_is_covered(round_trip):
    _, _, fitted = round_trip
    kinds = {type(est).__name__ for est, _ in fitted.values()}
    assert kinds == {
        "JLSubspaceTransformer",
        "SubspaceHeadClassifier",
        "TorchFeatureExtractor",
        "Pipeline",
        "SubspaceDistiller",
    }


def test_exported_module_gives_identical_logits_after_save_and_load(round_trip):
    before, after, _ = round_trip
    assert_array_equal(after["module.logits"], before["module.logits"])
    # The projection is regenerated on load, not stored.
    assert_array_equal(after["module.state_keys"], before["module.state_keys"])
    assert not any("steps" in key for key in after["module.state_keys"])


def test_exported_module_state_dict_round_trips_into_a_fresh_export(round_trip, blobs):
    _, _, fitted = round_trip
    X = fitted["pipeline"][0][0].transform(blobs[0])
    pipe = fitted["pipeline"][0][1:]
    saved = export_torch(pipe)
    buffer = io.BytesIO()
    torch.save(saved.state_dict(), buffer)
    buffer.seek(0)
    fresh = export_torch(pipe)
    with torch.no_grad():
        for param in fresh.parameters():
            param.zero_()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    with torch.no_grad():
        assert_array_equal(fresh(torch.from_numpy(X)), saved(torch.from_numpy(X)))


def test_pickles_leave_out_what_can_be_rebuilt(round_trip, tmp_path):
    _, _, fitted = round_trip
    jl = fitted["jl-gaussian"][0]
    resnet = fitted["extractor-resnet18"][0]
    joblib.dump(jl, tmp_path / "jl.joblib")
    joblib.dump(resnet, tmp_path / "resnet.joblib")
    # 8 x 16 float32 map is 512 bytes; the pickle holds its recipe only.
    assert "_projection" not in joblib.load(tmp_path / "jl.joblib").__dict__
    # resnet18 has 11.7 M parameters (47 MB): none of them are pickled.
    assert (tmp_path / "resnet.joblib").stat().st_size < 100_000
