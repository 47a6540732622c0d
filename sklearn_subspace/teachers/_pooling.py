"""Where features are read from a teacher, and how they are pooled to (n, d).

A *site* names the tensor to read: a module's output (any ``layer=``), a
module's input (the input of a classifier head is the pooled feature), a
node of the model's ``torch.fx`` graph (torchvision's
``get_graph_node_names``, which also names functional ops such as
``F.relu``) or the whole model's output. A forward hook grabs a module's
tensor and stops the forward pass right there, so the layers after it are
never computed; the first batch runs the whole model once to check that the
module runs only once per forward pass.

Pooling never mixes samples: token pooling skips the padding of a batch, so a
text gets the same features whatever batch it is in.
"""

import contextlib
import re
import weakref
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
    io : {"output", "input", "node"}
        Whether to read the module's output or its (first) input, or, for
        ``"node"``, the output of the ``torch.fx`` graph node named
        ``module``.
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


# Per model: the hooked sites already seen to run once per forward pass, and
# the fx feature extractors built for graph-node sites.
_CHECKED_SITES = weakref.WeakKeyDictionary()
_NODE_EXTRACTORS = weakref.WeakKeyDictionary()
NODE_PREFIX = "node:"


def graph_node_names(model):
    """Node names of ``model``'s fx graph in eval mode (empty if untraceable)."""
    try:
        from torchvision.models.feature_extraction import get_graph_node_names

        return get_graph_node_names(model)[1]
    except Exception:  # models that torch.fx cannot trace have no node names
        return []


def _node_extractor(model, name):
    from torchvision.models.feature_extraction import create_feature_extractor

    built = _NODE_EXTRACTORS.setdefault(model, {})
    if name not in built:
        extractor = create_feature_extractor(
            model, train_return_nodes=[name], eval_return_nodes=[name]
        )
        built[name] = extractor.train(model.training)
    return built[name]


def _reused_message(model, name, n_calls):
    nodes = [
        node
        for node in graph_node_names(model)
        if node == name or re.fullmatch(re.escape(name) + r"_\d+", node)
    ]
    if nodes:
        choice = ", ".join(repr(NODE_PREFIX + node) for node in nodes)
        how = (
            f"Pick one call by its graph node name: {choice}, in call order "
            "(torchvision.models.feature_extraction.get_graph_node_names; the "
            f"{NODE_PREFIX!r} prefix may be left out for names that are not "
            "module names), or give each use its own module."
        )
    else:
        how = (
            "torch.fx cannot trace this model, so its calls have no node "
            "names: give each use its own module (e.g. one nn.ReLU per place)."
        )
    return (
        f"Layer {name!r} runs {n_calls} times in one forward pass (the module "
        f"is reused), so which of its outputs to read is ambiguous. {how}"
    )


def _run_hooked(model, site, inputs):
    module = model.get_submodule(site.module)
    checked = _CHECKED_SITES.setdefault(model, set())
    # Until a site is seen to run once, the whole model runs and every call
    # is counted; afterwards the hook stops the forward pass at the site.
    stop = site in checked
    captured = []

    def keep(value):
        captured.append(value)
        if stop:
            raise _StopForward

    if site.io == "input":
        handle = module.register_forward_pre_hook(
            lambda _m, args, kwargs: keep(
                args[0] if args else next(iter(kwargs.values()))
            ),
            with_kwargs=True,
        )
    else:
        handle = module.register_forward_hook(lambda _m, _a, output: keep(output))
    try:
        with contextlib.suppress(_StopForward):
            _call(model, site.method, inputs)
    except Exception:
        # Layers after the site may fail (e.g. a head sized for other
        # inputs); the site ran, and later calls cannot be counted.
        if stop or not captured:
            raise
    finally:
        handle.remove()
    if not captured:
        raise ValueError(
            f"Layer {site.module!r} was not called during the forward pass, so "
            "it has no features. Pick a layer that the model runs."
        )
    if not stop:
        if len(captured) > 1:
            raise ValueError(_reused_message(model, site.module, len(captured)))
        checked.add(site)
    return captured[0]


def run_site(model, site, inputs):
    """Run ``model`` on ``inputs`` and return the raw value at ``site``."""
    if site.module is None:
        return _call(model, site.method, inputs)
    if site.io == "node":
        extractor = _node_extractor(model, site.module)
        return next(iter(_call(extractor, "forward", inputs).values()))
    return _run_hooked(model, site, inputs)


def _first_kept(hidden, mask):
    """The first token the mask keeps (position 0 unless padded on the left)."""
    first = mask.to(torch.int64).argmax(1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), first]


def _masked_mean(hidden, mask):
    mask = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)


def _masked_max(hidden, mask):
    fill = torch.finfo(hidden.dtype).min
    return hidden.masked_fill(~mask.bool().unsqueeze(-1), fill).amax(1)


def _hf_auto(output, modality, attention_mask):
    """The method's feature from a Hugging Face model output."""
    pooled = getattr(output, "pooler_output", None)
    hidden = output.last_hidden_state
    if hidden.ndim == 3:
        # Text: BERT's pooler_output (tanh of a dense layer over CLS).
        # Vision transformers: the CLS token of the last hidden state.
        if modality == "text" and pooled is not None:
            return pooled
        if attention_mask is not None and attention_mask.shape == hidden.shape[:2]:
            return _first_kept(hidden, attention_mask)
        return hidden[:, 0]
    if pooled is not None:  # convolutional backbones pool for us
        return pooled.flatten(1)
    return hidden.flatten(2).mean(-1)


def _usable_mask(mask, tensor, pooling, where):
    """The attention mask if it fits ``tensor``'s tokens; None if not needed."""
    if mask is None or mask.shape == tensor.shape[:2]:
        return mask
    if mask.shape[0] != tensor.shape[0]:
        # Not one row per text (a position embedding): the caller refuses
        # the pooled rows, naming what is wrong.
        return None
    if pooling in ("auto", "cls") or bool(mask.bool().all()):
        # Position 0 is the same token in any batch padded on the right;
        # without padding there is nothing to leave out.
        return None
    raise ValueError(
        f"pooling={pooling!r} cannot leave out the padding of this batch: the "
        f"{where} has {tensor.shape[1]} positions but the attention mask "
        f"{mask.shape[1]} tokens, so a text's features would depend on the "
        "other texts in its batch. Pick a layer that keeps the token axis, or "
        "use batch_size=1."
    )


def pool(value, pooling, *, attention_mask=None, modality=None, where="output"):
    """Reduce a site's value to an (n, d) tensor.

    ``"auto"``: a Hugging Face output gives ``pooler_output`` for text and
    the CLS token for vision transformers; an (n, d) tensor is kept; token
    sequences (n, T, d) give their first (CLS) token; feature maps
    (n, C, H, W) their spatial average. ``"cls"``: first token. ``"mean"``
    and ``"avg"``: average over the tokens the attention mask keeps, or over
    all positions of a feature map. ``"max"``: maximum over kept tokens or
    all positions.

    With an attention mask, padding never counts: the first token is the
    first kept one, and a layer whose sequence length differs from the
    mask's is refused when the batch holds padding, since its padded
    positions cannot be told apart. So a sample's features do not depend on
    the batch it is in.
    """
    if pooling == "auto" and hasattr(value, "last_hidden_state"):
        return _hf_auto(value, modality, attention_mask)
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
        mask = _usable_mask(attention_mask, tensor, pooling, where)
        if pooling in ("auto", "cls"):
            return tensor[:, 0] if mask is None else _first_kept(tensor, mask)
        if pooling in ("mean", "avg"):
            return tensor.mean(1) if mask is None else _masked_mean(tensor, mask)
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
