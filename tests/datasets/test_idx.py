"""The IDX reader: gzipped or not, exact values, clear errors on bad files."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_subspace.datasets._idx import find_idx_files, load_idx_dataset, read_idx

from .idx_utils import write_idx, write_mnist_files


@settings(max_examples=25, deadline=None)
@given(
    array=arrays(
        np.uint8,
        st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
    ),
    gzipped=st.booleans(),
)
def test_read_idx_returns_exactly_what_was_written(tmp_path_factory, array, gzipped):
    path = tmp_path_factory.mktemp("idx") / "data-idx-ubyte"
    write_idx(path, array, gzipped=gzipped)
    read = read_idx(path)
    assert read.dtype == np.uint8
    assert read.shape == array.shape
    np.testing.assert_array_equal(read, array)


def test_gzip_is_recognised_by_content_not_by_name(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"  # no .gz suffix, yet gzipped
    write_idx(path, np.array([3, 1, 4], dtype=np.uint8), gzipped=True)
    np.testing.assert_array_equal(read_idx(path), [3, 1, 4])


def test_big_endian_int32_values_are_read_in_native_order(tmp_path):
    path = tmp_path / "values-idx1-int"
    values = np.array([1, -2, 70000], dtype=">i4")
    path.write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 3]) + values.tobytes())
    read = read_idx(path)
    assert read.dtype == np.dtype("int32")
    np.testing.assert_array_equal(read, [1, -2, 70000])


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x89PNG\r\n\x1a\n", "is not an IDX file"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "unknown IDX type code 0x07"),
        (bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]), "is truncated"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path, payload, message):
    path = tmp_path / "bad-idx"
    with gzip.open(path, "wb") as handle:
        handle.write(payload)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_find_idx_files_prefers_uncompressed_and_needs_all_four(tmp_path):
    write_mnist_files(tmp_path, gzipped=True)
    write_mnist_files(tmp_path, gzipped=False)
    found = find_idx_files(tmp_path)
    assert [p.name for p in found["train"]] == [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ]
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    assert find_idx_files(tmp_path)["test"][1].name == "t10k-labels-idx1-ubyte.gz"
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    assert find_idx_files(tmp_path) is None


def test_load_idx_dataset_gives_images_and_int64_labels(tmp_path):
    written = write_mnist_files(tmp_path, n_train=30, n_test=10)
    X_train, y_train, X_test, y_test = load_idx_dataset(tmp_path)
    assert X_train.shape == (30, 28, 28) and X_test.shape == (10, 28, 28)
    assert X_train.dtype == np.uint8 and y_train.dtype == np.int64
    np.testing.assert_array_equal(X_train, written["train"][0])
    np.testing.assert_array_equal(y_test, written["test"][1])


def test_images_and_labels_of_different_lengths_are_rejected(tmp_path):
    write_mnist_files(tmp_path, n_train=30, n_test=10)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(9), gzipped=True)
    with pytest.raises(ValueError, match=r"images of shape \(10, 28, 28\).*\(9,\)"):
        load_idx_dataset(tmp_path)
