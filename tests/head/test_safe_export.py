"""save_exported / load_exported: the exported head with no pickle at all."""

import io
import pickle
import re

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_subspace import (
    JLSubspaceTransformer,
    SubspaceHeadClassifier,
    export_torch,
    load_exported,
    save_exported,
)
from sklearn_subspace._param_validation import InvalidParameterError

RNG = np.random.RandomState(0)
X = RNG.rand(90, 24).astype(np.float32)
Y = np.array(["cat", "dog", "eel"])[np.arange(90) % 3]


def _pipe(hidden=(), scaler=False, labels=Y):
    steps = [StandardScaler()] if scaler else []
    steps += [
        JLSubspaceTransformer(8, projection="sparse", random_state=3),
        SubspaceHeadClassifier(
            hidden_layer_sizes=hidden, max_epochs=2, device="cpu", random_state=0
        ),
    ]
    return make_pipeline(*steps).fit(X, labels)


@pytest.mark.parametrize(
    "hidden, scaler, labels",
    [((), False, Y), ((6,), True, Y), ((), True, np.arange(90) % 3 * 10)],
    ids=["linear", "mlp-scaler", "int-labels"],
)
def test_a_saved_module_loads_without_pickle_and_predicts_the_same(
    tmp_path, hidden, scaler, labels, monkeypatch
):
    pipe = _pipe(hidden, scaler, labels)
    module = export_torch(pipe)
    path = save_exported(module, tmp_path / "head.safetensors")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, None)  # any unpickling would crash
    loaded = load_exported(path)
    monkeypatch.undo()
    X_t = torch.from_numpy(X)
    with torch.no_grad():
        assert torch.equal(loaded(X_t), module(X_t))
    assert loaded.classes_.tolist() == module.classes_.tolist()
    predicted = loaded.classes_[loaded(X_t).argmax(1).numpy()]
    assert (predicted == pipe.predict(X)).all()
    # The projection is a recipe, never stored.
    assert loaded.size_report() == module.size_report()


def test_the_file_is_safetensors_with_a_readable_recipe(tmp_path):
    from safetensors import safe_open

    path = save_exported(export_torch(_pipe()), tmp_path / "head.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        recipe = handle.metadata()["recipe"]
        keys = sorted(handle.keys())
    import json

    recipe = json.loads(recipe)
    assert recipe["steps"] == [
        {
            "kind": "projection",
            "spec": {
                "projection": "sparse",
                "n_components": 8,
                "n_features": 24,
                "seed": 3,
                "density": recipe["steps"][0]["spec"]["density"],
            },
        }
    ]
    assert recipe["head"] == [
        {"kind": "linear", "in_features": 8, "out_features": 3, "bias": True}
    ]
    assert keys == ["head.0.bias", "head.0.weight"]  # no 8 x 24 matrix stored


def test_torch_export_save_of_the_module_still_works(tmp_path):
    module = export_torch(_pipe())
    X_t = torch.from_numpy(X[:8])
    program = torch.export.export(module, (X_t,))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    loaded = torch.export.load(buffer)
    assert torch.allclose(loaded.module()(X_t), module(X_t))


def test_bad_files_and_modules_are_rejected_clearly(tmp_path):
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'module' parameter of save_exported must be an instance of "
            "'sklearn_subspace.head._export.SubspaceClassifierModule'. Got Linear("
        ),
    ):
        save_exported(torch.nn.Linear(2, 2), tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
    with pytest.raises(InvalidParameterError, match="'path' parameter of load_exp"):
        load_exported(None)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_exported(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not one written by save_exported"):
        load_exported(tmp_path / "other.safetensors")
