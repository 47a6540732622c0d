"""``TorchFeatureExtractor``: a frozen deep teacher as a scikit-learn transformer."""

import copy
import enum
import os
import threading
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from .._device import resolve_device
from .._frames import check_numeric_columns
from .._param_validation import Interval, StrOptions, _fit_context
from ._cache import FORMAT_VERSION, STORAGES, FeatureCache
from ._identity import (
    digest_json,
    library_versions,
    numerics_description,
    object_description,
)
from ._inputs import PREPROCESS_OPTIONS, parse_images, parse_texts
from ._pooling import POOLING_OPTIONS
from ._runner import PRECISION_OPTIONS, resolve_precision, run_teacher
from ._zoo import get_teacher, teacher_from_module

# Feature width per extraction setting, so refitted clones skip the probe.
_N_FEATURES = {}
_N_FEATURES_LOCK = threading.Lock()


def _unique_in_order(keys):
    """Distinct rows of ``keys`` in order of first appearance.

    Returns ``(first, inverse)``: ``keys[first]`` are the distinct keys and
    ``keys[first][inverse]`` rebuilds ``keys``.
    """
    rows = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1])))
    _, first, inverse = np.unique(rows.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[inverse.ravel()]


class TorchFeatureExtractor(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Features of a frozen deep network (a "teacher") as a transformer.

    Runs a pretrained torchvision, timm or Hugging Face model -- or any
    ``torch.nn.Module`` -- in inference mode and returns one pooled feature
    vector per sample: for the paper's teachers, the global-average-pool
    output of ResNet-50 (2048), the CLS token of ViT-B/16's last hidden
    state (768) and BERT's ``pooler_output`` (768).

    The model is built in :meth:`fit`, so the extractor clones and grid
    searches like any estimator; clones that ask for the same model share
    one loaded copy in memory. With ``cache_dir`` set, features are stored on
    disk per sample content and reused by every later call (any subset,
    order or duplicate of samples seen before), so cross-validation runs the
    teacher once per distinct sample, and an interrupted run resumes.

    Parameters
    ----------
    model : str, torch.nn.Module or callable, default="resnet50"
        The teacher:

        - a torchvision classification model name (``"resnet50"``,
          ``"vit_b_16"``, ...);
        - ``"timm:<name>"`` for a timm model;
        - ``"hf:<name or directory>"``, or any other string, for a Hugging
          Face model (``"bert-base-uncased"``,
          ``"google/vit-base-patch16-224"``, a ``save_pretrained`` folder);
        - a ``torch.nn.Module``: used as is (a copy, in eval mode). A
          Hugging Face ``PreTrainedModel`` keeps its tokenizer or image
          processor when one is saved at ``model.name_or_path`` (a model
          with a task head gives its base model's features); any other
          module gets numeric arrays as float32 tensors, uint8 arrays
          scaled to [0, 1] like images (cast to float first to keep
          0-255);
        - a callable with no arguments returning an ``nn.Module``.

        In grid searches prefer a name or a callable: every clone deep-copies
        a module passed in (and ``fit`` hashes its weights).
    weights : str, path-like, torchvision weights enum or None, default="DEFAULT"
        ``"DEFAULT"``: the model's standard pretrained weights. torchvision
        also takes weight names (``"IMAGENET1K_V2"``) or members of its
        weights enums, timm a pretrained tag.
        A local file (torchvision ``state_dict``, timm checkpoint) or a
        ``save_pretrained`` directory (Hugging Face) loads from disk. None
        builds a randomly initialised model, seeded by ``random_state``.
        Weights are looked up in the usual caches (``TORCH_HOME``,
        ``HF_HOME``) first; if they are missing and cannot be downloaded, a
        :class:`WeightsUnavailableError` says what was looked for and how to
        provide it. Set ``SKLEARN_SUBSPACE_OFFLINE=1`` (or ``HF_HUB_OFFLINE``)
        to never try the network.
    layer : str or None, default=None
        Name of the module (as in ``model_.named_modules()``) whose output is
        the feature, read with a forward hook that also stops the forward pass
        there. A module that runs several times in one forward pass (a
        reused ``nn.ReLU``) is refused; read one of its calls, or a
        functional op such as ``F.relu``, by its ``torch.fx`` graph node
        name (torchvision's ``get_graph_node_names``; prefix ``"node:"``
        when the name is also a module name). None: the method's standard
        feature (see ``pooling``); for a plain module, its output, with a
        warning when that comes from an ``nn.Linear`` (likely a classifier's
        logits) naming the layer to pass instead. An unknown name raises an
        error listing the valid names.
    pooling : {"auto", "cls", "mean", "avg", "max"}, default="auto"
        How the layer's output becomes one vector per sample. ``"auto"``:
        with ``layer=None`` the standard feature (input of the classifier head
        for torchvision models, timm's pre-logits, ``pooler_output`` for
        Hugging Face text models, CLS token for Hugging Face vision
        transformers); for a layer, an (n, d) output is kept, token
        sequences give their first token and feature maps their spatial
        average. ``"cls"``: first token. ``"mean"`` and ``"avg"``: average
        over the tokens the attention mask keeps (all positions for images).
        ``"max"``: maximum over kept tokens or positions. Padding never
        counts, so a text gets the same features whatever batch it is in.
        With ``layer=None`` an explicit pooling reads the unpooled last
        representation (e.g. ResNet's last feature map, ViT's token
        sequence).
    batch_size : int, default=64
        Samples per forward pass, and per cache shard.
    device : str or torch.device, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU. ``"cuda"`` without a
        GPU raises a ``ValueError`` saying how to fix it.
    precision : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Compute precision, by autocast. ``"auto"`` is bfloat16 on CUDA and
        float32 elsewhere. Features are always returned as float32.
    num_workers : int, default=0
        DataLoader worker processes that load and preprocess the next batches
        while the teacher runs (worth it for image files). 0 prepares batches
        in this process.
    max_length : int, default=128
        Texts (and text pairs, together) are truncated to this many tokens.
    preprocess : {"auto", "always", "never"}, default="auto"
        ``"auto"``: uint8 arrays, PIL images and image files get the
        teacher's own preprocessing (the torchvision weights' transforms,
        timm's data config or the Hugging Face image processor); float arrays
        are taken as already prepared and only put in NCHW layout.
        ``"always"``: float arrays too are raw images with values in [0, 1].
        ``"never"``: only the layout is fixed and uint8 is scaled to [0, 1].
        Image arrays are channels-first when ``X.shape[1]`` is 1, 3 or 4,
        otherwise channels-last. Texts are always tokenized. A plain
        ``nn.Module`` has no preprocessing of its own: under every option it
        gets uint8 arrays scaled to [0, 1] and other arrays as float32.
    random_state : int, RandomState instance or None, default=0
        Seeds the random initialisation when ``weights=None``, so that every
        fit (and every clone) builds the same random teacher. Ignored for
        pretrained weights and modules passed in.
    cache_dir : str, path-like or None, default=None
        Directory of the on-disk feature cache. Features are keyed by the
        model identity (class code, attributes and weights), layer, pooling,
        preprocessing, device, precision and numerics settings (TF32, matmul
        precision) and library versions, and per sample by a hash of its
        content; they are written batch by batch with atomic renames, so
        several processes may share the directory and a killed run resumes
        where it stopped. A model whose identity cannot be established (a
        forward hook, a module left in training mode, an attribute with no
        readable state) is run without the cache, with a warning. None
        disables caching.
    cache_storage : {"float32", "compressed", "float16"}, default="float32"
        How the cache stores features. ``"float32"`` keeps them as computed,
        uncompressed (fastest to read). ``"compressed"`` keeps the same
        values in zlib-compressed shards: post-ReLU features are mostly
        zeros and take several times less disk, for a slower write and read
        (``benchmarks/bench_cache.py`` measures both). ``"float16"`` rounds
        the features to float16 and compresses them: the smallest, and
        lossy, so the extractor then returns float16-rounded features (as
        float32) whether or not they come from the cache, and they are
        cached apart from the exact ones.
    progress : bool, default=False
        Show a tqdm progress bar over batches.

    Attributes
    ----------
    model_ : torch.nn.Module
        The frozen teacher, in eval mode on ``device_``. Shared with other
        extractors that use the same model; do not modify it.
    model_id_ : str
        Stable identity of the teacher (class code, attributes and weights),
        part of the cache key; ``"module:unidentified"`` when it cannot be
        established, and then nothing is cached.
    modality_ : {"image", "text", "tensor"}
        What the teacher reads: images, texts (or pairs), or numeric arrays
        passed unchanged.
    device_ : torch.device
        Where the teacher runs.
    precision_ : {"float32", "bfloat16", "float16"}
        The resolved compute precision.
    n_features_out_ : int
        Width ``d`` of the features.
    n_features_in_ : int
        Number of features seen in ``fit``; only for numeric arrays given to
        a plain module.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``; only for a DataFrame given to
        a plain module.

    See Also
    --------
    forward_pass_count : Samples pushed through teachers in this process.
    clear_model_cache : Free the teachers kept in memory.
    sklearn.random_projection.GaussianRandomProjection : A random projection
        to apply to these features.

    Notes
    -----
    A pickled extractor leaves out the teacher whenever its arguments can
    rebuild it (a model name with pretrained or seeded random weights, or a
    module passed in, which is pickled as the ``model`` parameter, on CPU);
    only a teacher built by a callable is stored, on CPU. Unpickling works on
    any machine: the device is resolved again there.

    Examples
    --------
    A tiny network on 8-dimensional vectors (any ``nn.Module`` works):

    >>> import numpy as np
    >>> import torch
    >>> from sklearn_subspace.teachers import TorchFeatureExtractor
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU())
    >>> X = np.random.RandomState(0).rand(10, 8).astype(np.float32)
    >>> extractor = TorchFeatureExtractor(net, device="cpu")
    >>> features = extractor.fit_transform(X)
    >>> features.shape, features.dtype
    ((10, 16), dtype('float32'))
    >>> extractor.get_feature_names_out()[:2]
    array(['torchfeatureextractor0', 'torchfeatureextractor1'], dtype=object)

    A pretrained ResNet-50 on uint8 images (downloads its weights once):

    >>> images = np.zeros((4, 224, 224, 3), dtype=np.uint8)
    >>> TorchFeatureExtractor("resnet50").fit_transform(images).shape  # doctest: +SKIP
    (4, 2048)
    """

    _parameter_constraints = {
        "model": [str, nn.Module, callable],
        # A torchvision weights enum (ResNet50_Weights.IMAGENET1K_V2) works too.
        "weights": [str, os.PathLike, enum.Enum, None],
        "layer": [str, None],
        "pooling": [StrOptions(set(POOLING_OPTIONS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        # Device names ("cuda:1") are checked, with the hardware, in fit.
        "device": [str, torch.device],
        "precision": [StrOptions(set(PRECISION_OPTIONS))],
        "num_workers": [Interval(Integral, 0, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "preprocess": [StrOptions(set(PREPROCESS_OPTIONS))],
        "random_state": ["random_state"],
        "cache_dir": [str, os.PathLike, None],
        "cache_storage": [StrOptions(set(STORAGES))],
        "progress": ["boolean"],
    }

    def __init__(
        self,
        model="resnet50",
        *,
        weights="DEFAULT",
        layer=None,
        pooling="auto",
        batch_size=64,
        device="auto",
        precision="auto",
        num_workers=0,
        max_length=128,
        preprocess="auto",
        random_state=0,
        cache_dir=None,
        cache_storage="float32",
        progress=False,
    ):
        self.model = model
        self.weights = weights
        self.layer = layer
        self.pooling = pooling
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.num_workers = num_workers
        self.max_length = max_length
        self.preprocess = preprocess
        self.random_state = random_state
        self.cache_dir = cache_dir
        self.cache_storage = cache_storage
        self.progress = progress

    # -- fitting ------------------------------------------------------------
    def _build_teacher(self, wrappers):
        # ``wrappers``: scikit-learn's decorators between the public method
        # and the user's call, so that the logits warning points at the call.
        self.device_ = resolve_device(self.device)
        self.precision_ = resolve_precision(self.precision, self.device_)
        teacher = get_teacher(self.model, self.weights, self.random_state, self.device_)
        teacher.site(self.layer, self.pooling)  # unknown layers fail in fit
        if self.layer is None and teacher.modality == "tensor":
            _warn_if_logits(teacher, stacklevel=4 + wrappers)
        self._teacher = teacher
        self.model_id_ = teacher.identity
        self.modality_ = teacher.modality
        return teacher

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the frozen teacher and learn the feature width.

        Loads the model (or reuses one already loaded in this process), then
        runs it on the first sample of ``X`` to learn ``n_features_out_``
        unless that is already known for this model and setting. Nothing
        else is learned from ``X``.

        Parameters
        ----------
        X : array-like, list of PIL images, list of paths, or list of texts
            Samples of the kind the teacher reads (see :meth:`transform`).
        y : None
            Ignored.

        Returns
        -------
        self : TorchFeatureExtractor
            The fitted extractor.
        """
        self._build_teacher(wrappers=1)  # _fit_context
        samples = self._parse(X, reset=True)
        n_features = self._known_n_features()
        if n_features is None:
            n_features = self._features(samples.take(slice(0, 1))).shape[1]
        self.n_features_out_ = int(n_features)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Build the teacher and return the features of ``X``.

        Same result as ``fit(X).transform(X)``, with one pass over ``X``.

        Parameters
        ----------
        X : array-like, list of PIL images, list of paths, or list of texts
            Samples of the kind the teacher reads (see :meth:`transform`).
        y : None
            Ignored.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_), float32
            One feature vector per sample.
        """
        self._build_teacher(wrappers=2)  # _fit_context and set_output
        samples = self._parse(X, reset=True)
        features = self._features(samples)
        self.n_features_out_ = int(features.shape[1])
        return features

    # -- transforming -------------------------------------------------------
    def transform(self, X):
        """Features of ``X`` from the frozen teacher.

        Parameters
        ----------
        X : array-like, list of PIL images, list of paths, or list of texts
            For image teachers: an array of images (n, H, W, C) or
            (n, C, H, W), uint8 or float (see ``preprocess``), a list of PIL
            images, or a list of image file paths. For text teachers: a list
            of strings, or of (text, text) pairs such as (premise,
            hypothesis); a 1- or 2-column DataFrame works too. For a plain
            ``nn.Module``: a numeric array, given to the module as float32.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_), float32
            One feature vector per sample, in the order of ``X``.
        """
        check_is_fitted(self)
        samples = self._parse(X, reset=False)
        return self._features(samples)

    def _parse(self, X, *, reset):
        if self.modality_ == "image":
            return parse_images(X)
        if self.modality_ == "text":
            return parse_texts(X)
        from ._inputs import ArraySamples

        # uint8 stays uint8 here, and is scaled to [0, 1] batch by batch.
        check_numeric_columns(X, type(self).__name__)
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float32, np.uint8],
            allow_nd=True,
            ensure_all_finite=True,
        )
        return ArraySamples(X, "tensor")

    def _get_teacher(self):
        teacher = getattr(self, "_teacher", None)
        if teacher is None:  # unpickled: rebuild (or wrap the stored model)
            stored = getattr(self, "_stored_model", None)
            if stored is not None:
                teacher = teacher_from_module(stored, self.device_)
            else:
                teacher = get_teacher(
                    self.model, self.weights, self.random_state, self.device_
                )
            self._teacher = teacher
        return teacher

    def _cache_description(self, teacher):
        site = teacher.site(self.layer, self.pooling)
        description = {
            "format": FORMAT_VERSION,
            "model": teacher.identity,
            "site": [site.module, site.io, site.method],
            "pooling": self.pooling,
            "precision": self.precision_,
            "numerics": numerics_description(self.device_, self.precision_),
            "versions": library_versions(),
            "preprocessing": teacher.preprocessing,
        }
        if teacher.transform is not None:
            description["transform"] = object_description(teacher.transform)
        if teacher.modality == "image":
            description["preprocess"] = self.preprocess
        if teacher.modality == "text":
            description["max_length"] = int(self.max_length)
        if self.cache_storage == "float16":
            # Rounded features are other values: never mixed with exact ones.
            description["rounding"] = "float16"
        return description

    def _known_n_features(self):
        teacher = self._get_teacher()
        if teacher.unidentified:
            return None
        description = self._cache_description(teacher)
        namespace = digest_json(description)
        with _N_FEATURES_LOCK:
            if namespace in _N_FEATURES:
                return _N_FEATURES[namespace]
        if self.cache_dir is not None:
            return FeatureCache(
                self.cache_dir, namespace, description
            ).read_n_features()
        return None

    def _run(self, teacher, samples, selections, on_batch):
        run_teacher(
            teacher,
            teacher.site(self.layer, self.pooling),
            self.pooling,
            teacher.batch_builder(self.preprocess, self.max_length),
            samples,
            selections,
            on_batch,
            device=self.device_,
            precision=self.precision_,
            num_workers=self.num_workers,
            progress=self.progress,
        )

    def _features(self, samples):
        teacher = self._get_teacher()
        if teacher.unidentified:
            if self.cache_dir is not None:
                warnings.warn(
                    f"Features of {teacher.description} are not cached: "
                    f"{teacher.unidentified}. The cache key could not tell "
                    "this model from another, so it is run every time. To cache "
                    "again, remove the hook or attribute named, or make the "
                    "module deterministic in eval mode.",
                    UserWarning,
                    stacklevel=3,
                )
            return self._round(self._compute(teacher, samples))
        description = self._cache_description(teacher)
        namespace = digest_json(description)
        if self.cache_dir is None:
            features = self._round(self._compute(teacher, samples))
        else:
            cache = FeatureCache(
                self.cache_dir, namespace, description, storage=self.cache_storage
            )
            features = self._compute_cached(teacher, samples, cache)
        with _N_FEATURES_LOCK:
            _N_FEATURES[namespace] = features.shape[1]
        return features

    def _compute(self, teacher, samples):
        n, size = len(samples), self.batch_size
        selections = [slice(i, min(i + size, n)) for i in range(0, n, size)]
        parts = []
        self._run(teacher, samples, selections, lambda _sel, f: parts.append(f))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _round(self, features):
        """Features as ``cache_storage`` keeps them (float16-rounded or not)."""
        if self.cache_storage != "float16":
            return features
        rounded = features.astype(np.float16)
        if not np.isfinite(rounded).all() and np.isfinite(features).all():
            raise ValueError(
                "The teacher's features exceed float16's range (|x| > 65504), "
                "so cache_storage='float16' cannot store them. Use "
                "cache_storage='compressed', which keeps float32 values."
            )
        return rounded.astype(np.float32)

    def _compute_cached(self, teacher, samples, cache):
        keys = samples.keys()
        first, inverse = _unique_in_order(keys)
        distinct = keys[first]
        done = cache.lookup(distinct)
        features = None
        if done.any():
            stored, loaded = cache.load(distinct[done])
            positions = np.flatnonzero(done)
            done[positions[~loaded]] = False  # damaged shards: recompute
            if loaded.any():
                features = np.empty((len(first), stored.shape[1]), np.float32)
                features[positions[loaded]] = stored[loaded]
        # Samples are computed in order of first appearance, one shard per
        # batch, so a resumed run rebuilds exactly the batches it lost.
        todo = np.flatnonzero(~done)
        size = self.batch_size
        selections = [first[todo[i : i + size]] for i in range(0, len(todo), size)]
        position = np.empty(len(keys), dtype=np.intp)
        position[first] = np.arange(len(first))

        def on_batch(sel, batch_features):
            nonlocal features
            batch_features = self._round(batch_features)
            cache.store(keys[sel], batch_features)
            if features is None:
                features = np.empty((len(first), batch_features.shape[1]), np.float32)
            features[position[sel]] = batch_features

        self._run(teacher, samples, selections, on_batch)
        return features[inverse]

    # -- fitted attributes and pickling --------------------------------------
    @property
    def model_(self):
        """The frozen teacher module (rebuilt on first use after unpickling)."""
        check_is_fitted(self)
        return self._get_teacher().model

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Teachers compute in float32 (or lower) whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def __getstate__(self):
        # object.__getstate__ hands back the live __dict__: copy before editing.
        state = dict(super().__getstate__())
        teacher = state.pop("_teacher", None)
        if teacher is not None and not teacher.rebuildable:
            state["_stored_model"] = _cpu_copy(teacher.model)
        if isinstance(state.get("model"), nn.Module):
            state["model"] = _cpu_copy(state["model"], only_if_needed=True)
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._teacher = None
        if "device_" in state:
            try:
                self.device_ = resolve_device(self.device)
            except ValueError as exc:
                warnings.warn(
                    f"{exc} The unpickled extractor runs on device='auto' instead.",
                    UserWarning,
                    stacklevel=2,
                )
                self.device_ = resolve_device("auto")
            self.precision_ = resolve_precision(self.precision, self.device_)


def _warn_if_logits(teacher, stacklevel):
    found = teacher.output_layer()
    if found is None:
        return
    linear, feeder = found
    width = teacher.model.get_submodule(linear).out_features
    instead = (
        f"To use the features it receives, pass layer={feeder!r}; to "
        if feeder
        else "To use hidden features, pass the name of an earlier layer; to "
    )
    warnings.warn(
        f"The output of {teacher.description} comes from its nn.Linear layer "
        f"{linear!r} (d={width}), as a classifier's logits do, and layer=None "
        f"returns that output. {instead}keep this output and silence this "
        f"warning, pass layer={linear!r}.",
        UserWarning,
        stacklevel=stacklevel,
    )


def _cpu_copy(module, *, only_if_needed=False):
    tensors = list(module.parameters()) + list(module.buffers())
    if only_if_needed and all(t.device.type == "cpu" for t in tensors):
        return module
    return copy.deepcopy(module).cpu()
