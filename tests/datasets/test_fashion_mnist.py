"""Fashion-MNIST by name: from data_dir, torchvision's layout or the Debian package."""

import numpy as np
import pandas as pd
import pytest

from sklearn_subspace import cli
from sklearn_subspace.datasets import DatasetUnavailableError, load_dataset
from sklearn_subspace.datasets._fashion_mnist import DEBIAN_FASHION_MNIST

from .idx_utils import hide_debian_fashion_mnist, write_mnist_files

needs_package = pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir(),
    reason="needs the real Fashion-MNIST files: apt-get install dataset-fashion-mnist",
)


@pytest.mark.parametrize("layout", [".", "FashionMNIST/raw"])
def test_idx_files_are_found_in_data_dir_or_torchvision_layout(
    tmp_path, monkeypatch, layout
):
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    written = write_mnist_files(tmp_path / layout)
    data = load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    assert data.name == "fashion-mnist" and data.modality == "image"
    assert data.X_train.shape == (60, 28, 28, 1)
    np.testing.assert_array_equal(data.y_train, written["train"][1])


def test_missing_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "downloading is off" in message


def test_offline_switch_keeps_fashion_mnist_from_downloading(tmp_path, monkeypatch):
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError, match="downloading is off"):
        load_dataset("fashion-mnist", data_dir=tmp_path, download=True)


@pytest.mark.slow  # reads the 70,000 real images
@needs_package
def test_the_debian_package_gives_the_real_dataset(tmp_path):
    data = load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    assert data.X_train.shape == (60000, 28, 28, 1)
    assert data.X_test.shape == (10000, 28, 28, 1)
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    # The first labels of the published training file.
    assert data.y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


@pytest.mark.slow  # trains the CNN teacher and runs the study
def test_study_command_runs_on_fashion_mnist_files(tmp_path, monkeypatch, capsys):
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    write_mnist_files(tmp_path / "data", n_train=100, n_test=40)
    status = cli.main(
        [
            "study",
            "--dataset",
            "fashion-mnist",
            "--data-dir",
            str(tmp_path / "data"),
            "--no-download",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "out"),
            "--ks",
            "16",
            "--projections",
            "gaussian",
            "--baselines",
            "full",
            "pca",
            "--seeds",
            "1",
            "--max-epochs",
            "2",
            "--quiet",
        ]
    )
    assert status == 0
    table = pd.read_csv(tmp_path / "out" / "compression_study.csv")
    assert table["teacher"].unique().tolist() == ["fashion-mnist-cnn2048"]
    assert sorted(table["method"]) == ["full", "gaussian", "pca"]
    assert table.loc[table["method"] == "full", "n_features"].iloc[0] == 2048
    assert len(list((tmp_path / "cache" / "teachers").glob("fashion-mnist-*.pt"))) == 1
    assert "fashion-mnist" in capsys.readouterr().out
