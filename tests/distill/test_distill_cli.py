import numpy as np
import pytest
import torch
from sklearn.utils import Bunch
from torch import nn

import sklearn_subspace.study
from sklearn_subspace.cli import build_parser, main
from sklearn_subspace.teachers import TorchFeatureExtractor


@pytest.fixture
def tiny_embedded_task(monkeypatch):
    """Replace the embedded digits task by a tiny one that needs no training."""
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

    def load_embedded_task(*, cache_dir=None, random_state=0, verbose=0):
        calls.append({"cache_dir": cache_dir, "random_state": random_state})
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

    monkeypatch.setattr(
        sklearn_subspace.study, "load_embedded_task", load_embedded_task
    )
    return calls


def test_distill_subcommand_is_registered_with_its_defaults():
    args = build_parser().parse_args(["distill"])
    assert args.command == "distill"
    assert (args.ks, args.seeds, args.max_epochs, args.hidden) == (None, 3, 30, [256])
    assert callable(args.handler)


def test_distill_prints_the_comparison_table_and_writes_files(
    tiny_embedded_task, tmp_path, capsys
):
    out = tmp_path / "results"
    status = main(
        [
            "distill",
            "--ks",
            "4,8",
            "--seeds",
            "1",
            "--max-epochs",
            "2",
            "--hidden",
            "8",
            "--cache-dir",
            str(tmp_path),
            "--device",
            "cpu",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert status == 0
    assert tiny_embedded_task == [{"cache_dir": str(tmp_path), "random_state": 0}]
    printed = capsys.readouterr().out
    assert "### Subspace-native distillation on tiny-task" in printed
    for row in (
        "| scratch (cross-entropy) |",
        "| Hinton KD |",
        "| subspace-native | 8 |",
    ):
        assert row in printed
    assert "logits from the teacher network output" in printed
    assert (out / "distillation_comparison.csv").is_file()
    assert (out / "distillation_learning_curves.png").is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["distill", "--methods", "dark"],
        ["distill", "--alpha", "2"],
        ["distill", "--ks", "0"],
        ["distill", "--projection", "dct"],
    ],
)
def test_bad_distill_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err
