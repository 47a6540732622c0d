"""Building teachers: torchvision, timm and Hugging Face models, or your own.

:func:`get_teacher` turns the extractor's plain ``model`` / ``weights``
arguments into a :class:`Teacher`: the frozen module on its device, its
modality (image, text or plain tensors), its own preprocessing, a stable
identity for the feature cache, and where its features are read.

Built teachers are kept in a small process-wide cache keyed by what built
them, so the clones that GridSearchCV refits for every candidate and fold
reuse one loaded model instead of reading the weights again.
"""

import copy
import difflib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from ._identity import UnidentifiedError, callable_fingerprint, module_fingerprint
from ._pooling import Site
from ._teacher import Teacher, WeightsUnavailableError, is_local_path
from ._zoo_hf import hf_modality, hf_preprocessors, hf_teacher, is_hf_module, load_hf
from ._zoo_timm import load_timm
from ._zoo_torchvision import load_torchvision, torchvision_names

_MAX_CACHED_TEACHERS = 4
_TEACHERS = OrderedDict()
_TEACHERS_LOCK = threading.Lock()


def _module_identity(module):
    """``(identity, None)``, or ``(placeholder, why it is unknown)``."""
    try:
        return f"module:{module_fingerprint(module)}", None
    except UnidentifiedError as exc:
        return "module:unidentified", str(exc)


def _base_model_name(module):
    """Name of the base model inside a Hugging Face model with a task head."""
    base = getattr(module, "base_model", module)
    if base is module:
        return None
    return next((name for name, m in module.named_modules() if m is base), None)


def _from_module(module, identity, unidentified):
    if is_hf_module(module):
        description = f"Hugging Face model {type(module).__name__}"
        modality = hf_modality(module.config, description)
        tokenizer, processor = hf_preprocessors(
            module.name_or_path or "", modality, required=False
        )
        teacher = hf_teacher(
            module, modality, description, identity, tokenizer, processor
        )
        base = _base_model_name(module)
        if base is not None:
            # A task model (e.g. ...ForSequenceClassification) returns logits:
            # the features are its base model's, as for AutoModel.
            teacher.auto_site = teacher.hidden_site = Site(base, "output")
    else:
        teacher = Teacher(
            model=module,
            modality="tensor",
            description=f"module {type(module).__qualname__}",
            identity=identity,
            preprocessing={"input": "float32 array, uint8 scaled to [0, 1]"},
            auto_site=Site(),
            hidden_site=Site(),
        )
    teacher.unidentified = unidentified
    return teacher


def _source_of(model):
    """Which zoo a model *name* belongs to, and the bare name."""
    if model.startswith("timm:"):
        return "timm", model[len("timm:") :]
    if model.startswith("hf:"):
        return "hf", model[len("hf:") :]
    if model in torchvision_names():
        return "torchvision", model
    return "hf", model


def _weights_key(weights):
    if weights is None or not is_local_path(weights):
        return None if weights is None else str(weights)
    path = Path(os.path.expanduser(os.fspath(weights))).resolve()
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)


def _callable_key(model):
    """Key of a model-building callable by its code, not its name (or None).

    A function redefined under the same name builds another model, so it
    must not get the teacher the old one built.
    """
    try:
        return ("callable", callable_fingerprint(model))
    except UnidentifiedError:  # not shared: every fit calls it again
        return None


def _load_named(source, model, name, weights, seed):
    loader = {"torchvision": load_torchvision, "timm": load_timm, "hf": load_hf}
    try:
        return loader[source](name, weights, seed)
    except WeightsUnavailableError as exc:
        # A bare name that is not a torchvision model is read as a Hugging
        # Face id; a typo of a torchvision name should not send users there.
        bare_hf_id = source == "hf" and model == name
        close = difflib.get_close_matches(model, torchvision_names(), n=3)
        if not bare_hf_id or not close:
            raise
        raise WeightsUnavailableError(
            f"{exc} Note: {model!r} is not a torchvision model name either; "
            f"close torchvision names: {close}."
        ) from exc


def _build(model, weights, random_state):
    """Return ``(cache key or None, build function, rebuildable)``.

    ``rebuildable`` says whether the same arguments rebuild bit-identical
    weights in another process (so a pickle may leave the weights out).
    """
    seed = None
    if weights is None:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    if isinstance(model, nn.Module):
        identity, unidentified = _module_identity(model)
        key = None if unidentified else ("module", identity)
        return (
            key,
            lambda: _from_module(copy.deepcopy(model), identity, unidentified),
            True,
        )
    if isinstance(model, str):
        source, name = _source_of(model)
        if not name:
            raise ValueError(f"model={model!r} names no model after the prefix.")
        cacheable = weights is not None or isinstance(random_state, (int, np.integer))
        key = ("name", model, _weights_key(weights), seed) if cacheable else None
        return (
            key,
            lambda: _load_named(source, model, name, weights, seed),
            cacheable,
        )
    if callable(model):

        def build_callable():
            built = model()
            if not isinstance(built, nn.Module):
                raise TypeError(
                    f"model callable {model!r} returned {type(built).__name__}; "
                    "it must return a torch.nn.Module."
                )
            return _from_module(built, *_module_identity(built))

        # Calling again may draw new random weights: not rebuildable.
        return _callable_key(model), build_callable, False
    raise TypeError(
        "model must be a model name (torchvision name, 'timm:<name>', "
        "'hf:<name>' or a Hugging Face id), a torch.nn.Module, or a callable "
        f"returning one; got {type(model).__name__}."
    )


def _place(teacher, device):
    model = teacher.model.to(device)
    if device.type == "cuda" and teacher.is_cnn:
        # Tensor cores run convolutions fastest on NHWC memory.
        model = model.to(memory_format=torch.channels_last)
    model.eval()
    model.requires_grad_(False)
    teacher.model = model
    training = [name for name, m in model.named_modules() if m.training]
    if training and teacher.unidentified is None:
        teacher.unidentified = (
            f"module {training[0] or type(model).__qualname__!r} stays in "
            "training mode after eval() (e.g. dropout that keeps sampling), so "
            "its output may change from call to call"
        )
    return teacher


def get_teacher(model, weights, random_state, device):
    """The frozen :class:`Teacher` for these arguments, on ``device``.

    Teachers are shared between extractors (and their clones) that ask for
    the same model, weights and device.
    """
    key, build, rebuildable = _build(model, weights, random_state)
    if key is not None:
        key = (key, str(device))
        with _TEACHERS_LOCK:
            if key in _TEACHERS:
                _TEACHERS.move_to_end(key)
                return _TEACHERS[key]
    teacher = _place(build(), device)
    teacher.rebuildable = rebuildable
    if key is not None:
        with _TEACHERS_LOCK:
            _TEACHERS[key] = teacher
            while len(_TEACHERS) > _MAX_CACHED_TEACHERS:
                _TEACHERS.popitem(last=False)
    return teacher


def teacher_from_module(module, device):
    """A teacher around an already built module (used after unpickling)."""
    teacher = _place(_from_module(module, *_module_identity(module)), device)
    teacher.rebuildable = False
    return teacher


def clear_model_cache():
    """Forget the teachers that extractors in this process have loaded.

    Extractors keep recently built teachers (a few models) so that clones
    refitted by cross-validation share one loaded model. Call this to free
    their memory (GPU memory included once nothing else refers to them).

    Returns
    -------
    n_cleared : int
        How many teachers were dropped.

    See Also
    --------
    TorchFeatureExtractor : The transformer whose teachers are cached.

    Examples
    --------
    >>> from sklearn_subspace.teachers import clear_model_cache
    >>> clear_model_cache() >= 0
    True
    """
    with _TEACHERS_LOCK:
        n_cleared = len(_TEACHERS)
        _TEACHERS.clear()
    return n_cleared
