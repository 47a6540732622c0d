"""``benchmarks/gpu_check.py`` on the CPU: its checks pass and its report holds."""

import dataclasses
import importlib.util
from pathlib import Path

import pytest
import torch

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")


def _tiny_context(gpu_check, tmp_path):
    sizes = dataclasses.replace(
        gpu_check.CPU_SIZES,
        head_rows=2_000,
        head_classes=10,
        head_eval_rows=500,
        distill_samples=64,
        folder_images_per_class=5,
        cache_samples=4,
    )
    return gpu_check.Context(torch.cuda.is_available(), sizes, tmp_path)


@pytest.mark.slow
def test_every_check_but_the_full_size_teachers_passes_on_the_cpu(gpu_check, tmp_path):
    # ResNet-50 and ViT-B/16 at full size are covered by
    # tests/teachers/test_paper_teachers.py; the rest runs here at tiny sizes.
    names = [
        "device auto",
        "head fit",
        "distiller",
        "compression study",
        "feature cache",
    ]
    checks = [(name, check) for name, check in gpu_check.CHECKS if name in names]
    ctx = _tiny_context(gpu_check, tmp_path)
    n_passed, failures = gpu_check.run_checks(ctx, checks)
    assert failures == []
    assert n_passed == len(names)
    results = {check: value for check, figure, value in ctx.rows if figure == "result"}
    assert sorted(results) == sorted(names)
    assert all(value.startswith("pass (") for value in results.values())
    figures = {(check, figure): value for check, figure, value in ctx.rows}
    if not torch.cuda.is_available():
        assert figures[
            ("feature cache", "CPU precision='bfloat16': forward passes")
        ] == ("0 (reused (identical))")
        assert figures[("device auto", "extractor / head device")] == "cpu / cpu"


def test_an_exception_is_a_failure_with_its_traceback(gpu_check, tmp_path):
    def broken(ctx):
        ctx.row("broken", "figure before failing", "1")
        raise RuntimeError("something specific went wrong")

    def fine(ctx):
        ctx.row("fine", "answer", "42")

    ctx = _tiny_context(gpu_check, tmp_path)
    n_passed, failures = gpu_check.run_checks(ctx, [("broken", broken), ("fine", fine)])
    assert n_passed == 1
    assert [name for name, _ in failures] == ["broken"]
    assert "Traceback" in failures[0][1]
    assert "RuntimeError: something specific went wrong" in failures[0][1]
    assert ctx.rows[0][:2] == ("broken", "result")
    assert ctx.rows[0][2].startswith("FAIL (")
    assert ("fine", "answer", "42") in ctx.rows


def test_main_ends_with_the_summary_line_and_exit_status(gpu_check, capsys):
    status = gpu_check.main(["--only", "device auto"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    assert lines[-1] == "gpu-check: 1 passed, 0 failed"
    if not torch.cuda.is_available():
        assert lines[0].startswith("CUDA is absent")
        assert "CUDA is absent: only the CPU parts ran." in lines


def test_unknown_check_names_are_refused(gpu_check, capsys):
    with pytest.raises(SystemExit):
        gpu_check.main(["--only", "no such check"])
    assert "unknown checks ['no such check']" in capsys.readouterr().err
