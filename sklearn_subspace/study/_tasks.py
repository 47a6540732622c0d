"""Study tasks: a teacher, a dataset, and the head and k grid that go with them.

The paper's three setups (ResNet-50, ViT-B/16, BERT-base) each come with the
head preset and the grid of ``k`` used there. The embedded teacher is a CNN
trained locally on the chosen small image dataset (digits by default); it
comes with the default head, which trains to convergence on any number of
samples (on digits the learned bottleneck gets a fixed budget, see
:func:`build_task`).
"""

from dataclasses import dataclass
from pathlib import Path

from sklearn.utils import Bunch

from ..datasets._embedded_teacher import EMBEDDED_WIDTH, default_cache_dir
from ..datasets._registry import _subsample, load_dataset, load_embedded_task
from ..head import SubspaceHeadClassifier


@dataclass(frozen=True)
class TeacherSpec:
    """What the study needs to know about a named teacher.

    Parameters
    ----------
    n_features : int or None
        Dimension ``d`` of the teacher's features; ``None`` when only known
        after extraction.
    modality : str or None
        Input kind the teacher takes: ``"digits"``, ``"image"`` or
        ``"text-pair"``; ``None`` when unknown.
    head_preset : str or None
        Name for :meth:`SubspaceHeadClassifier.from_preset`; ``None`` for the
        default head.
    n_components : tuple of int or None
        The default grid of ``k``; ``None`` derives it from ``d``.
    default_dataset : str or None
        Dataset used when none is given; ``None`` means one must be given.

    Examples
    --------
    >>> from sklearn_subspace.study._tasks import TEACHERS
    >>> TEACHERS["resnet50"].n_components
    (1024, 512, 256, 128)
    """

    n_features: int | None
    modality: str | None
    head_preset: str | None
    n_components: tuple | None
    default_dataset: str | None


#: The paper's teachers and the embedded one, with their grids of ``k``.
TEACHERS = {
    "embedded": TeacherSpec(
        EMBEDDED_WIDTH, "digits", None, (1024, 512, 256, 128, 64, 32, 16, 8), "digits"
    ),
    "resnet50": TeacherSpec(
        2048, "image", "resnet50", (1024, 512, 256, 128), "cifar100"
    ),
    "vit_b_16": TeacherSpec(768, "image", "vit_b_16", (512, 256, 128, 64), None),
    "bert-base-uncased": TeacherSpec(
        768, "text-pair", "bert-base-uncased", (512, 256, 128, 64), "mnli"
    ),
}


def _torchvision_classifiers():
    import torchvision

    return set(torchvision.models.list_models(module=torchvision.models))


def teacher_spec(name):
    """Return the :class:`TeacherSpec` for a teacher name.

    Besides the keys of :data:`TEACHERS`, any torchvision classification
    model name (``"resnet18"``), ``"timm:<name>"`` and ``"hf:<name>"`` are
    accepted; they use the default head and a ``k`` grid derived from ``d``.

    Parameters
    ----------
    name : str
        The teacher name.

    Returns
    -------
    TeacherSpec
        Its settings.

    Raises
    ------
    ValueError
        If the name is none of the above; the message lists what is valid.

    Examples
    --------
    >>> from sklearn_subspace.study._tasks import teacher_spec
    >>> teacher_spec("vit_b_16").n_features
    768
    >>> teacher_spec("resnet18").modality
    'image'
    >>> teacher_spec("resnet5O")
    Traceback (most recent call last):
    ...
    ValueError: Unknown teacher 'resnet5O'. ...
    """
    if not isinstance(name, str):
        raise TypeError(f"teacher must be a string, got {type(name).__name__}.")
    if name in TEACHERS:
        return TEACHERS[name]
    prefix, _, rest = name.partition(":")
    if prefix in ("timm", "hf") and rest:
        return TeacherSpec(
            None, "image" if prefix == "timm" else None, None, None, None
        )
    if name in _torchvision_classifiers():
        return TeacherSpec(None, "image", None, None, None)
    raise ValueError(
        f"Unknown teacher {name!r}. Valid teachers: the paper's "
        f"{', '.join(repr(t) for t in TEACHERS if t != 'embedded')}, "
        "'embedded' (a CNN trained locally on the dataset), any other torchvision classification "
        "model name (e.g. 'resnet18'), 'timm:<name>' or 'hf:<name>'."
    )


def _check_dataset_modality(teacher, spec, data):
    if (
        spec.modality is None
        or data.modality == spec.modality
        or (spec.modality == "image" and data.modality == "digits")
    ):
        return
    raise ValueError(
        f"Teacher {teacher!r} takes {spec.modality} inputs but dataset "
        f"{data.name!r} holds {data.modality} inputs. Pair image teachers with "
        "cifar100, fashion-mnist, torchvision:NAME or imagefolder:PATH, and "
        "bert-base-uncased with mnli."
    )


def build_task(
    teacher="embedded",
    dataset=None,
    *,
    weights="DEFAULT",
    device="auto",
    batch_size=64,
    cache_dir=None,
    data_dir=None,
    download=True,
    max_train_samples=None,
    max_test_samples=None,
    random_state=0,
    progress=False,
):
    """Assemble everything a study run needs for a named teacher and dataset.

    Parameters
    ----------
    teacher : str, default="embedded"
        A key of :data:`TEACHERS`, another torchvision classification model
        name, ``"timm:<name>"`` or ``"hf:<name>"``.
    dataset : str, default=None
        A dataset name for :func:`load_dataset`; ``None`` uses the teacher's
        default.
    weights : str or None, default="DEFAULT"
        Passed to the feature extractor (``None``: random initialisation).
        Ignored by the embedded teacher, which is trained locally.
    device : str, default="auto"
        Device for the extractor and the head.
    batch_size : int, default=64
        Extraction batch size.
    cache_dir : str or path-like, default=None
        Library cache (features, embedded teacher weights).
    data_dir : str or path-like, default=None
        Where datasets are stored / downloaded.
    download : bool, default=True
        Whether missing datasets may be downloaded. MNLI is fetched by
        Hugging Face ``datasets``, which follows its own switch instead:
        set ``HF_DATASETS_OFFLINE=1`` to keep it off the network.
    max_train_samples, max_test_samples : int, default=None
        Subsample the splits for quicker runs.
    random_state : int, default=0
        Seed for splits, subsampling and the embedded teacher.
    progress : bool, default=False
        Whether extraction and teacher training show progress bars.

    Returns
    -------
    task : sklearn.utils.Bunch
        ``X_train``, ``y_train``, ``X_test``, ``y_test``, ``extractor``,
        ``head``, ``learned_head`` (the head of the learned-bottleneck
        baseline when it needs other settings, else None), ``n_components`` (default grid, or None to derive it from
        ``d``), ``n_features`` (None when unknown before extraction), ``teacher``
        (name for the table) and ``dataset``.

    Raises
    ------
    ValueError
        For an unknown teacher or dataset, or a teacher / dataset pair whose
        input kinds do not match.

    Examples
    --------
    >>> from sklearn_subspace.study._tasks import build_task
    >>> build_task("resnet")
    Traceback (most recent call last):
    ...
    ValueError: Unknown teacher 'resnet'. ...
    """
    spec = teacher_spec(teacher)
    dataset = _dataset_for(teacher, spec, dataset)
    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    loading = dict(data_dir=data_dir, download=download, random_state=random_state)
    if teacher == "embedded":
        data, extractor, head, learned_head, name = _embedded_parts(
            dataset,
            cache_root,
            loading,
            max_samples=(max_train_samples, max_test_samples),
            extraction=dict(device=device, batch_size=batch_size, progress=progress),
        )
    else:
        data = load_dataset(
            dataset,
            max_train_samples=max_train_samples,
            max_test_samples=max_test_samples,
            **loading,
        )
        _check_dataset_modality(teacher, spec, data)
        from ..teachers import TorchFeatureExtractor

        extractor = TorchFeatureExtractor(
            model=teacher,
            weights=weights,
            batch_size=batch_size,
            device=device,
            cache_dir=str(cache_root / "features"),
            progress=progress,
        )
        head = (
            SubspaceHeadClassifier.from_preset(spec.head_preset, device=device)
            if spec.head_preset
            else SubspaceHeadClassifier(device=device)
        )
        learned_head = None
        name = teacher

    return Bunch(
        X_train=data.X_train,
        y_train=data.y_train,
        X_test=data.X_test,
        y_test=data.y_test,
        extractor=extractor,
        head=head,
        learned_head=learned_head,
        n_components=spec.n_components,
        n_features=spec.n_features,
        teacher=name,
        dataset=dataset,
    )


def _dataset_for(teacher, spec, dataset):
    """``dataset``, or the teacher's default one when it is None."""
    if dataset is not None:
        return dataset
    if spec.default_dataset is None:
        raise ValueError(
            f"Teacher {teacher!r} has no default dataset; pass one, e.g. "
            "--dataset imagefolder:PATH with PATH an ImageNet-100 style folder "
            "(one sub-folder per class, optionally split into train/ and val/), "
            "--dataset cifar100 or, for text teachers, --dataset mnli."
        )
    return spec.default_dataset


def _embedded_parts(dataset, cache_root, loading, max_samples, extraction):
    """Data, extractor, heads and name of a study on the embedded teacher."""
    if dataset == "mnli" or dataset.startswith("imagefolder:"):
        raise ValueError(
            f"The embedded teacher trains on in-memory images of one size "
            f"and cannot run on dataset {dataset!r}. Use digits, "
            "fashion-mnist, cifar100 or torchvision:NAME with it, or a "
            "pretrained teacher (--teacher resnet50, vit_b_16 or "
            "bert-base-uncased) for other data."
        )
    task = load_embedded_task(
        dataset,
        cache_dir=cache_root,
        verbose=int(extraction["progress"]),
        **loading,
    )
    # The teacher trains on the whole training split (and is cached for
    # it); only the study's features come from the subsample.
    seed = loading["random_state"]
    X_train, y_train = _subsample(task.X_train, task.y_train, max_samples[0], seed)
    X_test, y_test = _subsample(task.X_test, task.y_test, max_samples[1], seed)
    data = Bunch(X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    extractor = task.extractor.set_params(**extraction)
    # The default head trains to convergence on any number of samples
    # (full-d, PCA and random projections alike, by L-BFGS). The learned
    # bottleneck, a non-convex d x k + k x C network, would take minutes
    # to converge at k = 1024 on digits; it gets a fixed budget of 30
    # epochs instead, keeping its best validation epoch (tol=None, as
    # the paper's presets), which is on par with the other heads there.
    device = extraction["device"]
    head = SubspaceHeadClassifier(device=device)
    learned_head = (
        SubspaceHeadClassifier(
            device=device, optimizer="adamw", batch_size=64, max_epochs=30, tol=None
        )
        if dataset == "digits"
        else None
    )
    return data, extractor, head, learned_head, task.name
