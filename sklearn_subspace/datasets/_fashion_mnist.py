"""Fashion-MNIST from wherever its four IDX files are.

The files are looked for, in order, in ``data_dir`` itself, in torchvision's
layout ``<data_dir>/FashionMNIST/raw``, and where the Debian package
``dataset-fashion-mnist`` installs them. Gzipped files are read as they are
(torchvision only accepts them uncompressed). When none is found and
downloading is allowed, torchvision downloads them into ``data_dir``.
"""

from pathlib import Path

from ._errors import DatasetUnavailableError
from ._idx import find_idx_files, load_idx_dataset

#: Where ``apt-get install dataset-fashion-mnist`` puts the files.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def fashion_mnist_folders(data_dir):
    """The folders searched for the Fashion-MNIST IDX files, in order.

    Parameters
    ----------
    data_dir : path-like
        The data folder (``data_dir=`` / ``--data-dir`` or the library's).

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> from sklearn_subspace.datasets._fashion_mnist import fashion_mnist_folders
    >>> [p.as_posix() for p in fashion_mnist_folders("data")]
    ['data', 'data/FashionMNIST/raw', '/usr/share/datasets/fashion-mnist']
    """
    root = Path(data_dir)
    return [root, root / "FashionMNIST" / "raw", DEBIAN_FASHION_MNIST]


def load_fashion_mnist(data_dir, download):
    """Load Fashion-MNIST's 60,000 training and 10,000 test images.

    Parameters
    ----------
    data_dir : path-like
        Folder searched first, and where a download goes.
    download : bool
        Whether torchvision may download the files when none are found.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        uint8 images of shape ``(n, 28, 28, 1)`` and int64 labels 0-9.

    Raises
    ------
    DatasetUnavailableError
        If the files are nowhere and cannot be downloaded; the message lists
        where they were looked for and how to install them.
    """
    for folder in fashion_mnist_folders(data_dir):
        if find_idx_files(folder) is not None:
            X_train, y_train, X_test, y_test = load_idx_dataset(folder)
            return X_train[..., None], y_train, X_test[..., None], y_test
    searched = ", ".join(str(p) for p in fashion_mnist_folders(data_dir))
    if not download:
        raise DatasetUnavailableError(
            f"Fashion-MNIST was not found (looked in {searched}) and downloading "
            "is off (download=False, --no-download or SKLEARN_SUBSPACE_OFFLINE=1). "
            "Install it with `apt-get install dataset-fashion-mnist` (Debian and "
            "Ubuntu), or copy the four *-idx?-ubyte(.gz) files into --data-dir "
            "(data_dir=), or allow the download."
        )
    from torchvision.datasets import FashionMNIST

    try:
        FashionMNIST(root=str(data_dir), train=True, download=True)
    except (RuntimeError, OSError) as exc:
        raise DatasetUnavailableError(
            f"Fashion-MNIST was not found (looked in {searched}) and downloading "
            f"it failed ({exc}). Install it with `apt-get install "
            "dataset-fashion-mnist` (Debian and Ubuntu), or copy the four "
            "*-idx?-ubyte(.gz) files into --data-dir (data_dir=)."
        ) from exc
    X_train, y_train, X_test, y_test = load_idx_dataset(
        Path(data_dir) / "FashionMNIST" / "raw"
    )
    return X_train[..., None], y_train, X_test[..., None], y_test
