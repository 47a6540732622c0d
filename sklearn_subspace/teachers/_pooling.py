"""Where features are read from a teacher, and how they are pooled to (n, d).

A *site* names the tensor to read: a module's output (any ``layer=``), a
module's input (the input of a classifier head is the pooled feature) or the
whole model's output. A forward hook grabs the tensor and stops the forward
pass right there, so the layers after it are never computed.
"""

import contextlib
from dataclasses import dataclass

import torch

POOLING_OPTIONS = ("auto", "cls", "mean", "avg", "max")


class _StopForward(Exception):
    """Raised by a capture hook once it holds the wanted tensor."""


@dataclass(frozen=True)
class Site:
    """The tensor to read from a teacher.

    Parameters
    ----------
    module : str or None
        Name of the module in ``model.named_modules()``; None for the model
        output.
    io : {"output", "input"}
        Whether to read the module's output or its (first) input.
    method : str
        How to call the model: ``"forward"``, or timm's ``"timm_features"``
        (``forward_features``) and ``"timm_pre_logits"``.
    """

    module: str | None = None
    io: str = "output"
    method: str = "forward"


def _first_tensor(value):
    """The main tensor of a module output (tensor, tuple or ModelOutput)."""
    if isinstance(value, torch.Tensor):
        return value
    hidden = getattr(value, "last_hidden_state", None)
    if isinstance(hidden, torch.Tensor):
        return hidden
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)) and value:
        return _first_tensor(value[0])
    raise TypeError(
        f"Cannot read features from a module output of type {type(value).__name__}."
    )


def _call(model, method, inputs):
    if method == "timm_features":
        return model.forward_features(inputs)
    if method == "timm_pre_logits":
        return model.forward_head(model.forward_features(inputs), pre_logits=True)
    if isinstance(inputs, dict):
        return model(**inputs)
    return model(inputs)


def run_site(model, site, inputs):
    """Run ``model`` on ``inputs`` and return the raw value at ``site``."""
    if site.module is None:
        return _call(model, site.method, inputs)
    module = model.get_submodule(site.module)
    captured = []
    if site.io == "input":

        def hook(_module, args, kwargs):
            captured.append(args[0] if args else next(iter(kwargs.values())))
            raise _StopForward

        handle = module.register_forward_pre_hook(hook, with_kwargs=True)
    else:

        def hook(_module, _args, output):
            captured.append(output)
            raise _StopForward

        handle = module.register_forward_hook(hook)
    try:
        with contextlib.suppress(_StopForward):
            _call(model, site.method, inputs)
    finally:
        handle.remove()
    if not captured:
        raise ValueError(
            f"Layer {site.module!r} was not called during the forward pass, so "
            "it has no features. Pick a layer that the model runs."
        )
    return captured[0]


def _masked_mean(hidden, mask):
    mask = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)


def _masked_max(hidden, mask):
    fill = torch.finfo(hidden.dtype).min
    return hidden.masked_fill(~mask.bool().unsqueeze(-1), fill).amax(1)


def _hf_auto(output, modality):
    """The method's feature from a Hugging Face model output."""
    pooled = getattr(output, "pooler_output", None)
    hidden = output.last_hidden_state
    if hidden.ndim == 3:
        # Text: BERT's pooler_output (tanh of a dense layer over CLS).
        # Vision transformers: the CLS token of the last hidden state.
        if modality == "text" and pooled is not None:
            return pooled
        return hidden[:, 0]
    if pooled is not None:  # convolutional backbones pool for us
        return pooled.flatten(1)
    return hidden.flatten(2).mean(-1)


def pool(value, pooling, *, attention_mask=None, modality=None, where="output"):
    """Reduce a site's value to an (n, d) tensor.

    ``"auto"``: a Hugging Face output gives ``pooler_output`` for text and
    the CLS token for vision transformers; an (n, d) tensor is kept; token
    sequences (n, T, d) give their first (CLS) token; feature maps
    (n, C, H, W) their spatial average. ``"cls"``: first token. ``"mean"``:
    average over tokens that the attention mask keeps (all tokens / positions
    without a mask). ``"avg"``: plain average over all tokens or positions.
    ``"max"``: maximum over kept tokens or all positions.
    """
    if pooling == "auto" and hasattr(value, "last_hidden_state"):
        return _hf_auto(value, modality)
    tensor = _first_tensor(value)
    if tensor.ndim == 1:
        tensor = tensor[:, None]
    if tensor.ndim == 2:
        if pooling != "auto":
            raise ValueError(
                f"pooling={pooling!r} needs token or spatial axes, but the "
                f"{where} is already pooled with shape {tuple(tensor.shape)}. "
                "Use pooling='auto', or pick an earlier layer with layer=."
            )
        return tensor
    if tensor.ndim == 3:  # (n, tokens, d)
        if pooling in ("auto", "cls"):
            return tensor[:, 0]
        mask = attention_mask
        if mask is not None and mask.shape[:2] != tensor.shape[:2]:
            mask = None  # e.g. a layer that changed the sequence length
        if pooling == "mean":
            return tensor.mean(1) if mask is None else _masked_mean(tensor, mask)
        if pooling == "avg":
            return tensor.mean(1)
        return tensor.amax(1) if mask is None else _masked_max(tensor, mask)
    # (n, C, *spatial) feature maps
    if pooling == "cls":
        raise ValueError(
            f"pooling='cls' needs a token sequence (n, tokens, d), but the "
            f"{where} is a feature map of shape {tuple(tensor.shape)}. Use "
            "pooling='avg' or 'max'."
        )
    flat = tensor.flatten(2)
    return flat.amax(-1) if pooling == "max" else flat.mean(-1)
