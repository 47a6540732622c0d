"""What a built teacher is, and the helpers every model zoo shares."""

import difflib
import inspect
import os
import threading
from dataclasses import dataclass, field

import torch
from torch import nn

from .._offline import offline  # noqa: F401  (the zoos import it from here)
from ._inputs import ImageBatchBuilder, TensorBatchBuilder, TextBatchBuilder
from ._pooling import NODE_PREFIX, Site, graph_node_names


class WeightsUnavailableError(OSError):
    """Pretrained weights (or a model's files) are not available locally.

    Raised when a teacher asks for weights that are neither on disk nor
    downloadable, e.g. on an offline machine. The message names what was
    looked for, where, and how to provide it: a local file or directory, a
    cache directory (``TORCH_HOME``, ``HF_HOME``), or ``weights=None`` for a
    randomly initialised model.

    See Also
    --------
    TorchFeatureExtractor : The transformer that loads teachers.

    Examples
    --------
    >>> from sklearn_subspace.teachers import WeightsUnavailableError
    >>> issubclass(WeightsUnavailableError, OSError)
    True
    """


def seeded(seed, build):
    """Call ``build()`` with torch's RNG seeded, leaving the global RNG as is."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def is_local_path(weights):
    return isinstance(weights, (str, os.PathLike)) and os.path.exists(
        os.path.expanduser(os.fspath(weights))
    )


@dataclass(eq=False)
class Teacher:
    """A built, frozen teacher and everything needed to run it."""

    model: nn.Module
    modality: str  # "image", "text" or "tensor"
    description: str  # for messages, e.g. "torchvision model 'resnet50'"
    identity: str  # stable digest or name of architecture + weights
    preprocessing: dict  # what the preprocessing is, for the cache key
    auto_site: Site
    hidden_site: Site | None
    transform: object = None  # tensor transform for raw images
    processor: object = None  # Hugging Face image processor
    tokenizer: object = None
    hf: bool = False
    rebuildable: bool = True  # can params rebuild exactly this model?
    # Why the identity cannot be known (hooks, state with no fingerprint, a
    # module that stays in training mode); such features are never cached.
    unidentified: str | None = None
    lock: object = field(default_factory=threading.Lock)
    _node_names: list | None = field(default=None, repr=False)
    _output_layer: tuple | None = field(default=None, repr=False)

    @classmethod
    def image(cls, model, transform, *, description, identity, auto_site, hidden_site):
        """A teacher of images whose preprocessing is ``transform`` alone."""
        return cls(
            model=model,
            modality="image",
            description=description,
            identity=identity,
            # The transform's repr states its every setting: the cache key.
            preprocessing={"transform": repr(transform)},
            auto_site=auto_site,
            hidden_site=hidden_site,
            transform=transform,
        )

    @property
    def is_cnn(self):
        return any(isinstance(m, nn.Conv2d) for m in self.model.modules())

    def layer_names(self):
        return [name for name, _ in self.model.named_modules() if name]

    def node_names(self):
        """Names of the model's fx graph nodes (empty when untraceable)."""
        if self._node_names is None:
            with self.lock:  # tracing switches train/eval mode for a moment
                self._node_names = graph_node_names(self.model)
        return self._node_names

    def _layer_site(self, layer):
        names = self.layer_names()
        if layer in names:
            return Site(layer, "output")
        node = layer.removeprefix(NODE_PREFIX)
        if node in self.node_names():
            return Site(node, "node")
        close = difflib.get_close_matches(layer, names, n=5)
        shown = ", ".join(repr(n) for n in names[:200])
        more = f" ... and {len(names) - 200} more" if len(names) > 200 else ""
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        nodes = (
            " Graph node names (torchvision's get_graph_node_names, for "
            "functional ops and reused modules) work too."
            if self.node_names()
            else ""
        )
        raise ValueError(
            f"Unknown layer {layer!r} for {self.description}.{hint} Valid "
            f"layer names (from model.named_modules()): {shown}{more}.{nodes}"
        )

    def output_layer(self):
        """``(linear, feeder)`` when a plain module's output comes from an
        ``nn.Linear`` -- as a classifier's logits do -- else None.

        ``linear`` names that layer, ``feeder`` the module whose output it
        reads (None when unknown).
        """
        if self._output_layer is None:
            with self.lock:
                self._output_layer = (_final_linear(self.model),)
        return self._output_layer[0]

    def site(self, layer, pooling):
        """The :class:`Site` for the extractor's ``layer`` and ``pooling``."""
        if layer is not None:
            return self._layer_site(layer)
        if pooling == "auto":
            return self.auto_site
        if self.hidden_site is None:
            raise ValueError(
                f"pooling={pooling!r} needs unpooled features, and "
                f"{self.description} has no known unpooled output. Choose one "
                "with layer=<module name> (see model_.named_modules())."
            )
        return self.hidden_site

    def batch_builder(self, preprocess, max_length):
        if self.modality == "text":
            if self.tokenizer is None:
                raise ValueError(
                    f"No tokenizer was found for {self.description}. Save it "
                    "next to the model (tokenizer.save_pretrained(path) and "
                    "model.save_pretrained(path)) and pass model='hf:<path>'."
                )
            return TextBatchBuilder(
                self.tokenizer, max_length, _accepted_keys(self.model)
            )
        if self.modality == "image":
            return ImageBatchBuilder(
                self.transform, self.processor, preprocess, as_dict=self.hf
            )
        return TensorBatchBuilder()


def _final_linear(model):
    """(name of the nn.Linear computing ``model``'s output, module feeding it).

    Read from the fx graph when torch.fx can trace the model, else from the
    last layers of nested ``nn.Sequential`` containers; None when the output
    is not a Linear's output or cannot be known.
    """
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # not traceable: only nn.Sequential is understood
        return _final_linear_of_sequential(model)
    modules = dict(model.named_modules())
    result = next(node for node in graph.nodes if node.op == "output").args[0]
    if not (
        isinstance(result, torch.fx.Node)
        and result.op == "call_module"
        and isinstance(modules.get(result.target), nn.Linear)
    ):
        return None
    feeder = result.args[0] if result.args else None
    # Walk back through functional ops (flatten, view, ...) to a module.
    while isinstance(feeder, torch.fx.Node) and feeder.op in (
        "call_function",
        "call_method",
    ):
        feeder = feeder.args[0] if feeder.args else None
    before = (
        feeder.target
        if isinstance(feeder, torch.fx.Node) and feeder.op == "call_module"
        else None
    )
    return result.target, before


def _final_linear_of_sequential(model):
    prefix, feeder = "", None
    while isinstance(model, nn.Sequential) and len(model):
        names = [name for name, _ in model.named_children()]
        if len(names) > 1:
            feeder = prefix + names[-2]
        prefix, model = prefix + names[-1], model[-1]
        if isinstance(model, nn.Sequential):
            prefix += "."
    if isinstance(model, nn.Linear) and prefix:
        return prefix, feeder
    return None


def _accepted_keys(model):
    """Keyword arguments ``model.forward`` takes (None when it takes any)."""
    params = inspect.signature(model.forward).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}
