"""Teachers from timm (``model="timm:<name>"``).

Weights files are read here, with ``weights_only=True`` (or as safetensors),
and handed to timm as a state dict, so timm's own checkpoint conversions
still apply but no pickle is ever run. Offline, pretrained weights come from
the local caches only (the Hugging Face cache, then torch's hub checkpoints):
no download is tried, so a missing file fails at once instead of after the
Hub's retries.
"""

import difflib
import os
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ._identity import module_fingerprint, path_fingerprint
from ._inputs import resize_crop_normalize
from ._pooling import Site
from ._teacher import Teacher, WeightsUnavailableError, is_local_path, offline, seeded
from ._zoo_torchvision import load_state_dict_file

# The file names timm's Hub loader tries, in its order.
_HUB_FILES = ("model.safetensors", "pytorch_model.bin")
# Keys under which timm's checkpoints keep the weights, in timm's order.
_STATE_KEYS = ("state_dict_ema", "model_ema", "state_dict", "model")


def _timm_state(path, description):
    state = load_state_dict_file(path, description)
    for key in _STATE_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    # Checkpoints of DataParallel training prefix every name with "module.".
    return {k.removeprefix("module."): v for k, v in state.items()}


def _cached_weights(timm, name):
    """The local file of ``name``'s pretrained weights, or None (no network)."""
    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:
        return None
    if cfg.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        repo, _, revision = cfg.hf_hub_id.partition("@")
        files = (getattr(cfg, "hf_hub_filename", None), *_HUB_FILES)
        for filename in filter(None, files):
            found = try_to_load_from_cache(repo, filename, revision=revision or None)
            if isinstance(found, str):
                return found
    if cfg.url:
        import torch

        path = Path(torch.hub.get_dir()) / "checkpoints"
        path = path / os.path.basename(urlparse(cfg.url).path)
        if path.is_file():
            return str(path)
    return None


def _where(timm, name):
    cfg = timm.models.get_pretrained_cfg(name)
    places = []
    if cfg is not None and cfg.hf_hub_id:
        from huggingface_hub import constants

        places.append(f"Hugging Face cache {constants.HF_HUB_CACHE} ({cfg.hf_hub_id})")
    if cfg is not None and cfg.url:
        places.append(f"torch hub checkpoints ({os.path.basename(cfg.url)})")
    return " and ".join(places) or "the local caches"


def load_timm(name, weights, seed):
    try:
        import timm
    except ImportError:
        raise ImportError(
            "model='timm:...' needs the timm package: pip install timm"
        ) from None
    description = f"timm model {name!r}"
    if not timm.is_model(name.split(".")[0]):
        close = difflib.get_close_matches(name, timm.list_models(), n=5)
        raise ValueError(
            f"Unknown timm model {name!r}. Close matches: {close}. See "
            "timm.list_models()."
        )
    how = (
        "Pass weights='<local checkpoint file>', put the files in the "
        "Hugging Face cache (HF_HOME) or use weights=None for a randomly "
        "initialised model."
    )

    def create(**kwargs):
        try:
            return timm.create_model(name, **kwargs)
        except (OSError, RuntimeError) as exc:
            raise WeightsUnavailableError(
                f"Could not load pretrained weights of {description}: {exc}. {how}"
            ) from exc

    def from_file(path):
        # source="" keeps timm from preferring the Hub over the given weights.
        overlay = {"state_dict": _timm_state(path, description), "source": ""}
        try:
            return timm.create_model(
                name, pretrained=True, pretrained_cfg_overlay=overlay
            )
        except (RuntimeError, KeyError) as exc:
            raise ValueError(
                f"Weights file {path} does not fit {description}: {exc}. Pass "
                "the checkpoint of this very architecture, or weights=None for "
                "a randomly initialised model."
            ) from None

    if weights is None:
        model = seeded(seed, lambda: timm.create_model(name, pretrained=False))
        identity = f"timm:{name}:random:{module_fingerprint(model)}"
    elif is_local_path(weights):
        path = os.path.expanduser(os.fspath(weights))
        model = from_file(path)
        identity = f"timm:{name}:file:{path_fingerprint(path)}"
    else:
        if weights != "DEFAULT":
            name = f"{name.split('.')[0]}.{weights}"
        if offline():
            path = _cached_weights(timm, name)
            if path is None:
                raise WeightsUnavailableError(
                    f"Pretrained weights of {description} are not in the local "
                    f"caches (looked in the {_where(timm, name)}) and downloads "
                    f"are off (offline mode). {how}"
                )
            model = from_file(path)
        else:
            model = create(pretrained=True)
            path = _cached_weights(timm, name)
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        source = cfg.get("hf_hub_id") or cfg.get("url")
        content = path_fingerprint(path) if path is not None else None
        identity = f"timm:{name}:{source}:{content}"
    config = timm.data.resolve_model_data_config(model)
    crop = config["input_size"][1:]
    transform = resize_crop_normalize(
        resize_size=int(np.floor(crop[0] / config.get("crop_pct", 1.0))),
        crop_size=crop,
        mean=config["mean"],
        std=config["std"],
        interpolation=config.get("interpolation", "bilinear"),
    )
    return Teacher.image(
        model,
        transform,
        description=description,
        identity=identity,
        auto_site=Site(method="timm_pre_logits"),
        hidden_site=Site(method="timm_features"),
    )
