"""Export a fitted head, with its projection, as one small torch module.

"Train big, deploy small": what ships is the head (``k * C + C`` numbers for
a linear head) plus the *recipe* of the projection -- family, shape, seed,
density -- never its ``k x d`` matrix. The matrix is regenerated from the
recipe when the module is built or unpickled, and lives in a non-persistent
buffer, so neither ``state_dict()`` nor a pickle carries it.
"""

import copy

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._param_validation import validate_params
from ..projection import JLSubspaceTransformer, make_projection
from ._classifier import SubspaceHeadClassifier

_ACCEPTED = (
    "a fitted SubspaceHeadClassifier, or a fitted Pipeline whose last step is "
    "a SubspaceHeadClassifier and whose other steps are JLSubspaceTransformer, "
    "StandardScaler or 'passthrough'"
)


class RegeneratedProjection(nn.Module):
    """A fixed random projection rebuilt from its spec, never stored.

    Parameters
    ----------
    spec : dict
        ``projection``, ``n_components``, ``n_features``, ``seed`` and
        ``density``, as in ``JLSubspaceTransformer.projection_spec_``.

    Attributes
    ----------
    spec : dict
        The recipe of the map.
    weight : torch.Tensor of shape (n_components, n_features)
        The dense float32 matrix, in a non-persistent buffer.
    """

    def __init__(self, spec):
        super().__init__()
        self.spec = dict(spec)
        self.register_buffer("weight", self._regenerate(), persistent=False)

    def _regenerate(self):
        dense = make_projection(**self.spec, dtype=np.float32).to_dense()
        return torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32))

    def forward(self, X):
        return nn.functional.linear(X, self.weight)

    def __reduce__(self):
        # Pickles (and torch.save, deepcopy) carry the recipe, not the matrix.
        # The copy is rebuilt on the CPU, so that it loads on machines without
        # the device it was saved from; move it with .to() afterwards.
        return (_rebuild_projection, (self.spec, self.training))

    def extra_repr(self):
        spec = self.spec
        return (
            f"{spec['projection']}, {spec['n_features']} -> "
            f"{spec['n_components']}, seed={spec['seed']}"
        )


def _rebuild_projection(spec, training):
    """The unpickled :class:`RegeneratedProjection` of ``spec``."""
    return RegeneratedProjection(spec).train(training)


class Standardize(nn.Module):
    """``(X - mean) / scale``, from a fitted ``StandardScaler``.

    Parameters
    ----------
    mean : array-like of shape (n_features,) or None
        Per-feature mean; None means no centering.
    scale : array-like of shape (n_features,) or None
        Per-feature scale; None means no scaling.
    """

    def __init__(self, mean, scale):
        super().__init__()
        n = len(mean if mean is not None else scale)
        mean = np.zeros(n) if mean is None else mean
        scale = np.ones(n) if scale is None else scale
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, X):
        return (X - self.mean) / self.scale


class SubspaceClassifierModule(nn.Module):
    """Raw features to logits: regenerated projection(s), then the head.

    Built by :func:`export_torch`; not meant to be constructed by hand.

    Parameters
    ----------
    steps : list of torch.nn.Module
        Fixed feature maps applied in order before the head.
    head : torch.nn.Module
        The trained head, mapping the last step's output to logits.
    n_features : int
        Width ``d`` of the raw input features.
    classes : ndarray of shape (n_classes,)
        Labels of the logits' columns.

    Attributes
    ----------
    steps : torch.nn.Sequential
        The fixed maps (:class:`RegeneratedProjection`, ``Standardize``).
    head : torch.nn.Module
        The trained head.
    n_features : int
        Width of the raw input features.
    classes_ : ndarray of shape (n_classes,)
        ``classes_[logits.argmax(1)]`` are the pipeline's predictions.

    See Also
    --------
    export_torch : Builds this module from a fitted estimator.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_subspace.head import SubspaceHeadClassifier, export_torch
    >>> from sklearn_subspace.projection import JLSubspaceTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> pipe = make_pipeline(
    ...     JLSubspaceTransformer(16, random_state=0),
    ...     SubspaceHeadClassifier(max_epochs=3, device="cpu", random_state=0),
    ... ).fit(X, y)
    >>> module = export_torch(pipe)
    >>> list(module.state_dict())  # the head only: the 16 x 64 map is regenerated
    ['head.layers.0.weight', 'head.layers.0.bias']
    >>> logits = module(torch.from_numpy(X[:5]))
    >>> bool((module.classes_[logits.argmax(1)] == pipe.predict(X[:5])).all())
    True
    >>> module.size_report()["stored_parameters"]
    170
    """

    def __init__(self, steps, head, *, n_features, classes):
        super().__init__()
        self.steps = nn.Sequential(*steps)
        self.head = head
        self.n_features = int(n_features)
        self.classes_ = np.asarray(classes)

    def forward(self, X):
        if X.shape[-1] != self.n_features:
            raise ValueError(
                "Input has the wrong number of features: expected "
                + str(self.n_features)
                + ", got "
                + str(X.shape[-1])
                + ". Pass the raw features the pipeline was fitted on."
            )
        return self.head(self.steps(X.to(torch.float32)))

    def size_report(self):
        """Count what the module stores against a full-width linear head.

        Returns
        -------
        report : dict
            ``n_features`` (d), ``n_components`` (width entering the head),
            ``n_classes`` (C), ``stored_parameters`` and ``stored_bytes``
            (everything in ``state_dict()``), ``regenerated_elements``
            (projection entries rebuilt from seeds, not stored),
            ``full_linear_head_parameters`` (``d * C + C``, a linear head
            on the raw features) and ``compression_ratio`` (full over
            stored).
        """
        state = self.state_dict()
        stored = sum(t.numel() for t in state.values())
        stored_bytes = sum(t.numel() * t.element_size() for t in state.values())
        regenerated = sum(
            m.weight.numel()
            for m in self.modules()
            if isinstance(m, RegeneratedProjection)
        )
        width = self.n_features
        for step in self.steps:
            if isinstance(step, RegeneratedProjection):
                width = step.spec["n_components"]
        n_classes = len(self.classes_)
        full = self.n_features * n_classes + n_classes
        return {
            "n_features": self.n_features,
            "n_components": width,
            "n_classes": n_classes,
            "stored_parameters": stored,
            "stored_bytes": stored_bytes,
            "regenerated_elements": regenerated,
            "full_linear_head_parameters": full,
            "compression_ratio": full / stored,
        }


def _step_module(step, name):
    """The torch module for one fitted pre-head step, or None to skip it."""
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return None
    if isinstance(step, JLSubspaceTransformer):
        check_is_fitted(step, "projection_spec_")
        return RegeneratedProjection(step.projection_spec_)
    if isinstance(step, StandardScaler):
        check_is_fitted(step)
        return Standardize(step.mean_, step.scale_)
    raise TypeError(
        f"export_torch cannot export the pipeline step {name!r} "
        f"({type(step).__name__}). It accepts {_ACCEPTED}."
    )


@validate_params(
    {"estimator": [SubspaceHeadClassifier, Pipeline]},
    prefer_skip_nested_validation=True,
)
def export_torch(estimator):
    """Export a fitted head or projection + head pipeline as a torch module.

    The module maps raw ``d``-dimensional float features to logits. Each
    ``JLSubspaceTransformer`` is exported as its recipe (family, ``k``,
    ``d``, seed, density) and rebuilt with ``make_projection`` into a
    non-persistent buffer, so ``state_dict()``, pickles and ``torch.save``
    hold the head weights (and any scaler statistics) only.

    Parameters
    ----------
    estimator : SubspaceHeadClassifier or sklearn.pipeline.Pipeline
        A fitted ``SubspaceHeadClassifier``, or a fitted ``Pipeline`` whose
        last step is one and whose other steps are ``JLSubspaceTransformer``,
        ``StandardScaler`` or ``"passthrough"``. Other transformers (e.g. a
        feature extractor) are rejected with a ``TypeError``: export the
        part of the pipeline after them.

    Returns
    -------
    module : SubspaceClassifierModule
        A CPU module in eval mode. ``module.classes_[logits.argmax(1)]``
        reproduces the estimator's ``predict``. It can be compiled with
        ``torch.jit.script`` or ``torch.export.export``, and
        ``module.size_report()`` counts what it stores.

    See Also
    --------
    SubspaceHeadClassifier : The head being exported.
    sklearn_subspace.projection.JLSubspaceTransformer : The projection.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_subspace.head import SubspaceHeadClassifier, export_torch
    >>> from sklearn_subspace.projection import JLSubspaceTransformer
    >>> X, y = make_classification(200, n_features=256, random_state=0)
    >>> X = X.astype(np.float32)
    >>> pipe = make_pipeline(
    ...     JLSubspaceTransformer(32, projection="sparse", random_state=0),
    ...     SubspaceHeadClassifier(max_epochs=5, device="cpu", random_state=0),
    ... ).fit(X, y)
    >>> module = export_torch(pipe)
    >>> report = module.size_report()
    >>> report["stored_parameters"], report["full_linear_head_parameters"]
    (66, 514)
    >>> X_t = torch.from_numpy(X)
    >>> program = torch.export.export(module, (X_t[:8],))
    >>> bool(torch.allclose(program.module()(X_t[:8]), module(X_t[:8])))
    True
    """
    if isinstance(estimator, Pipeline):
        named_steps = list(estimator.steps)
    else:
        named_steps = [("head", estimator)]
    *pre_steps, (head_name, head) = named_steps
    if not isinstance(head, SubspaceHeadClassifier):
        raise TypeError(
            f"export_torch needs {_ACCEPTED}; the last step {head_name!r} is "
            f"a {type(head).__name__}."
        )
    check_is_fitted(head)

    modules = [_step_module(step, name) for name, step in pre_steps]
    modules = [m for m in modules if m is not None]

    # Each step's width must feed the next: catches hand-assembled pipelines
    # whose steps were fitted separately on different data.
    n_features = None
    width = None
    for module, (name, step) in zip(
        modules, [(n, s) for n, s in pre_steps if s not in (None, "passthrough")]
    ):
        d_in = step.n_features_in_
        if n_features is None:
            n_features = d_in
        elif d_in != width:
            raise ValueError(
                f"Step {name!r} expects {d_in} features but the step before "
                f"it outputs {width}. Refit the pipeline as a whole."
            )
        width = (
            module.spec["n_components"]
            if isinstance(module, RegeneratedProjection)
            else d_in
        )
    if width is not None and width != head.n_features_in_:
        raise ValueError(
            f"The head expects {head.n_features_in_} features but the steps "
            f"before it output {width}. Refit the pipeline as a whole."
        )
    if n_features is None:
        n_features = head.n_features_in_

    head_module = copy.deepcopy(head.net_.module_).to("cpu").eval()
    exported = SubspaceClassifierModule(
        modules, head_module, n_features=n_features, classes=head.classes_
    )
    return exported.eval()
