"""The embedded teacher on small image datasets other than digits."""

import numpy as np
import pytest
import torch

from sklearn_subspace.datasets import (
    RECIPES,
    SmallImageCNN,
    load_embedded_task,
    train_embedded_teacher,
)
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.study._tasks import build_task

from .idx_utils import hide_debian_fashion_mnist, tiny_images, write_mnist_files


def _small_images(n=48, size=28):
    images, labels = tiny_images(n, seed=0, size=size)
    return (images[:, None] / 255).astype(np.float32), labels.astype(np.int64)


@pytest.mark.parametrize(
    "channels, size, flat",
    [(1, 28, 64 * 7 * 7), (3, 32, 64 * 8 * 8), (3, 96, 64 * 8 * 8)],
)
def test_small_image_cnn_has_a_2048_wide_penultimate_layer(channels, size, flat):
    net = SmallImageCNN(n_classes=7, in_channels=channels, image_size=(size, size))
    x = torch.zeros(2, channels, size, size)
    assert net.features(x).shape == (2, flat)
    assert net.embed(net.features(x)).shape == (2, 2048)
    assert net(x).shape == (2, 7)


def test_small_image_cnn_rejects_images_smaller_than_4_pixels():
    with pytest.raises(ValueError, match=r"at least 4 x 4 pixels, got \(3, 28\)"):
        SmallImageCNN(image_size=(3, 28))


@pytest.mark.slow  # trains the small-image CNN twice
def test_teacher_is_deterministic_and_cached_by_dataset_name(tmp_path):
    X, y = _small_images()
    first = train_embedded_teacher(X, y, dataset="tiny", cache_dir=tmp_path / "a")
    second = train_embedded_teacher(X, y, dataset="tiny", cache_dir=tmp_path / "b")
    assert isinstance(first, SmallImageCNN)
    for name, value in first.state_dict().items():
        torch.testing.assert_close(second.state_dict()[name], value, rtol=0, atol=0)
    assert [p.name.split("-")[0] for p in (tmp_path / "a" / "teachers").iterdir()] == [
        "tiny"
    ]
    other = train_embedded_teacher(
        X, y, dataset="tiny", cache_dir=tmp_path / "a", random_state=1
    )
    assert not torch.equal(other.embed[0].weight, first.embed[0].weight)
    assert len(list((tmp_path / "a" / "teachers").glob("tiny-cnn2048-*.pt"))) == 2


@pytest.mark.slow  # trains the small-image CNN
def test_teacher_learns_the_training_images(tmp_path):
    # Brightness encodes the label: 20 one-cycle steps on 500 images get well
    # above chance (10 %) on it.
    images, labels = tiny_images(500, seed=3)
    X = (images[:, None] / 255).astype(np.float32)
    net = train_embedded_teacher(X, labels, dataset="tiny", cache_dir=tmp_path)
    with torch.no_grad():
        accuracy = (net(torch.from_numpy(X)).argmax(1).numpy() == labels).mean()
    assert accuracy > 0.3
    assert not net.training
    assert not any(p.requires_grad for p in net.parameters())


@pytest.mark.slow  # trains the digits CNN and the small-image CNN
def test_only_the_small_image_recipe_warms_up_then_anneals_the_learning_rate(
    tmp_path, monkeypatch
):
    rates = []

    class RecordingOneCycleLR(torch.optim.lr_scheduler.OneCycleLR):
        def step(self, *args, **kwargs):
            super().step(*args, **kwargs)
            rates.append(self.get_last_lr()[0])

    monkeypatch.setattr(torch.optim.lr_scheduler, "OneCycleLR", RecordingOneCycleLR)
    digits = np.random.default_rng(0).random((32, 1, 8, 8), dtype=np.float32)
    train_embedded_teacher(digits, np.arange(32) % 10, cache_dir=tmp_path / "digits")
    assert rates == []  # the digits recipe keeps one learning rate

    X, y = _small_images()  # 48 images: one batch per epoch
    train_embedded_teacher(X, y, dataset="tiny", cache_dir=tmp_path / "tiny")
    recipe = RECIPES["small-image"]
    # The scheduler records its first rate, then steps after every batch;
    # the step after the last batch sets a rate no batch uses.
    used = rates[:-1]
    assert len(used) == recipe["epochs"]
    assert used[0] < max(used) <= recipe["lr"] * (1 + 1e-9)
    assert used[-1] < used[0] / 100


def test_uint8_channels_last_images_are_refused_with_the_conversion():
    X = np.zeros((4, 28, 28, 1), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"shape \(4, 28, 28, 1\).*transpose"):
        train_embedded_teacher(X, np.arange(4))


@pytest.mark.slow  # trains the small-image CNN
def test_embedded_task_on_fashion_mnist_files(tmp_path, monkeypatch):
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    write_mnist_files(tmp_path / "data", n_train=60, n_test=20)
    task = load_embedded_task(
        "fashion-mnist", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache"
    )
    assert task.name == "fashion-mnist-cnn2048"
    assert task.X_train.shape == (60, 1, 28, 28)
    assert task.X_train.dtype == np.float32
    assert 0.0 <= task.X_train.min() and task.X_train.max() <= 1.0
    features = task.extractor.set_params(device="cpu").fit_transform(task.X_test)
    assert features.shape == (20, 2048) and features.dtype == np.float32


@pytest.mark.slow  # trains the small-image CNN
def test_embedded_study_task_on_a_larger_dataset_uses_the_default_head(
    tmp_path, monkeypatch
):
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    write_mnist_files(tmp_path / "data", n_train=60, n_test=20)
    task = build_task(
        "embedded",
        "fashion-mnist",
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        max_train_samples=30,
    )
    assert task.teacher == "fashion-mnist-cnn2048"
    assert len(task.y_train) == 30 and len(task.y_test) == 20
    assert task.head.get_params() == SubspaceHeadClassifier(device="auto").get_params()
    assert task.learned_head is None
