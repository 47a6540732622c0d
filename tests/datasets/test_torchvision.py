"""``torchvision:NAME``: any torchvision dataset, offline-safe, from raw files."""

import numpy as np
import pytest

from sklearn_subspace.datasets import DatasetUnavailableError, load_dataset
from sklearn_subspace.datasets._torchvision import (
    _channels_last,
    torchvision_dataset_class,
)

from .idx_utils import write_mnist_files


def test_missing_mnist_without_download_says_where_and_how(tmp_path):
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("torchvision:MNIST", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert f"MNIST was not found under {tmp_path}" in message
    assert "downloading is off" in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "--data-dir" in message


def test_offline_switch_wins_over_download_true(tmp_path, monkeypatch):
    # With the switch on, torchvision is never asked to download: the error
    # says downloading is off instead of reporting a failed connection.
    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError, match="downloading is off"):
        load_dataset("torchvision:KMNIST", data_dir=tmp_path, download=True)


@pytest.mark.parametrize("gzipped", [True, False])
def test_raw_idx_files_in_torchvision_layout_are_loaded(tmp_path, gzipped):
    written = write_mnist_files(tmp_path / "MNIST" / "raw", gzipped=gzipped)
    data = load_dataset("torchvision:MNIST", data_dir=tmp_path, download=False)
    assert data.name == "torchvision:MNIST"
    assert data.modality == "image"
    assert data.X_train.shape == (60, 28, 28, 1)
    assert data.X_test.shape == (20, 28, 28, 1)
    assert data.X_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.X_train[..., 0], written["train"][0])
    np.testing.assert_array_equal(data.y_test, written["test"][1])


def test_a_folder_holding_the_raw_files_itself_is_accepted(tmp_path):
    write_mnist_files(tmp_path, n_train=40, n_test=10)
    data = load_dataset(
        "torchvision:FashionMNIST",
        data_dir=tmp_path,
        download=False,
        max_train_samples=20,
    )
    assert data.X_train.shape == (20, 28, 28, 1)
    # The stratified subsample keeps the ten classes balanced.
    assert np.bincount(data.y_train).tolist() == [2] * 10


def test_dataset_names_are_matched_case_insensitively():
    assert torchvision_dataset_class("kmnist").__name__ == "KMNIST"
    assert torchvision_dataset_class("CIFAR10").__name__ == "CIFAR10"


def test_unknown_torchvision_dataset_lists_examples():
    with pytest.raises(ValueError, match=r"torchvision has no dataset 'MNSIT'.*MNIST"):
        load_dataset("torchvision:MNSIT", download=False)


def test_a_dataset_without_a_train_test_split_is_refused(tmp_path):
    # FakeData takes neither train= nor split=.
    with pytest.raises(ValueError, match="FakeData takes neither train= nor split="):
        load_dataset("torchvision:FakeData", data_dir=tmp_path, download=False)


def test_channels_first_arrays_become_channels_last():
    svhn_like = np.zeros((5, 3, 32, 32), dtype=np.uint8)
    assert _channels_last(svhn_like).shape == (5, 32, 32, 3)
    cifar_like = np.zeros((5, 32, 32, 3), dtype=np.uint8)
    assert _channels_last(cifar_like).shape == (5, 32, 32, 3)
    assert _channels_last(np.zeros((5, 28, 28), dtype=np.uint8)).shape == (
        5,
        28,
        28,
        1,
    )


def test_unknown_dataset_lists_fashion_mnist_and_torchvision():
    with pytest.raises(ValueError, match=r"fashion-mnist, torchvision:NAME"):
        load_dataset("fashion_mnist")
