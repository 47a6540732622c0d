"""Checkpoints are loaded as plain weights: a pickle payload never runs."""

import hashlib

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    _zoo_torchvision,
    clear_model_cache,
)

IMAGES = np.random.RandomState(0).rand(2, 3, 32, 32).astype(np.float32)


class _Payload:
    """Unpickling this creates ``marker``: proof that pickled code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _write_payload(path, marker):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"fc.weight": _Payload(marker)}, path)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    # Teachers built from names are kept in memory: each test reads its file.
    clear_model_cache()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    yield tmp_path / "torch_home" / "hub" / "checkpoints"
    clear_model_cache()


def test_a_pickle_payload_in_the_hub_cache_does_not_run(torch_home, tmp_path):
    marker = tmp_path / "payload-ran"
    _write_payload(torch_home / "resnet18-f37072fd.pth", marker)
    with pytest.raises(ValueError, match="not the official file") as info:
        TorchFeatureExtractor("resnet18", weights="DEFAULT", device="cpu").fit(IMAGES)
    assert not marker.exists()
    message = str(info.value)
    assert "sha256" in message and "f37072fd" in message
    assert "weights=" in message  # says how to go on


def test_a_pickle_payload_given_as_weights_file_does_not_run(tmp_path):
    marker = tmp_path / "payload-ran"
    _write_payload(tmp_path / "evil.pth", marker)
    with pytest.raises(ValueError, match="weights_only=True"):
        TorchFeatureExtractor(
            "resnet18", weights=tmp_path / "evil.pth", device="cpu"
        ).fit(IMAGES)
    assert not marker.exists()


def test_a_pickle_payload_given_to_timm_does_not_run(tmp_path):
    pytest.importorskip("timm")
    marker = tmp_path / "payload-ran"
    _write_payload(tmp_path / "evil.pth", marker)
    with pytest.raises(ValueError, match="weights_only=True"):
        TorchFeatureExtractor(
            "timm:test_vit", weights=str(tmp_path / "evil.pth"), device="cpu"
        ).fit(IMAGES)
    assert not marker.exists()


def _hub_file(torch_home, state, monkeypatch):
    """Save ``state`` under a hub name carrying its own sha256 prefix."""
    torch_home.mkdir(parents=True, exist_ok=True)
    tmp = torch_home / "staging.pth"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = torch_home / f"resnet18-{digest[:8]}.pth"
    tmp.rename(path)
    monkeypatch.setattr(_zoo_torchvision, "_checkpoint_path", lambda weights: path)
    return path, digest


def test_a_verified_hub_checkpoint_is_loaded_and_its_hash_keys_the_cache(
    torch_home, monkeypatch
):
    import torchvision

    torch.manual_seed(3)
    net = torchvision.models.resnet18()
    _, digest = _hub_file(torch_home, net.state_dict(), monkeypatch)
    extractor = TorchFeatureExtractor("resnet18", weights="DEFAULT", device="cpu")
    features = extractor.fit_transform(IMAGES)
    assert digest in extractor.model_id_
    net.fc = torch.nn.Identity()
    with torch.inference_mode():
        expected = net.eval()(torch.from_numpy(IMAGES)).numpy()
    assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_a_cached_checkpoint_of_another_model_is_a_clear_value_error(
    torch_home, monkeypatch
):
    _hub_file(torch_home, torch.nn.Linear(2, 2).state_dict(), monkeypatch)
    with pytest.raises(ValueError, match="does not fit torchvision model 'resnet18'"):
        TorchFeatureExtractor("resnet18", weights="DEFAULT", device="cpu").fit(IMAGES)


def test_the_installed_torch_is_not_affected_by_cve_2025_32434():
    # weights_only=True is only a barrier from torch 2.6 on.
    major, minor = (int(p) for p in torch.__version__.split(".")[:2])
    assert (major, minor) >= (2, 6)
