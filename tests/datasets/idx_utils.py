"""Tiny IDX datasets written on the fly, in the layouts the loaders read."""

import gzip

import numpy as np


def write_idx(path, array, *, gzipped=False):
    """Write ``array`` (uint8) as an IDX file, optionally gzipped."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    opener = gzip.open if gzipped else open
    with opener(path, "wb") as handle:
        handle.write(header + array.tobytes())
    return path


def tiny_images(n, seed, size=28):
    """``n`` uint8 images whose mean brightness encodes their label 0-9."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 40, size=(n, size, size))
    images += (labels * 20)[:, None, None]
    return images.astype(np.uint8), labels.astype(np.uint8)


def write_mnist_files(folder, *, n_train=60, n_test=20, gzipped=True):
    """The four MNIST-style IDX files of a tiny dataset, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gzipped else ""
    arrays = {}
    for split, n, seed, prefix in (
        ("train", n_train, 0, "train"),
        ("test", n_test, 1, "t10k"),
    ):
        images, labels = tiny_images(n, seed)
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gzipped=gzipped
        )
        write_idx(
            folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gzipped=gzipped
        )
        arrays[split] = (images, labels)
    return arrays


def hide_debian_fashion_mnist(monkeypatch, tmp_path):
    """Hide the Debian package's copy, so that a test sees only its own data."""
    from sklearn_subspace.datasets import _fashion_mnist

    monkeypatch.setattr(
        _fashion_mnist, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-package"
    )
