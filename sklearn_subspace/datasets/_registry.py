"""Datasets for the compression study.

Each loader returns raw inputs (what the teacher consumes: image arrays, image
file paths or text pairs) split into a training and a test part, plus labels.
Features are computed later, once, by the teacher's feature extractor.

- ``"digits"``: scikit-learn's bundled 8 x 8 digit images (always available).
- ``"fashion-mnist"``: Fashion-MNIST's IDX files, gzipped or not, from
  ``data_dir``, torchvision's layout or the Debian package
  ``dataset-fashion-mnist``; downloaded through torchvision when allowed.
- ``"torchvision:NAME"``: any torchvision classification dataset (``MNIST``,
  ``KMNIST``, ``CIFAR10``, ``SVHN``, ``STL10``, ``Flowers102``, ...).
- ``"cifar100"``: CIFAR-100 through torchvision.
- ``"imagefolder:PATH"``: a folder of class sub-folders, e.g. ImageNet-100.
- ``"mnli"``: MultiNLI (premise, hypothesis) pairs through Hugging Face
  ``datasets``.

When a dataset cannot be found and cannot be downloaded, the loaders raise
:class:`DatasetUnavailableError` with a message that says what was looked for
and how to supply it.
"""

import os
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch, resample

from .._param_validation import Interval, validate_params
from ._embedded_teacher import (
    EMBEDDED_FEATURE_LAYER,
    EMBEDDED_WIDTH,
    default_cache_dir,
    train_embedded_teacher,
)
from ._errors import DatasetUnavailableError
from ._fashion_mnist import load_fashion_mnist
from ._torchvision import load_torchvision

#: Dataset names accepted by :func:`load_dataset` (``imagefolder`` takes ``:PATH``).
DATASET_NAMES = (
    "digits",
    "fashion-mnist",
    "torchvision:NAME",
    "cifar100",
    "imagefolder:PATH",
    "mnli",
)

_IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".ppm",
    ".bmp",
    ".pgm",
    ".tif",
    ".tiff",
    ".webp",
)


_PATH = [str, os.PathLike]
_SUBSAMPLE = [Interval(Integral, 1, None, closed="left"), None]


def _digits_split(random_state):
    digits = load_digits()
    # Pixel values are 0..16; the CNN expects [0, 1] images shaped N x C x H x W.
    images = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return train_test_split(
        images,
        digits.target,
        test_size=0.25,
        stratify=digits.target,
        random_state=random_state,
    )


def _cnn_images(X, dataset):
    # uint8 (n, H, W, C) -> float32 (n, C, H, W) in [0, 1], what the CNN takes.
    if isinstance(X, list) or np.asarray(X).ndim != 4:
        raise ValueError(
            f"The embedded teacher trains on in-memory images of one size, but "
            f"dataset {dataset!r} gives image files or images of different "
            "sizes. Use a pretrained teacher (--teacher resnet50, vit_b_16, ...) "
            "for it, or a dataset such as fashion-mnist or torchvision:CIFAR10."
        )
    X = np.asarray(X)
    if X.dtype == np.uint8:
        return np.ascontiguousarray(X.transpose(0, 3, 1, 2), dtype=np.float32) / 255
    return np.ascontiguousarray(X, dtype=np.float32)


@validate_params(
    {
        "dataset": [str],
        "data_dir": [*_PATH, None],
        "download": ["boolean"],
        "max_train_samples": _SUBSAMPLE,
        "max_test_samples": _SUBSAMPLE,
        "cache_dir": [*_PATH, None],
        # An int, not a RandomState: it names the cached teacher.
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def load_embedded_task(
    dataset="digits",
    *,
    data_dir=None,
    download=True,
    max_train_samples=None,
    max_test_samples=None,
    cache_dir=None,
    random_state=0,
    verbose=0,
):
    """Load an embedded compression task: a dataset and a CNN trained on it.

    For ``"digits"`` the images are split 75 / 25 into training and test sets
    (stratified); other datasets keep their own split. A small CNN with a
    2048-unit penultimate layer is trained on the training split only (or
    loaded from the cache when a previous run trained it on the same data
    with the same recipe and seed), and a
    :class:`~sklearn_subspace.teachers.TorchFeatureExtractor` is set up to
    return the 2048-d penultimate features.

    Parameters
    ----------
    dataset : str, default="digits"
        ``"digits"``, ``"fashion-mnist"`` or ``"torchvision:NAME"`` (or
        ``"cifar100"``): any dataset of :func:`load_dataset` whose images fit
        in memory at one size. Training on Fashion-MNIST's 60,000 images takes
        a few minutes on two CPU cores, once.
    data_dir : str or path-like, default=None
        Passed to :func:`load_dataset`; unused for digits.
    download : bool, default=True
        Passed to :func:`load_dataset`; unused for digits.
    max_train_samples, max_test_samples : int, default=None
        Train the teacher on (and return) a stratified subsample of each
        split, for a quicker first run. ``None`` keeps all.
    cache_dir : str or path-like, default=None
        Library cache folder. The teacher's weights are stored under
        ``<cache_dir>/teachers/`` and the extractor caches features under
        ``<cache_dir>/features/``, so a repeated study does not run the teacher
        again. ``None`` uses ``$SKLEARN_SUBSPACE_CACHE`` or
        ``~/.cache/sklearn-subspace``.
    random_state : int, default=0
        Seed for the digits split, the teacher's initialisation and its
        mini-batch order: a non-negative int, since it also names the cached
        teacher. Training is deterministic for a given seed.
    verbose : int, default=0
        When positive, show a progress bar while the teacher trains.

    Returns
    -------
    task : sklearn.utils.Bunch
        With the keys:

        - ``X_train``, ``X_test``: float32 arrays of shape ``(n, C, H, W)``
          (for digits 1347 and 450 images of 1 x 8 x 8), values in [0, 1].
        - ``y_train``, ``y_test``: integer labels.
        - ``teacher``: the trained :class:`torch.nn.Module` (eval mode,
          gradients off). Calling it gives class logits.
        - ``extractor``: an unfitted ``TorchFeatureExtractor(model=teacher, ...)``
          whose ``transform`` returns the ``(n, 2048)`` float32 penultimate
          features.
        - ``n_features``: 2048.
        - ``name``: the teacher's name in study tables, e.g.
          ``"digits-cnn2048"`` or ``"fashion-mnist-cnn2048"``.

    Raises
    ------
    DatasetUnavailableError
        If the dataset cannot be found and cannot be downloaded.
    ValueError
        For a dataset whose images are files or of different sizes.

    See Also
    --------
    compression_study : Runs the compression experiment on such a task.

    Examples
    --------
    The first call trains the teacher (a few seconds); later calls load it.

    >>> from sklearn_subspace.datasets import load_embedded_task
    >>> task = load_embedded_task()
    >>> task.X_train.shape, task.X_test.shape
    ((1347, 1, 8, 8), (450, 1, 8, 8))
    >>> features = task.extractor.set_params(device="cpu").fit_transform(task.X_test[:5])
    >>> features.shape, features.dtype
    ((5, 2048), dtype('float32'))
    """
    from ..teachers import TorchFeatureExtractor

    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    data = load_dataset(
        dataset,
        data_dir=data_dir,
        download=download,
        max_train_samples=max_train_samples,
        max_test_samples=max_test_samples,
        random_state=random_state,
    )
    X_train = _cnn_images(data.X_train, dataset)
    X_test = _cnn_images(data.X_test, dataset)
    teacher = train_embedded_teacher(
        X_train,
        data.y_train,
        dataset=dataset,
        cache_dir=cache_root,
        random_state=random_state,
        verbose=verbose,
    )
    extractor = TorchFeatureExtractor(
        model=teacher,
        weights=None,
        layer=EMBEDDED_FEATURE_LAYER,
        pooling="auto",
        batch_size=256,
        cache_dir=str(cache_root / "features"),
    )
    return Bunch(
        X_train=X_train,
        X_test=X_test,
        y_train=data.y_train,
        y_test=data.y_test,
        teacher=teacher,
        extractor=extractor,
        n_features=EMBEDDED_WIDTH,
        name=f"{data.name}-cnn{EMBEDDED_WIDTH}",
    )


def _subsample(X, y, n_samples, random_state):
    # Stratified, without replacement: a smaller run keeps the class balance.
    if n_samples is None or n_samples >= len(y):
        return X, y
    X_sub, y_sub = resample(
        X, y, replace=False, n_samples=n_samples, stratify=y, random_state=random_state
    )
    return X_sub, np.asarray(y_sub)


def _load_cifar100(data_dir, download):
    from torchvision.datasets import CIFAR100

    root = Path(data_dir)
    try:
        train = CIFAR100(root=str(root), train=True, download=download)
        test = CIFAR100(root=str(root), train=False, download=download)
    except (RuntimeError, OSError) as exc:
        how = (
            "it was not downloaded because downloading is off"
            if not download
            else "downloading it failed"
        )
        raise DatasetUnavailableError(
            f"CIFAR-100 was not found under {root} and {how} ({exc}). Supply it "
            "by running once with network access (torchvision downloads it "
            f"into {root}), or by extracting cifar-100-python.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html so that "
            f"{root / 'cifar-100-python'} exists, or by pointing --data-dir "
            "(data_dir=) at the folder that holds 'cifar-100-python'."
        ) from exc
    # uint8 N x H x W x C: the extractor applies the teacher's own transforms.
    return Bunch(
        X_train=train.data,
        y_train=np.asarray(train.targets),
        X_test=test.data,
        y_test=np.asarray(test.targets),
        name="cifar100",
        modality="image",
    )


def _image_folder_samples(folder):
    from torchvision.datasets import ImageFolder

    dataset = ImageFolder(str(folder), is_valid_file=_is_image_file)
    paths = [path for path, _ in dataset.samples]
    # Labels are the class folder names, so that a train and a validation
    # folder agree even when one of them lacks a class.
    labels = np.asarray([dataset.classes[target] for _, target in dataset.samples])
    return paths, labels


def _is_image_file(path):
    return str(path).lower().endswith(_IMAGE_EXTENSIONS)


def _load_image_folder(path, random_state):
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetUnavailableError(
            f"Image folder {str(root)!r} does not exist. Pass "
            "--dataset imagefolder:PATH with PATH a folder holding one "
            "sub-folder of images per class (or 'train/' and 'val/' folders "
            "laid out that way, as for ImageNet-100)."
        )
    split_dirs = [root / name for name in ("val", "test", "validation")]
    test_dir = next((d for d in split_dirs if d.is_dir()), None)
    presplit = (root / "train").is_dir() and test_dir is not None
    try:
        if presplit:
            X_train, y_train = _image_folder_samples(root / "train")
            X_test, y_test = _image_folder_samples(test_dir)
        else:
            paths, labels = _image_folder_samples(root)
    except (FileNotFoundError, ValueError) as exc:
        raise DatasetUnavailableError(
            f"No usable images under {str(root)!r} ({exc}). The folder must "
            "hold one sub-folder per class with image files inside "
            f"({', '.join(_IMAGE_EXTENSIONS)}), optionally split into 'train/' "
            "and 'val/'."
        ) from exc
    if not presplit:
        _, counts = np.unique(labels, return_counts=True)
        n_test = int(np.ceil(0.2 * len(labels)))
        if counts.min() < 2 or n_test < len(counts):
            raise ValueError(
                f"Image folder {str(root)!r} is too small to split 80/20 into "
                f"training and test images with every one of its {len(counts)} "
                f"classes on both sides (smallest class: {counts.min()} images). "
                "Add images (at least 5 per class), or provide 'train/' and "
                "'val/' folders."
            )
        X_train, X_test, y_train, y_test = train_test_split(
            paths, labels, test_size=0.2, stratify=labels, random_state=random_state
        )
    return Bunch(
        X_train=list(X_train),
        y_train=np.asarray(y_train),
        X_test=list(X_test),
        y_test=np.asarray(y_test),
        name=f"imagefolder:{root.name}",
        modality="image",
    )


def _load_mnli(data_dir):
    try:
        import datasets as hf_datasets
    except ImportError as exc:
        raise ImportError(
            "The 'mnli' dataset is read with Hugging Face datasets, which is not "
            "installed. Install it with `pip install datasets` (or the Hugging "
            "Face extra: `pip install 'sklearn-subspace[hf]'`)."
        ) from exc
    from .._offline import offline

    # datasets reads its offline switch once, at import: if it was imported
    # before the switch was on, it would still go to the network.
    if offline() and not getattr(hf_datasets.config, "HF_HUB_OFFLINE", False):
        raise DatasetUnavailableError(
            "MNLI ('nyu-mll/glue', config 'mnli') was not loaded: offline mode "
            "is on, but Hugging Face datasets was imported before it was, and "
            "would use the network. Set HF_HUB_OFFLINE=1 (or "
            "SKLEARN_SUBSPACE_OFFLINE=1) before starting Python, with a cached "
            "copy in the datasets cache ($HF_DATASETS_CACHE, or --data-dir / "
            "data_dir=)."
        )
    try:
        data = hf_datasets.load_dataset(
            "nyu-mll/glue", "mnli", cache_dir=str(data_dir) if data_dir else None
        )
    except Exception as exc:
        # datasets raises many types offline (ConnectionError, its own
        # DatasetNotFoundError, ValueError); they all mean the same thing here.
        raise DatasetUnavailableError(
            f"MNLI ('nyu-mll/glue', config 'mnli') could not be loaded ({exc}). "
            "Supply it by running once with network access (Hugging Face "
            "datasets downloads and caches it), or copy a cached copy into "
            "the datasets cache ($HF_DATASETS_CACHE, or --data-dir / "
            "data_dir=) and set HF_DATASETS_OFFLINE=1."
        ) from exc

    def pairs(split):
        return list(zip(split["premise"], split["hypothesis"])), np.asarray(
            split["label"]
        )

    X_train, y_train = pairs(data["train"])
    X_test, y_test = pairs(data["validation_matched"])
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        name="mnli",
        modality="text-pair",
    )


@validate_params(
    {
        "name": [str],
        "data_dir": [*_PATH, None],
        "download": ["boolean"],
        "max_train_samples": _SUBSAMPLE,
        "max_test_samples": _SUBSAMPLE,
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_dataset(
    name,
    *,
    data_dir=None,
    download=True,
    max_train_samples=None,
    max_test_samples=None,
    random_state=0,
):
    """Load one of the study's datasets as raw teacher inputs.

    Parameters
    ----------
    name : str
        ``"digits"``, ``"fashion-mnist"``, ``"torchvision:NAME"`` (``NAME`` a
        classification dataset class of ``torchvision.datasets``, e.g.
        ``MNIST``, ``CIFAR10``, ``SVHN``), ``"cifar100"``,
        ``"imagefolder:PATH"`` or ``"mnli"``.
    data_dir : str or path-like, default=None
        Where datasets are stored and downloaded to. ``None`` uses
        ``<library cache>/data`` (for MNLI: the Hugging Face datasets cache).
        torchvision datasets use torchvision's layout under it (e.g.
        ``<data_dir>/MNIST/raw``); for the MNIST family the IDX files may stay
        gzipped and may also sit in ``data_dir`` itself. Fashion-MNIST is also
        looked for where the Debian package ``dataset-fashion-mnist`` puts it.
    download : bool, default=True
        Whether a missing dataset may be downloaded.
        ``SKLEARN_SUBSPACE_OFFLINE=1`` turns downloads off whatever this
        says. MNLI is fetched by
        Hugging Face ``datasets``, which follows its own switch instead:
        set ``HF_DATASETS_OFFLINE=1`` to keep it off the network.
    max_train_samples, max_test_samples : int, default=None
        Keep at most this many samples of each split (stratified subsample),
        for quicker runs. ``None`` keeps all.
    random_state : int, RandomState instance or None, default=0
        Seed for the digits and image-folder splits and for subsampling. Pass
        an int for the same split in every call.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train``, ``y_train``, ``X_test``, ``y_test``, ``name`` and
        ``modality`` (``"digits"``, ``"image"`` or ``"text-pair"``). Inputs are
        uint8 channels-last image arrays ``(n, H, W, C)``, float digit arrays
        ``(n, 1, 8, 8)``, lists of image paths or PIL images, or lists of
        ``(premise, hypothesis)`` pairs.

    Raises
    ------
    ValueError
        If ``name`` is not a known dataset.
    DatasetUnavailableError
        If the data cannot be found locally and cannot be downloaded.
    ImportError
        If a needed optional package (Hugging Face ``datasets``) is missing.

    See Also
    --------
    load_embedded_task : A dataset together with a teacher trained on it.

    Examples
    --------
    >>> from sklearn_subspace.datasets import load_dataset
    >>> data = load_dataset("digits")
    >>> data.X_train.shape, data.X_test.shape, data.modality
    ((1347, 1, 8, 8), (450, 1, 8, 8), 'digits')
    """
    from .._offline import offline

    # The library-wide offline switch overrides download=True.
    download = bool(download) and not offline()
    data_root = Path(data_dir).expanduser() if data_dir is not None else None
    if name == "digits":
        X_train, X_test, y_train, y_test = _digits_split(random_state)
        data = Bunch(
            X_train=X_train,
            y_train=y_train,
            X_test=X_test,
            y_test=y_test,
            name="digits",
            modality="digits",
        )
    elif name == "fashion-mnist":
        X_train, y_train, X_test, y_test = load_fashion_mnist(
            data_root or default_cache_dir() / "data", download
        )
        data = Bunch(
            X_train=X_train,
            y_train=y_train,
            X_test=X_test,
            y_test=y_test,
            name="fashion-mnist",
            modality="image",
        )
    elif name.startswith("torchvision:") and len(name) > len("torchvision:"):
        X_train, y_train, X_test, y_test = load_torchvision(
            name[len("torchvision:") :],
            data_root or default_cache_dir() / "data",
            download,
        )
        data = Bunch(
            X_train=X_train,
            y_train=y_train,
            X_test=X_test,
            y_test=y_test,
            name=name,
            modality="image",
        )
    elif name == "cifar100":
        root = data_root if data_root is not None else default_cache_dir() / "data"
        data = _load_cifar100(root, download)
    elif name.startswith("imagefolder:") and len(name) > len("imagefolder:"):
        data = _load_image_folder(name[len("imagefolder:") :], random_state)
    elif name == "mnli":
        data = _load_mnli(data_root)
    else:
        raise ValueError(
            f"Unknown dataset {name!r}. Valid datasets are: "
            f"{', '.join(DATASET_NAMES)} (NAME is a torchvision dataset class, "
            "PATH a folder of class sub-folders)."
        )
    data.X_train, data.y_train = _subsample(
        data.X_train, data.y_train, max_train_samples, random_state
    )
    data.X_test, data.y_test = _subsample(
        data.X_test, data.y_test, max_test_samples, random_state
    )
    return data
