"""The ``sklearn-subspace`` command line: end to end, real code paths, errors."""

import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sklearn_subspace import cli
from sklearn_subspace.study._report import OUTPUT_FILES

# The commands train the embedded teacher and run whole studies: slow.
pytestmark = pytest.mark.slow


@pytest.fixture
def embedded_cache(digits_teacher_cache):
    """The session's library cache: its digits teacher is trained once."""
    return digits_teacher_cache


def test_study_command_runs_end_to_end_and_writes_its_three_files(
    tmp_path, embedded_cache, capsys
):
    # In this process: the console entry point itself is started in a fresh
    # interpreter by the bad-input tests (test_console_command_exits_2_...).
    out = tmp_path / "out"
    args = [
        "study",
        "--ks", "64,8",
        "--projections", "gaussian",
        "--baselines", "full", "pca",
        "--seeds", "1",
        "--max-epochs", "3",
        "--cache-dir", str(embedded_cache),
        "--out", str(out),
    ]  # fmt: skip
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    for name in OUTPUT_FILES.values():
        assert (out / name).is_file()
    table = pd.read_csv(out / OUTPUT_FILES["csv"])
    assert sorted(zip(table["method"], table["n_components"])) == [
        ("full", 2048),
        ("gaussian", 8),
        ("gaussian", 64),
        ("pca", 8),
        ("pca", 64),
    ]
    assert (table["teacher"] == "digits-cnn2048").all()
    # The table is printed, and progress is shown on stderr.
    assert "### digits-cnn2048 (d = 2048)" in printed.out
    # Columns may be padded to align the table.
    assert re.search(r"\|\s*64\s*\|\s*32x\s*\|", printed.out)
    assert "Wall time:" in printed.out
    assert "compression study" in printed.err


def test_distill_command_runs_on_the_embedded_digits_task(
    tmp_path, embedded_cache, capsys
):
    # The real digits task and its CNN teacher (trained once for the module),
    # with tiny budgets for the students.
    out = tmp_path / "out"
    args = [
        "distill",
        "--ks", "16",
        "--methods", "scratch", "kd", "subspace",
        "--seeds", "1",
        "--max-epochs", "20",
        "--hidden", "32",
        "--max-train-samples", "400",
        "--max-test-samples", "200",
        "--device", "cpu",
        "--cache-dir", str(embedded_cache),
        "--out", str(out),
        "--quiet",
    ]  # fmt: skip
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "### Subspace-native distillation on digits-cnn2048" in printed
    assert "logits from the teacher network output" in printed
    table = pd.read_csv(out / "distillation_comparison.csv")
    students = table[table["method"] != "teacher"]
    assert sorted(students["method"]) == ["kd", "scratch", "subspace"]
    # Twenty short epochs take every student far above chance (10 %).
    assert (students["test_accuracy"] > 0.5).all()


def test_console_script_runs_the_same_main():
    from importlib.metadata import entry_points

    scripts = entry_points(group="console_scripts", name="sklearn-subspace")
    if not scripts:
        pytest.skip("the package is installed without its console script")
    (script,) = scripts
    assert script.load() is cli.main


def test_rerun_resumes_from_checkpoints_without_refitting(
    tmp_path, embedded_cache, monkeypatch
):
    from sklearn_subspace.study import _study

    args = [
        "study",
        "--ks", "16",
        "--projections", "srht",
        "--baselines",
        "--seeds", "2",
        "--max-epochs", "2",
        "--max-train-samples", "200",
        "--max-test-samples", "100",
        "--cache-dir", str(embedded_cache),
        "--out", str(tmp_path / "out"),
        "--quiet",
    ]  # fmt: skip
    assert cli.main(args) == 0
    first = pd.read_csv(tmp_path / "out" / OUTPUT_FILES["csv"])
    assert len(first) == 2
    assert list((tmp_path / "out" / "checkpoints").glob("*.csv"))

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished configuration was fitted again")

    monkeypatch.setattr(_study, "_run_config", must_not_run)
    assert cli.main(args) == 0
    second = pd.read_csv(tmp_path / "out" / OUTPUT_FILES["csv"])
    assert not first["resumed"].any() and second["resumed"].all()
    pd.testing.assert_frame_equal(
        second.drop(columns="resumed"), first.drop(columns="resumed")
    )


def _write_images(folder, n_per_class=8):
    rng = np.random.default_rng(0)
    for label in ("ants", "bees"):
        (folder / label).mkdir(parents=True)
        for i in range(n_per_class):
            pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / label / f"{i}.png")


def test_real_teacher_path_runs_on_a_tiny_random_torchvision_model(tmp_path, capsys):
    # The same path as --teacher vit_b_16 --dataset imagefolder:PATH, with a
    # small randomly initialised model so that it runs offline in seconds.
    _write_images(tmp_path / "images")
    args = [
        "study",
        "--teacher", "mobilenet_v3_small",
        "--weights", "none",
        "--dataset", f"imagefolder:{tmp_path / 'images'}",
        "--device", "cpu",
        "--ks", "8",
        "--projections", "gaussian",
        "--baselines", "full",
        "--seeds", "1",
        "--max-epochs", "2",
        "--cache-dir", str(tmp_path / "cache"),
        "--out", str(tmp_path / "out"),
        "--quiet",
    ]  # fmt: skip
    assert cli.main(args) == 0
    table = pd.read_csv(tmp_path / "out" / OUTPUT_FILES["csv"])
    assert table["teacher"].unique().tolist() == ["mobilenet_v3_small"]
    d = table.loc[table["method"] == "full", "n_components"].iloc[0]
    assert (
        table.loc[table["method"] == "gaussian", "compression_ratio"].iloc[0] == d / 8
    )
    assert "mobilenet_v3_small" in capsys.readouterr().out


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--teacher", "resnet5O"], "Unknown teacher 'resnet5O'"),
        (["--dataset", "mnli"], "cannot run on dataset 'mnli'"),
        (["--dataset", "cifar10"], "Unknown dataset 'cifar10'"),
        (["--teacher", "resnet50", "--dataset", "svhn"], "Unknown dataset 'svhn'"),
        (["--ks", "4096"], "k must not exceed the embedded feature dimension d=2048"),
        (["--teacher", "bert-base-uncased", "--ks", "1024"], "d=768"),
        (["--device", "tpu"], "Unknown device 'tpu'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(tmp_path, capsys, extra, message):
    status = cli.main(
        ["study", "--cache-dir", str(tmp_path), "--out", str(tmp_path), *extra]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert err.startswith("sklearn-subspace study: error:")
    assert "Traceback" not in err


def test_unknown_projection_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["study", "--projections", "gaussian,fourier"])
    assert info.value.code == 2
    assert "unknown projections 'fourier'" in capsys.readouterr().err


def test_missing_dataset_offline_exits_1_naming_it_and_the_fix(tmp_path, capsys):
    status = cli.main(
        [
            "study",
            "--teacher",
            "resnet50",
            "--dataset",
            "cifar100",
            "--no-download",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
        ]  # fmt: skip
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "CIFAR-100 was not found under" in err
    assert "cifar-100-python" in err
    assert "Traceback" not in err


def test_missing_weights_offline_exits_1_naming_them_and_the_fix(
    tmp_path, monkeypatch, capsys
):
    _write_images(tmp_path / "images", n_per_class=5)
    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    status = cli.main(
        [
            "study",
            "--teacher",
            "resnet50",
            "--dataset",
            f"imagefolder:{tmp_path / 'images'}",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]  # fmt: skip
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "weights" in err.lower() and "resnet50" in err
    assert "weights=None" in err or "weights='" in err
    assert "Traceback" not in err


def test_traceback_flag_reraises(tmp_path):
    with pytest.raises(ValueError, match="k must not exceed"):
        cli.main(["--traceback", "study", "--ks", "4096", "--out", str(tmp_path)])


# -- extending the command line -----------------------------------------------------------
def test_a_subcommand_is_added_by_one_add_parser_function(monkeypatch, capsys):
    def add_parser(subparsers):
        parser = subparsers.add_parser("hello", help="say hello")
        parser.add_argument("--name", default="world")
        parser.set_defaults(handler=lambda args: print(f"hello {args.name}") or 0)
        return parser

    monkeypatch.setattr(cli, "SUBCOMMANDS", [*cli.SUBCOMMANDS, add_parser])
    assert cli.main(["hello", "--name", "subspace"]) == 0
    assert capsys.readouterr().out == "hello subspace\n"
    assert {"study", "hello"} <= set(
        cli.build_parser()._subparsers._group_actions[0].choices
    )


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "{study" in capsys.readouterr().err
