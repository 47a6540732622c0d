"""Teachers from torchvision's classification models."""

import functools
import os
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
        return
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
        weights.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:  # any download failure gets the same advice
        raise WeightsUnavailableError(
            f"Pretrained weights {weights} for torchvision model {name!r} are "
            f"not in the local cache (looked for {path}) and could not be "
            f"downloaded from {weights.url}: {exc}. {how}"
        ) from exc


def _load_state_dict_file(path, name):
    path = Path(path).expanduser()
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"Could not read weights file {path} for {name!r}: {exc}. Pass a "
            "state_dict saved with torch.save(model.state_dict(), path)."
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
        try:
            model.load_state_dict(_load_state_dict_file(path, name))
        except RuntimeError as exc:
            raise ValueError(
                f"Weights file {path} does not fit {description}: {exc}"
            ) from None
        identity = f"torchvision:{name}:file:{path_fingerprint(path)}"
    else:
        chosen = _torchvision_weights(name, weights)
        _ensure_torchvision_checkpoint(name, chosen)
        model = get_model(name, weights=chosen)
        identity = f"torchvision:{name}:{chosen}:{_checkpoint_path(chosen).name}"
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
    return Teacher(
        model=model,
        modality="image",
        description=description,
        identity=identity,
        preprocessing={"transform": repr(transform)},
        auto_site=Site(linear, "input") if linear else Site(),
        hidden_site=hidden,
        transform=transform,
    )
