"""Any torchvision classification dataset by name, as uint8 image arrays.

torchvision's dataset classes disagree on how a split is named (``train=``
or ``split=``), on where the labels live (``targets``, ``labels``) and on the
array layout (N x H x W x C for CIFAR, N x C x H x W for SVHN and STL-10).
This module hides that: every dataset comes back as uint8 channels-last
arrays (or a list of PIL images when the images differ in size) and int64
labels. The MNIST family is read straight from its IDX files, gzipped or
not, because torchvision only accepts them uncompressed.
"""

import inspect
from pathlib import Path

import numpy as np

from ._errors import DatasetUnavailableError
from ._idx import find_idx_files, load_idx_dataset

# Datasets stored as the four MNIST-style IDX files under <root>/<Name>/raw.
_IDX_DATASETS = ("MNIST", "FashionMNIST", "KMNIST")

# Split names for datasets that take ``split=`` instead of ``train=``: the
# first one that the class accepts is used.
_SPLIT_NAMES = {True: ("train",), False: ("test", "val")}


def torchvision_dataset_class(name):
    """Return the torchvision dataset class called ``name``.

    Parameters
    ----------
    name : str
        A class of ``torchvision.datasets``, e.g. ``"MNIST"`` or ``"CIFAR10"``
        (case as torchvision spells it; a case-insensitive match is accepted).

    Returns
    -------
    type
        The dataset class.

    Raises
    ------
    ValueError
        If torchvision has no such dataset; the message lists some that it has.

    Examples
    --------
    >>> from sklearn_subspace.datasets._torchvision import torchvision_dataset_class
    >>> torchvision_dataset_class("fashionmnist").__name__
    'FashionMNIST'
    """
    import torchvision.datasets as tv_datasets
    from torchvision.datasets import VisionDataset

    classes = {
        attr: obj
        for attr, obj in vars(tv_datasets).items()
        if isinstance(obj, type) and issubclass(obj, VisionDataset)
    }
    if name in classes:
        return classes[name]
    folded = {attr.lower(): obj for attr, obj in classes.items()}
    if name.lower() in folded:
        return folded[name.lower()]
    examples = ("MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "SVHN")
    raise ValueError(
        f"torchvision has no dataset {name!r}. Use 'torchvision:NAME' with NAME "
        f"a classification dataset of torchvision.datasets, e.g. "
        f"{', '.join(examples)}, STL10 or Flowers102."
    )


def _instantiate(cls, root, train, download):
    params = inspect.signature(cls.__init__).parameters
    if "train" in params:
        return cls(root=str(root), train=train, download=download)
    if "split" not in params:
        raise ValueError(
            f"torchvision's {cls.__name__} takes neither train= nor split=, so "
            "it has no standard train / test split. Load it yourself and pass "
            "the arrays to compression_study."
        )
    for split in _SPLIT_NAMES[train]:
        try:
            return cls(root=str(root), split=split, download=download)
        except ValueError:  # the class does not know this split name
            continue
    raise ValueError(
        f"torchvision's {cls.__name__} has none of the splits "
        f"{', '.join(map(repr, _SPLIT_NAMES[train]))}; load it yourself and "
        "pass the arrays to compression_study."
    )


def _labels(dataset):
    for attr in ("targets", "labels"):
        labels = getattr(dataset, attr, None)
        if labels is not None:
            return np.asarray(labels, dtype=np.int64)
    return None


def _channels_last(images):
    images = np.asarray(images)
    if images.ndim == 3:  # grayscale N x H x W
        return images[..., None]
    if (
        images.ndim == 4
        and images.shape[1] in (1, 3)
        and images.shape[-1]
        not in (
            1,
            3,
        )
    ):
        return images.transpose(0, 2, 3, 1)
    return images


def _to_arrays(dataset):
    data, labels = getattr(dataset, "data", None), _labels(dataset)
    if isinstance(data, np.ndarray) or hasattr(data, "numpy"):
        data = data.numpy() if hasattr(data, "numpy") else data
        if labels is not None and data.dtype == np.uint8 and len(data) == len(labels):
            return np.ascontiguousarray(_channels_last(data)), labels
    # Datasets that read files lazily: go through the public item interface.
    images, targets = zip(*(dataset[i] for i in range(len(dataset))))
    targets = np.asarray(targets, dtype=np.int64)
    sizes = {image.size + (image.mode,) for image in images}
    if len(sizes) == 1:
        return _channels_last(np.stack([np.asarray(im) for im in images])), targets
    # Images of different sizes cannot share an array; the feature
    # extractor takes a list of PIL images and resizes them itself.
    return list(images), targets


def _read_idx_layout(cls, root):
    for folder in (root / cls.__name__ / "raw", root):
        if find_idx_files(folder) is not None:
            X_train, y_train, X_test, y_test = load_idx_dataset(folder)
            return X_train[..., None], y_train, X_test[..., None], y_test
    return None


def load_torchvision(name, root, download):
    """Load a torchvision classification dataset's train and test splits.

    Parameters
    ----------
    name : str
        The torchvision class name, e.g. ``"MNIST"``, ``"CIFAR10"``, ``"SVHN"``.
    root : path-like
        torchvision's ``root``: the dataset lives in (or is downloaded to) the
        layout torchvision uses under it, e.g. ``<root>/MNIST/raw``. For the
        MNIST family, ``root`` may also be the folder holding the four IDX
        files themselves, gzipped or not.
    download : bool
        Whether torchvision may download a missing dataset.

    Returns
    -------
    X_train, y_train, X_test, y_test
        uint8 channels-last image arrays (or lists of PIL images when sizes
        differ) and int64 labels.

    Raises
    ------
    ValueError
        For an unknown dataset name or one without a train / test split.
    DatasetUnavailableError
        If the data is not under ``root`` and cannot be downloaded.
    """
    cls = torchvision_dataset_class(name)
    root = Path(root)
    if cls.__name__ in _IDX_DATASETS:
        arrays = _read_idx_layout(cls, root)
        if arrays is not None:
            return arrays
    try:
        train = _instantiate(cls, root, True, download)
        test = _instantiate(cls, root, False, download)
    except (RuntimeError, OSError) as exc:
        how = (
            "downloading is off (download=False, --no-download or "
            "SKLEARN_SUBSPACE_OFFLINE=1)"
            if not download
            else "downloading it failed"
        )
        raise DatasetUnavailableError(
            f"torchvision dataset {cls.__name__} was not found under {root} and "
            f"{how} ({exc}). Supply it by running once with network access "
            f"(torchvision downloads it into {root}), or by copying its files "
            f"into the layout torchvision expects under {root} (e.g. "
            f"{root / cls.__name__ / 'raw'} for the MNIST family, where the "
            "IDX files may stay gzipped), or by pointing data_dir= / --data-dir "
            "at the folder that holds them."
        ) from exc
    return (*_to_arrays(train), *_to_arrays(test))
