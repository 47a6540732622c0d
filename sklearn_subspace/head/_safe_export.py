"""Save and load an exported head with no pickle: safetensors plus a recipe.

``torch.save`` of a :class:`SubspaceClassifierModule` is a pickle, which
``torch.load`` only reads with ``weights_only=False``, i.e. trusting the file
to run code. The format here cannot run code: one ``.safetensors`` file holds
the stored tensors (head weights, scaler statistics) and, in its JSON header,
a *recipe* that rebuilds the module around them:

- the feature width ``d`` and the class labels,
- each fixed step: a projection's family, shape (``k``, ``d``), seed and
  density -- its matrix is regenerated, never stored -- or a standardisation,
- the head's architecture, as its chain of layers (``linear`` with its
  shape and bias, ``relu``, ``dropout``, ``identity``).

``safetensors.safe_open(path, "pt").metadata()["recipe"]`` shows the recipe.
"""

import json
import os

import numpy as np
import torch
from torch import nn

from .._atomic import atomic_write
from .._param_validation import validate_params
from ._export import RegeneratedProjection, Standardize, SubspaceClassifierModule

FORMAT = "sklearn-subspace-exported-module"
VERSION = 1
_SPEC_KEYS = ("projection", "n_components", "n_features", "seed", "density")


def _plain(value):
    """A JSON value from a numpy or python scalar."""
    return value.item() if isinstance(value, np.generic) else value


def _step_recipe(step, index):
    if isinstance(step, RegeneratedProjection):
        return {
            "kind": "projection",
            "spec": {key: _plain(step.spec[key]) for key in _SPEC_KEYS},
        }
    if isinstance(step, Standardize):
        return {"kind": "standardize", "n_features": int(step.mean.numel())}
    raise TypeError(
        f"save_exported cannot store step {index} ({type(step).__name__}); it "
        "stores the steps export_torch builds (projections and scalers)."
    )


def _layer_recipe(layer):
    if isinstance(layer, nn.Linear):
        return {
            "kind": "linear",
            "in_features": layer.in_features,
            "out_features": layer.out_features,
            "bias": layer.bias is not None,
        }
    if isinstance(layer, nn.ReLU):
        return {"kind": "relu"}
    if isinstance(layer, nn.Dropout):
        return {"kind": "dropout", "p": float(layer.p)}
    if isinstance(layer, nn.Identity):
        return {"kind": "identity"}
    raise TypeError(
        f"save_exported cannot describe the head layer {type(layer).__name__}; "
        "it stores heads made of Linear, ReLU, Dropout and Identity layers. "
        "Save this module with torch.export.save instead."
    )


def _build_layer(recipe):
    kind = recipe["kind"]
    if kind == "linear":
        return nn.Linear(
            recipe["in_features"], recipe["out_features"], bias=recipe["bias"]
        )
    if kind == "relu":
        return nn.ReLU()
    if kind == "dropout":
        return nn.Dropout(recipe["p"])
    if kind == "identity":
        return nn.Identity()
    raise ValueError(f"Unknown head layer kind {kind!r} in the recipe.")


def _head_chain(head):
    """The head as an ``nn.Sequential`` of its layers, checked to match it."""
    leaves = [m for m in head.modules() if not list(m.children())]
    recipe = [_layer_recipe(layer) for layer in leaves]
    chain = nn.Sequential(*(_build_layer(r) for r in recipe))
    chain.load_state_dict(
        {
            f"{i}.{name}": tensor
            for i, layer in enumerate(leaves)
            for name, tensor in layer.state_dict().items()
        }
    )
    chain.eval()
    # The recipe assumes forward() applies the layers in order; check it.
    width = next(r["in_features"] for r in recipe if r["kind"] == "linear")
    probe = torch.randn(4, width, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        same = torch.equal(chain(probe), head.eval()(probe))
    if not same:
        raise TypeError(
            f"The head ({type(head).__name__}) does not apply its layers one "
            "after the other, so save_exported cannot describe it as a chain. "
            "Save this module with torch.export.save instead."
        )
    return recipe, chain


def _classes_recipe(classes):
    classes = np.asarray(classes)
    if classes.dtype.kind in "biuf":
        return {"values": classes.tolist(), "dtype": classes.dtype.str}
    values = classes.tolist()
    if all(isinstance(v, str) for v in values):
        return {"values": values, "dtype": "str"}
    raise TypeError(
        "save_exported stores class labels that are numbers or strings; these "
        f"are {classes.dtype} values such as {values[0]!r}. Encode them first."
    )


def _build(recipe):
    steps = []
    for step in recipe["steps"]:
        if step["kind"] == "projection":
            steps.append(RegeneratedProjection(step["spec"]))
        elif step["kind"] == "standardize":
            steps.append(Standardize(np.zeros(step["n_features"]), None))
        else:
            raise ValueError(f"Unknown step kind {step['kind']!r} in the recipe.")
    head = nn.Sequential(*(_build_layer(r) for r in recipe["head"]))
    classes = recipe["classes"]
    dtype = str if classes["dtype"] == "str" else np.dtype(classes["dtype"])
    labels = np.asarray(classes["values"], dtype=dtype)
    return SubspaceClassifierModule(
        steps, head, n_features=recipe["n_features"], classes=labels
    )


@validate_params(
    {"module": [SubspaceClassifierModule], "path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def save_exported(module, path):
    """Save an exported module as safetensors weights and a JSON recipe.

    The file holds no pickle: :func:`load_exported` rebuilds the module from
    the recipe (regenerating each projection from its seed) and fills in the
    stored tensors, so loading it runs no code from the file.

    Parameters
    ----------
    module : SubspaceClassifierModule
        A module from :func:`export_torch`.
    path : str or path-like
        The file to write, conventionally ending in ``.safetensors``. It is
        written atomically (a temporary file renamed into place).

    Returns
    -------
    path : pathlib.Path
        The written file.

    Raises
    ------
    TypeError
        If ``module`` is not an exported module, or holds a layer or label
        type the recipe cannot describe (then use ``torch.export.save``).

    See Also
    --------
    load_exported : Read the file back.
    export_torch : Build the module from a fitted pipeline.

    Examples
    --------
    >>> import tempfile, numpy as np, torch
    >>> from pathlib import Path
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_subspace import (JLSubspaceTransformer, SubspaceHeadClassifier,
    ...                               export_torch, load_exported, save_exported)
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> pipe = make_pipeline(
    ...     JLSubspaceTransformer(16, random_state=0),
    ...     SubspaceHeadClassifier(max_epochs=3, device="cpu", random_state=0),
    ... ).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_exported(export_torch(pipe), Path(tmp) / "head.safetensors")
    ...     module = load_exported(path)
    >>> logits = module(torch.from_numpy(X[:5]))
    >>> bool((module.classes_[logits.argmax(1)] == pipe.predict(X[:5])).all())
    True
    """
    from safetensors.torch import save

    head_recipe, chain = _head_chain(module.head)
    recipe = {
        "version": VERSION,
        "n_features": int(module.n_features),
        "classes": _classes_recipe(module.classes_),
        "steps": [_step_recipe(s, i) for i, s in enumerate(module.steps)],
        "head": head_recipe,
    }
    tensors = {
        f"steps.{i}.{name}": tensor
        for i, step in enumerate(module.steps)
        for name, tensor in step.state_dict().items()
    }
    tensors.update({f"head.{k}": v for k, v in chain.state_dict().items()})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    metadata = {"format": FORMAT, "recipe": json.dumps(recipe, sort_keys=True)}
    data = save(tensors, metadata=metadata)
    return atomic_write(path, lambda handle: handle.write(data))


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def load_exported(path):
    """Load a module saved by :func:`save_exported`, without unpickling.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_exported`.

    Returns
    -------
    module : SubspaceClassifierModule
        The module, on the CPU and in eval mode, with ``classes_`` restored.

    Raises
    ------
    ValueError
        If the file is not a safetensors file written by
        :func:`save_exported`, or its tensors do not match its recipe.

    See Also
    --------
    save_exported : Write the file.
    """
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError) as exc:
        raise ValueError(
            f"{path} is not a safetensors file ({exc}). load_exported reads the "
            "files save_exported writes."
        ) from exc
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{path} is a safetensors file, but not one written by "
            "save_exported (its header has no sklearn-subspace recipe)."
        )
    recipe = json.loads(metadata["recipe"])
    if recipe.get("version") != VERSION:
        raise ValueError(
            f"{path} was written in export format version {recipe.get('version')}"
            f"; this version of sklearn-subspace reads version {VERSION}. Load "
            "it with the version that wrote it."
        )
    module = _build(recipe)
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"The tensors in {path} do not match its recipe: {exc}"
        ) from None
    return module.eval()
