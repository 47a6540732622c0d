"""Teachers from timm (``model="timm:<name>"``)."""

import difflib
import os

import numpy as np

from ._identity import module_fingerprint, path_fingerprint
from ._inputs import ResizeCropNormalize
from ._pooling import Site
from ._teacher import Teacher, WeightsUnavailableError, is_local_path, seeded


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

    def create(**kwargs):
        try:
            return timm.create_model(name, **kwargs)
        except (OSError, RuntimeError) as exc:
            raise WeightsUnavailableError(
                f"Could not load pretrained weights of {description}: {exc}. "
                "Pass weights='<local checkpoint file>', put the files in the "
                "Hugging Face cache (HF_HOME) or use weights=None for a "
                "randomly initialised model."
            ) from exc

    if weights is None:
        model = seeded(seed, lambda: timm.create_model(name, pretrained=False))
        identity = f"timm:{name}:random:{module_fingerprint(model)}"
    elif is_local_path(weights):
        path = os.path.expanduser(os.fspath(weights))
        model = create(pretrained=True, pretrained_cfg_overlay={"file": path})
        identity = f"timm:{name}:file:{path_fingerprint(path)}"
    else:
        if weights != "DEFAULT":
            name = f"{name.split('.')[0]}.{weights}"
        model = create(pretrained=True)
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        identity = f"timm:{name}:{cfg.get('hf_hub_id') or cfg.get('url')}"
    config = timm.data.resolve_model_data_config(model)
    crop = config["input_size"][1:]
    transform = ResizeCropNormalize(
        resize_size=int(np.floor(crop[0] / config.get("crop_pct", 1.0))),
        crop_size=crop,
        mean=config["mean"],
        std=config["std"],
        interpolation=config.get("interpolation", "bilinear"),
    )
    return Teacher(
        model=model,
        modality="image",
        description=description,
        identity=identity,
        preprocessing={"transform": repr(transform)},
        auto_site=Site(method="timm_pre_logits"),
        hidden_site=Site(method="timm_features"),
        transform=transform,
    )
