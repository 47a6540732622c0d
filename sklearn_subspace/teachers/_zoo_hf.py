"""Teachers from Hugging Face transformers (``"hf:<name>"`` or a bare id).

Files are looked up locally first (a ``save_pretrained`` directory, then the
Hugging Face cache) and fetched from the Hub only when downloads are allowed.
"""

import hashlib
import os
import sys

from ._identity import digest_json, module_fingerprint, path_fingerprint
from ._pooling import Site
from ._teacher import Teacher, WeightsUnavailableError, is_local_path, offline, seeded


def _hf_cache_dir():
    try:
        from huggingface_hub import constants

        return constants.HF_HUB_CACHE
    except ImportError:  # pragma: no cover - transformers brings it along
        return "the Hugging Face cache"


def _hf_load(load, source, what, **kwargs):
    """``load(source)`` from local files first, then from the Hub if allowed."""
    try:
        return load(source, local_files_only=True, **kwargs)
    except OSError as local_exc:
        if offline() or os.path.isdir(os.path.expanduser(str(source))):
            reason = local_exc
        else:
            try:
                return load(source, **kwargs)
            except OSError as exc:
                reason = exc
    raise WeightsUnavailableError(
        f"Could not load the {what} of Hugging Face model {source!r}: not found "
        f"locally (looked in {source!r} as a directory and in {_hf_cache_dir()}) "
        f"and not downloadable here. To provide it: save the model with "
        "save_pretrained(<dir>) and pass model='hf:<dir>' (or weights='<dir>'), "
        "set HF_HOME to a cache that holds it, allow downloads (unset "
        "HF_HUB_OFFLINE), or use weights=None for a random model (the config "
        f"is still needed). Cause: {reason}"
    ) from reason


def hf_modality(config, description):
    if hasattr(config, "vision_config") or hasattr(config, "text_config"):
        raise ValueError(
            f"{description} is multimodal; pass one tower as an nn.Module "
            "instead (e.g. its vision_model or text_model)."
        )
    if getattr(config, "num_channels", None) is not None or hasattr(
        config, "image_size"
    ):
        return "image"
    if getattr(config, "vocab_size", None):
        return "text"
    raise ValueError(
        f"Cannot tell whether {description} reads images or text from its "
        "config (no num_channels / image_size / vocab_size)."
    )


def _tokenizer_digest(tokenizer):
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        text = backend.to_str()
    else:
        text = digest_json(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(f"{type(tokenizer).__name__}|{text}".encode()).hexdigest()


def hf_preprocessors(source, modality, *, required):
    """The tokenizer or image processor saved with a model (or None)."""
    from transformers import AutoImageProcessor, AutoTokenizer

    if not source:
        return None, None
    load = AutoTokenizer.from_pretrained
    what = "tokenizer"
    if modality == "image":
        load, what = AutoImageProcessor.from_pretrained, "image processor"
    try:
        found = _hf_load(load, source, what)
    except (WeightsUnavailableError, ValueError):
        if required:
            raise
        return None, None
    if modality == "image":
        return None, found
    return found, None


def hf_teacher(model, modality, description, identity, tokenizer, processor):
    preprocessing = {}
    if tokenizer is not None:
        preprocessing["tokenizer"] = _tokenizer_digest(tokenizer)
    if processor is not None:
        preprocessing["processor"] = processor.to_json_string()
    return Teacher(
        model=model,
        modality=modality,
        description=description,
        identity=identity,
        preprocessing=preprocessing,
        auto_site=Site(),
        hidden_site=Site(),
        tokenizer=tokenizer,
        processor=processor,
        hf=True,
    )


def load_hf(name, weights, seed):
    try:
        from transformers import AutoConfig, AutoModel
    except ImportError:
        raise ImportError(
            f"model={name!r} is not a torchvision model name, so it is read as "
            "a Hugging Face model, which needs: pip install transformers"
        ) from None
    description = f"Hugging Face model {name!r}"
    source = name
    if weights not in (None, "DEFAULT"):
        if not is_local_path(weights):
            raise ValueError(
                f"weights={weights!r} for {description} must be 'DEFAULT', None "
                "or a local directory saved with save_pretrained."
            )
        source = os.path.expanduser(os.fspath(weights))
    config = _hf_load(AutoConfig.from_pretrained, source, "config")
    modality = hf_modality(config, description)
    if weights is None:
        model = seeded(seed, lambda: AutoModel.from_config(config))
        identity = f"hf:{name}:random:{module_fingerprint(model)}"
    else:
        model = _hf_load(AutoModel.from_pretrained, source, "weights")
        if os.path.isdir(os.path.expanduser(source)):
            identity = f"hf:dir:{path_fingerprint(os.path.expanduser(source))}"
        else:
            # transformers has no public accessor for the hub commit a loaded
            # snapshot came from: the weights themselves are fingerprinted.
            identity = f"hf:{name}:{module_fingerprint(model)}"
    tokenizer, processor = hf_preprocessors(
        source, modality, required=modality == "text"
    )
    return hf_teacher(model, modality, description, identity, tokenizer, processor)


def is_hf_module(module):
    # A module can only be a PreTrainedModel if transformers is imported
    # already; checking sys.modules spares plain modules a slow import.
    transformers = sys.modules.get("transformers")
    return transformers is not None and isinstance(module, transformers.PreTrainedModel)
