"""Teachers from torchvision's classification models.

Pretrained weights are never unpickled with ``weights_only=False``: the
checkpoint in ``$TORCH_HOME/hub/checkpoints`` (downloaded there when allowed)
is checked against the sha256 prefix in its official file name, loaded with
``torch.load(..., weights_only=True)`` and copied into a model built without
weights. torchvision's own ``get_model(name, weights=...)`` would load the
same file with ``weights_only=False``, so a pickle payload placed there would
run.
"""

import functools
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from ._identity import module_fingerprint, path_fingerprint
from ._pooling import Site
from ._teacher import Teacher, WeightsUnavailableError, is_local_path, offline, seeded


@functools.cache
def torchvision_names():
    import torchvision

    return set(torchvision.models.list_models(module=torchvision.models))


def _last_module(model, types):
    found = None
    for name, module in model.named_modules():
        if name and isinstance(module, types):
            found = name
    return found


def _checkpoint_path(weights):
    filename = os.path.basename(urlparse(weights.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def _torchvision_weights(name, weights):
    from torchvision.models import get_model_weights

    enum = get_model_weights(name)
    if isinstance(weights, str):
        valid = ["DEFAULT", *(member.name for member in enum)]
        try:
            return enum.verify(weights)
        except KeyError:
            raise ValueError(
                f"Unknown weights {weights!r} for torchvision model {name!r}. "
                f"Use one of {valid}, a local checkpoint file, or None."
            ) from None
    return enum.verify(weights)


def _ensure_torchvision_checkpoint(name, weights):
    path = _checkpoint_path(weights)
    if path.is_file():
        return path
    how = (
        f"To provide them, copy {path.name} into {path.parent} (set TORCH_HOME "
        "to use another cache directory whose hub/checkpoints/ holds it), pass "
        "weights='<path to the .pth file>', or use weights=None for a randomly "
        "initialised model."
    )
    if offline():
        raise WeightsUnavailableError(
            f"Pretrained weights {weights} for torchvision model {name!r} are "
            f"not in the local cache (looked for {path}) and downloads are off "
            f"(offline mode). {how}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Download only; the file is checked and loaded safely below.
        torch.hub.download_url_to_file(
            weights.url, str(path), _expected_sha256_prefix(path), progress=False
        )
    except Exception as exc:  # any download failure gets the same advice
        raise WeightsUnavailableError(
            f"Pretrained weights {weights} for torchvision model {name!r} are "
            f"not in the local cache (looked for {path}) and could not be "
            f"downloaded from {weights.url}: {exc}. {how}"
        ) from exc
    return path


# torchvision names its checkpoints <name>-<first hex digits of sha256>.pth.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")


def _expected_sha256_prefix(path):
    match = _HASH_IN_NAME.search(Path(path).name)
    return match.group(1) if match else None


def _verified_sha256(path, name):
    """The file's sha256, checked against the prefix in its official name."""
    digest = path_fingerprint(path)
    prefix = _expected_sha256_prefix(path)
    if prefix is not None and not digest.startswith(prefix):
        raise ValueError(
            f"The cached checkpoint {path} for torchvision model {name!r} is not "
            f"the official file: its sha256 starts with {digest[: len(prefix)]}, "
            f"but its name promises {prefix}. It is damaged, truncated or "
            "replaced, and was not loaded. Delete it and let torchvision download "
            "it again (or copy the official file there), or pass "
            "weights='<path to your .pth file>' to load a checkpoint of your own."
        )
    return digest


# What torchvision's builders set from the weights' metadata before loading
# them; a model built without weights needs the same to take the state dict.
def _builder_kwargs(name, weights):
    kwargs = {"num_classes": len(weights.meta["categories"])}
    if name.startswith("vit_"):
        kwargs["image_size"] = weights.meta["min_size"][0]
    elif name.startswith("maxvit"):
        kwargs["input_size"] = weights.meta["min_size"]
    elif name in ("googlenet", "inception_v3"):
        # Pretrained with the auxiliary heads and the input re-normalisation.
        kwargs.update(transform_input=True, aux_logits=True, init_weights=False)
    return kwargs


def _drop_auxiliary_heads(name, model):
    # As torchvision does after loading: the auxiliary heads only train.
    if name == "inception_v3":
        model.aux_logits, model.AuxLogits = False, None
    elif name == "googlenet":
        model.aux_logits, model.aux1, model.aux2 = False, None, None


def _pretrained_torchvision(name, weights):
    """Build ``name`` and load ``weights`` from the hub cache, safely."""
    from torchvision.models import get_model

    path = _ensure_torchvision_checkpoint(name, weights)
    digest = _verified_sha256(path, name)
    model = get_model(name, weights=None, **_builder_kwargs(name, weights))
    _load_into(model, load_state_dict_file(path, name), path, name)
    _drop_auxiliary_heads(name, model)
    return model, digest


def _load_into(model, state, path, name):
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"Weights file {path} does not fit torchvision model {name!r}: "
            f"{exc}. Pass the checkpoint of this very architecture, or "
            "weights=None for a randomly initialised model."
        ) from None


def load_state_dict_file(path, name):
    path = Path(path).expanduser()
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path)
    try:
        # weights_only=True: tensors and plain containers only, so a pickle
        # payload in the file is refused instead of run.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"Could not read weights file {path} for {name!r} as plain "
            f"weights (loaded with weights_only=True, which refuses pickled "
            f"code and objects): {exc}. Pass a state_dict saved with "
            "torch.save(model.state_dict(), path), or a .safetensors file."
        ) from exc
    return state.get("state_dict", state) if isinstance(state, dict) else state


def load_torchvision(name, weights, seed):
    from torchvision.models import get_model, get_model_weights

    default = get_model_weights(name).DEFAULT
    description = f"torchvision model {name!r}"
    if weights is None:
        model = seeded(seed, lambda: get_model(name, weights=None))
        identity = f"torchvision:{name}:random:{module_fingerprint(model)}"
    elif is_local_path(weights):
        path = Path(os.path.expanduser(os.fspath(weights)))
        if path.is_dir():
            path = path / _checkpoint_path(default).name
            if not path.is_file():
                raise WeightsUnavailableError(
                    f"Weights directory {weights!r} has no {path.name} for "
                    f"{description}. Pass the checkpoint file itself."
                )
        model = get_model(name, weights=None)
        _load_into(model, load_state_dict_file(path, name), path, name)
        identity = f"torchvision:{name}:file:{path_fingerprint(path)}"
    else:
        chosen = _torchvision_weights(name, weights)
        model, digest = _pretrained_torchvision(name, chosen)
        identity = (
            f"torchvision:{name}:{chosen}:{_checkpoint_path(chosen).name}:{digest}"
        )
        default = chosen
    transform = default.transforms()
    linear = _last_module(model, nn.Linear)
    pool = _last_module(model, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d))
    if pool is not None:
        hidden = Site(pool, "input")
    elif hasattr(model, "encoder"):  # vision transformers: tokens after the norm
        hidden = Site("encoder", "output")
    else:
        hidden = None
    return Teacher.image(
        model,
        transform,
        description=description,
        identity=identity,
        auto_site=Site(linear, "input") if linear else Site(),
        hidden_site=hidden,
    )
