"""The ``distill`` subcommand: its options, the task it builds, its errors."""

import functools
import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.utils import Bunch
from torch import nn

from sklearn_subspace.cli import build_parser, main
from sklearn_subspace.datasets._fashion_mnist import DEBIAN_FASHION_MNIST
from sklearn_subspace.study import _tasks
from sklearn_subspace.teachers import TorchFeatureExtractor

from ..datasets.idx_utils import hide_debian_fashion_mnist, write_mnist_files

# Small budgets for every run of the command in these tests.
TINY = ["--seeds", "1", "--max-epochs", "2", "--hidden", "8", "--device", "cpu"]


@pytest.fixture
def tiny_embedded_task(monkeypatch):
    """Replace the embedded task by a tiny one that needs no training.

    Returns the calls made to the task loader, with their arguments, and the
    task's training labels.
    """
    rng = np.random.default_rng(0)
    X = rng.random((120, 1, 4, 4), dtype=np.float32)
    y = (X.reshape(120, -1)[:, :8].sum(axis=1) > 4).astype(int) + 2 * (
        X[:, 0, 3, 3] > 0.5
    )
    torch.manual_seed(0)
    teacher = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)
    )
    calls = []

    def load_embedded_task(dataset, **kwargs):
        calls.append({"dataset": dataset, **kwargs})
        return Bunch(
            X_train=X[:90],
            X_test=X[90:],
            y_train=y[:90],
            y_test=y[90:],
            teacher=teacher,
            extractor=TorchFeatureExtractor(teacher, layer="2", device="cpu"),
            n_features=32,
            name="tiny-task",
        )

    monkeypatch.setattr(_tasks, "load_embedded_task", load_embedded_task)
    return Bunch(calls=calls, y_train=y[:90])


@pytest.fixture
def comparison_calls(monkeypatch):
    """Record what the command passes to ``distillation_comparison``."""
    from sklearn_subspace.distill import _baselines

    calls = []
    real = _baselines.distillation_comparison

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(_baselines, "distillation_comparison", record)
    return calls


def test_distill_subcommand_is_registered_with_its_defaults():
    args = build_parser().parse_args(["distill"])
    assert args.command == "distill"
    assert (args.ks, args.seeds, args.max_epochs, args.hidden) == (None, 3, 30, [256])
    assert (args.dataset, args.max_train_samples, args.max_test_samples) == (
        "digits",
        None,
        None,
    )
    assert (args.data_dir, args.no_download) == (None, False)
    assert callable(args.handler)


def test_list_options_take_spaces_and_commas_alike():
    args = build_parser().parse_args(
        ["distill", "--ks", "16,64", "256", "--methods", "scratch",
         "subspace-cosine,subspace-mixed"]
    )  # fmt: skip
    assert args.ks == [16, 64, 256]
    assert args.methods == ["scratch", "subspace-cosine", "subspace-mixed"]


@pytest.mark.slow  # runs the command's comparison end to end
def test_distill_prints_the_comparison_table_and_writes_files(
    tiny_embedded_task, tmp_path, capsys
):
    out = tmp_path / "results"
    status = main(
        ["distill", "--ks", "4,8", *TINY, "--cache-dir", str(tmp_path),
         "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert status == 0
    assert tiny_embedded_task.calls == [
        {
            "dataset": "digits",
            "data_dir": None,
            "download": True,
            "cache_dir": tmp_path,
            "random_state": 0,
            "verbose": 0,
        }
    ]
    printed = capsys.readouterr().out
    assert "### Subspace-native distillation on tiny-task" in printed
    # Columns may be padded to align the table.
    for row in (
        r"\| scratch \(cross-entropy\) +\|",
        r"\| Hinton KD +\|",
        r"\| subspace-native +\| +8 \|",
    ):
        assert re.search(row, printed)
    assert "logits from the teacher network output" in printed
    assert (out / "distillation_comparison.csv").is_file()
    assert (out / "distillation_learning_curves.png").is_file()


def test_dataset_and_its_switches_reach_the_task_loader(tiny_embedded_task, tmp_path):
    status = main(
        ["distill", "--dataset", "torchvision:KMNIST", "--data-dir", str(tmp_path),
         "--no-download", "--random-state", "3", "--ks", "4", "--methods",
         "subspace", *TINY, "--cache-dir", str(tmp_path), "--quiet"]
    )  # fmt: skip
    assert status == 0
    (call,) = tiny_embedded_task.calls
    assert (call["dataset"], call["data_dir"], call["download"]) == (
        "torchvision:KMNIST",
        str(tmp_path),
        False,
    )
    assert call["random_state"] == 3


def test_students_get_subsampled_pixels_and_kd_the_cnn_logits(
    tiny_embedded_task, comparison_calls, tmp_path
):
    status = main(
        ["distill", "--max-train-samples", "60", "--max-test-samples", "20",
         "--ks", "4", "--methods", "kd", "subspace", *TINY,
         "--cache-dir", str(tmp_path), "--quiet"]
    )  # fmt: skip
    assert status == 0
    ((X_train, y_train, X_test, y_test), kwargs) = comparison_calls[0]
    # Stratified subsamples of the task's float32 images in [0, 1].
    assert X_train.shape == (60, 1, 4, 4) and X_test.shape == (20, 1, 4, 4)
    assert X_train.dtype == np.float32
    assert 0 <= X_train.min() and X_train.max() <= 1
    full = np.bincount(tiny_embedded_task.y_train)
    np.testing.assert_allclose(np.bincount(y_train), full * 60 / 90, atol=1)
    # The teacher's features come from the CNN's penultimate layer and KD
    # distils the same CNN's logits.
    assert kwargs["teacher_logits"] is kwargs["teacher"].model
    assert kwargs["methods"] == ["kd", "subspace"]
    assert (kwargs["n_components"], kwargs["max_epochs"], kwargs["tol"]) == (
        [4],
        2,
        None,
    )


@pytest.mark.slow  # runs the command's comparison end to end
def test_parallel_resume_and_mixed_options_reach_the_comparison(
    tiny_embedded_task, comparison_calls, tmp_path
):
    base = ["distill", "--ks", "4", "--methods", "subspace-mixed", *TINY,
            "--cache-dir", str(tmp_path), "--quiet"]  # fmt: skip
    out = tmp_path / "out"
    argv = [*base, "--mixed-alpha", "0.3", "--n-jobs", "1", "--threads", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    assert main([*base, "--out", str(out), "--no-resume", "--threads", "0"]) == 0
    assert main([*base, "--checkpoint-dir", str(tmp_path / "ckpt")]) == 0
    assert main(base) == 0
    settings = [
        {key: kwargs[key] for key in ("mixed_alpha", "n_jobs", "n_threads")}
        for _, kwargs in comparison_calls
    ]
    assert settings[0] == {"mixed_alpha": 0.3, "n_jobs": 1, "n_threads": 2}
    # --threads 0 keeps torch's setting.
    assert settings[1] == {"mixed_alpha": 0.5, "n_jobs": None, "n_threads": None}
    assert [kwargs["checkpoint_dir"] for _, kwargs in comparison_calls] == [
        out / "checkpoints",
        None,
        str(tmp_path / "ckpt"),
        None,
    ]
    assert all(kwargs["client"] is None for _, kwargs in comparison_calls)
    table = pd.read_csv(out / "distillation_comparison.csv")
    assert set(table["method"]) == {"teacher", "subspace-mixed"}


@pytest.mark.slow  # runs the command's comparison end to end
def test_a_rerun_resumes_from_the_checkpoints_of_out(tiny_embedded_task, tmp_path):
    argv = ["distill", "--ks", "4", "--methods", "scratch", "subspace", *TINY,
            "--cache-dir", str(tmp_path), "--out", str(tmp_path / "out"),
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    first = pd.read_csv(tmp_path / "out" / "distillation_comparison.csv")
    assert main(argv) == 0
    second = pd.read_csv(tmp_path / "out" / "distillation_comparison.csv")
    students = second["method"] != "teacher"
    assert not first.loc[students, "resumed"].any()
    assert second.loc[students, "resumed"].all()
    pd.testing.assert_series_equal(
        second.loc[students, "test_accuracy"], first.loc[students, "test_accuracy"]
    )


@pytest.mark.slow  # runs the command's comparison end to end
def test_distill_runs_on_fashion_mnist_files(tmp_path, monkeypatch, capsys):
    # Tiny Fashion-MNIST-style IDX files: the real loader, the real CNN
    # teacher (trained on 100 images) and its cache, in seconds.
    hide_debian_fashion_mnist(monkeypatch, tmp_path)
    write_mnist_files(tmp_path / "data", n_train=100, n_test=40)
    out = tmp_path / "out"
    status = main(
        ["distill", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "data"),
         "--no-download", "--cache-dir", str(tmp_path / "cache"), "--ks", "16",
         "--methods", "scratch,kd,subspace", *TINY, "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert status == 0
    assert "distillation on fashion-mnist-cnn2048" in capsys.readouterr().out
    table = pd.read_csv(out / "distillation_comparison.csv")
    assert {"scratch", "kd", "subspace"} <= set(table["method"])
    assert len(list((tmp_path / "cache" / "teachers").glob("fashion-mnist-*.pt"))) == 1


@pytest.mark.slow
@pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir(),
    reason="needs the real Fashion-MNIST files: apt-get install dataset-fashion-mnist",
)
def test_distill_on_the_real_fashion_mnist(tmp_path, monkeypatch, capsys):
    # The command trains its teacher on all 60,000 training images (minutes);
    # here the teacher trains on a stratified 500 of them, so that the real
    # files, images and CNN run end to end in seconds.
    monkeypatch.setattr(
        _tasks,
        "load_embedded_task",
        functools.partial(
            _tasks.load_embedded_task, max_train_samples=500, max_test_samples=500
        ),
    )
    out = tmp_path / "out"
    status = main(
        ["distill", "--dataset", "fashion-mnist", "--ks", "64", "--methods",
         "scratch,kd,subspace", "--seeds", "1", "--max-epochs", "15", "--hidden", "64",
         "--device", "cpu", "--cache-dir", str(tmp_path), "--out", str(out),
         "--quiet"]
    )  # fmt: skip
    assert status == 0
    assert "fashion-mnist-cnn2048" in capsys.readouterr().out
    table = pd.read_csv(out / "distillation_comparison.csv")
    students = table[table["method"] != "teacher"]
    assert sorted(students["method"]) == ["kd", "scratch", "subspace"]
    # Ten classes: chance is 10 %; these small students reach far above it.
    assert (students["test_accuracy"] > 0.5).all()


@pytest.mark.parametrize(
    "argv",
    [
        ["distill", "--methods", "dark"],
        ["distill", "--alpha", "2"],
        ["distill", "--ks", "0"],
        ["distill", "--projection", "dct"],
        ["distill", "--max-train-samples", "0"],
    ],
)
def test_bad_distill_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("dataset", ["mnli", "imagefolder:/data/images"])
def test_datasets_the_cnn_cannot_train_on_are_refused_by_the_parser(dataset, capsys):
    with pytest.raises(SystemExit) as info:
        main(["distill", "--dataset", dataset])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"cannot use {dataset!r}" in err
    assert "use digits, fashion-mnist, cifar100 or torchvision:NAME" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ks", "64", "4096"], "--ks 4096: k must not exceed the embedded feature "
         "dimension d=2048"),
        (["--device", "tpu"], "Unknown device 'tpu'"),
    ],
)  # fmt: skip
def test_bad_values_fail_before_the_task_is_loaded(
    tiny_embedded_task, tmp_path, capsys, extra, message
):
    status = main(["distill", "--cache-dir", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("sklearn-subspace distill: error:")
    assert message in err
    assert tiny_embedded_task.calls == []


def test_unknown_dataset_exits_2_naming_it(tmp_path, capsys):
    status = main(["distill", "--dataset", "cifar10", "--cache-dir", str(tmp_path)])
    assert status == 2
    assert "Unknown dataset 'cifar10'" in capsys.readouterr().err
