"""Read IDX files, the format of MNIST, Fashion-MNIST and their relatives.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the values in C
order. The datasets ship them gzipped (``*-idx3-ubyte.gz``); torchvision
keeps them uncompressed under ``<root>/<Name>/raw``. This reader takes both,
so the files can be used as distributed, without unpacking them first.
"""

import gzip
from pathlib import Path

import numpy as np

# Type code -> big-endian numpy dtype, as defined by the format.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _open(path):
    # Sniff the gzip magic instead of trusting the file name: mirrors and
    # packages are not consistent about the ".gz" suffix.
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path):
    """Read one IDX file, gzipped or not, into a numpy array.

    Parameters
    ----------
    path : str or path-like
        The file, e.g. ``train-images-idx3-ubyte`` or
        ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    ndarray
        The values with the file's shape, in native byte order (``uint8`` for
        images and labels).

    Raises
    ------
    ValueError
        If the file is not a well-formed IDX file (bad magic number, unknown
        type code, or fewer values than its header announces).

    Examples
    --------
    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> from sklearn_subspace.datasets._idx import read_idx
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "labels-idx1-ubyte.gz"
    ...     with gzip.open(path, "wb") as f:
    ...         _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    ...     read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    with _open(path) as handle:
        header = handle.read(4)
        if len(header) != 4 or header[:2] != b"\x00\x00":
            raise ValueError(
                f"{str(path)!r} is not an IDX file: it does not start with the "
                "IDX magic number (two zero bytes, a type code, a rank). Point "
                "the loader at the original *-idx?-ubyte files (gzipped or not)."
            )
        code, rank = header[2], header[3]
        if code not in _IDX_DTYPES:
            raise ValueError(
                f"{str(path)!r} has the unknown IDX type code 0x{code:02x}; valid "
                f"codes are {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}."
            )
        shape = tuple(int(n) for n in np.frombuffer(handle.read(4 * rank), ">u4"))
        dtype = _IDX_DTYPES[code]
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        payload = handle.read(expected)
    if len(shape) != rank or len(payload) != expected:
        raise ValueError(
            f"{str(path)!r} is truncated: its header announces shape {shape} "
            f"({expected} bytes of data) but the file holds {len(payload)}. "
            "Download or copy it again."
        )
    return (
        np.frombuffer(payload, dtype=dtype)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


#: The four files of an MNIST-style dataset, by split.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def find_idx_files(folder):
    """Find the four MNIST-style IDX files in a folder, gzipped or not.

    Parameters
    ----------
    folder : str or path-like
        The folder to look in.

    Returns
    -------
    dict or None
        ``{"train": (images_path, labels_path), "test": (...)}`` when all four
        are there (uncompressed preferred), else ``None``.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_subspace.datasets._idx import find_idx_files
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     find_idx_files(tmp) is None
    True
    """
    folder = Path(folder)
    found = {}
    for split, stems in IDX_FILES.items():
        paths = []
        for stem in stems:
            candidates = [folder / stem, folder / f"{stem}.gz"]
            path = next((p for p in candidates if p.is_file()), None)
            if path is None:
                return None
            paths.append(path)
        found[split] = tuple(paths)
    return found


def load_idx_dataset(folder):
    """Load an MNIST-style dataset from the four IDX files in a folder.

    Parameters
    ----------
    folder : str or path-like
        Holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each
        optionally gzipped (``.gz``).

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        uint8 images of shape ``(n, H, W)`` and int64 labels.

    Raises
    ------
    FileNotFoundError
        If one of the four files is missing.
    ValueError
        If a file is malformed, or images and labels disagree in number.
    """
    files = find_idx_files(folder)
    if files is None:
        raise FileNotFoundError(
            f"{str(folder)!r} does not hold the four IDX files "
            f"({', '.join(s for stems in IDX_FILES.values() for s in stems)}, "
            "each optionally .gz)."
        )
    arrays = []
    for images_path, labels_path in (files["train"], files["test"]):
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{str(images_path)!r} holds images of shape {images.shape} but "
                f"{str(labels_path)!r} holds labels of shape {labels.shape}; "
                "expected (n, H, W) images and n labels from the same dataset."
            )
        arrays += [images, labels.astype(np.int64)]
    return tuple(arrays)
