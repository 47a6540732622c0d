"""Offline means no network at all: every loader fails fast, nothing connects."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from reliability_utils import subprocess_env

_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys, time

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[1:] if args else kwargs)[:80])
        raise OSError("network blocked by the test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import numpy as np
    from sklearn_subspace.datasets import load_dataset
    from sklearn_subspace.teachers import TorchFeatureExtractor

    images = np.zeros((1, 3, 32, 32), np.float32)
    loaders = {
        "torchvision": lambda: TorchFeatureExtractor("resnet18", device="cpu").fit(images),
        "timm": lambda: TorchFeatureExtractor("timm:test_vit", device="cpu").fit(images),
        "hugging face": lambda: TorchFeatureExtractor(
            "sklearn-subspace-tests/no-such-model", device="cpu").fit(["a text"]),
        "cifar100": lambda: load_dataset("cifar100", data_dir=sys.argv[1]),
        "mnli": lambda: load_dataset("mnli", data_dir=sys.argv[1]),
    }
    report = {}
    for name, load in loaders.items():
        start = time.monotonic()
        try:
            load()
            outcome = "loaded"
        except Exception as exc:
            outcome = type(exc).__name__ + ": " + str(exc)
        report[name] = {"seconds": time.monotonic() - start, "outcome": outcome}
    print(json.dumps({"loaders": report, "attempts": attempts}))
    """
)


@pytest.mark.slow  # runs every loader in a fresh interpreter
@pytest.mark.parametrize("switch", ["SKLEARN_SUBSPACE_OFFLINE", "HF_HUB_OFFLINE"])
def test_every_loader_fails_fast_offline_without_touching_the_network(tmp_path, switch):
    pytest.importorskip("timm")
    pytest.importorskip("datasets")
    env = subprocess_env()
    for name in (
        "SKLEARN_SUBSPACE_OFFLINE",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_DATASETS_OFFLINE",
    ):
        env.pop(name, None)
    env[switch] = "1"
    env["TORCH_HOME"] = str(tmp_path / "torch")
    env["HF_HOME"] = str(tmp_path / "hf")
    env["HF_DATASETS_CACHE"] = str(tmp_path / "hf-datasets")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    expected = {
        "torchvision": "WeightsUnavailableError",
        "timm": "WeightsUnavailableError",
        "hugging face": "WeightsUnavailableError",
        "cifar100": "DatasetUnavailableError",
        "mnli": "DatasetUnavailableError",
    }
    for name, error in expected.items():
        loader = result["loaders"][name]
        assert loader["outcome"].startswith(error), (name, loader)
        assert loader["seconds"] < 10, (name, loader)
    assert "offline" in result["loaders"]["timm"]["outcome"]
    # The MNLI error names the dataset and how to supply it offline.
    mnli = result["loaders"]["mnli"]["outcome"]
    assert "MNLI ('nyu-mll/glue', config 'mnli')" in mnli
    assert "HF_DATASETS_OFFLINE=1" in mnli
    assert (
        os.path.isdir(tmp_path)
        and not (tmp_path / "data" / "cifar-100-python").exists()
    )
