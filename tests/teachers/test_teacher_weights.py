"""Loading weights: local files, offline errors that say how to get weights."""

import time
import urllib.error

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_subspace.teachers import TorchFeatureExtractor, WeightsUnavailableError

IMAGES = np.random.RandomState(0).rand(2, 3, 32, 32).astype(np.float32)


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home"


def test_missing_torchvision_weights_offline_say_where_and_how(empty_torch_home):
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as info:
        TorchFeatureExtractor("resnet18", device="cpu").fit(IMAGES)
    assert time.monotonic() - start < 30
    message = str(info.value)
    expected_file = empty_torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert str(expected_file) in message
    assert "TORCH_HOME" in message
    assert "weights=None" in message
    assert "weights='<path to the .pth file>'" in message


def test_a_torchvision_weights_enum_reaches_the_loader(empty_torch_home, monkeypatch):
    from torchvision.models import ResNet18_Weights

    monkeypatch.setenv("SKLEARN_SUBSPACE_OFFLINE", "1")
    extractor = TorchFeatureExtractor(
        "resnet18", weights=ResNet18_Weights.IMAGENET1K_V1, device="cpu"
    )
    # A valid weights value: fit looks for its checkpoint (absent offline).
    with pytest.raises(WeightsUnavailableError, match="resnet18-f37072fd.pth"):
        extractor.fit(IMAGES)


def test_a_failed_torchvision_download_becomes_the_same_clear_error(
    empty_torch_home, monkeypatch
):
    # Downloads must be allowed here, whatever the environment says, so that
    # the (mocked) download really fails.
    for name in ("SKLEARN_SUBSPACE_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(
        WeightsUnavailableError, match="could not be downloaded"
    ) as info:
        TorchFeatureExtractor("resnet18", weights="IMAGENET1K_V1", device="cpu").fit(
            IMAGES
        )
    assert "Name or service not known" in str(info.value)
    assert isinstance(info.value.__cause__, urllib.error.URLError)


def test_a_local_torchvision_checkpoint_file_is_loaded(tmp_path):
    import torchvision

    torch.manual_seed(3)
    net = torchvision.models.resnet18()
    torch.save(net.state_dict(), tmp_path / "resnet18.pth")
    extractor = TorchFeatureExtractor(
        "resnet18", weights=tmp_path / "resnet18.pth", device="cpu"
    )
    features = extractor.fit_transform(IMAGES)
    assert extractor.model_id_.startswith("torchvision:resnet18:file:")
    net.fc = torch.nn.Identity()
    with torch.inference_mode():
        expected = net.eval()(torch.from_numpy(IMAGES))
    assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_a_checkpoint_of_another_architecture_is_rejected(tmp_path):
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "linear.pth")
    with pytest.raises(ValueError, match="does not fit torchvision model 'resnet18'"):
        TorchFeatureExtractor(
            "resnet18", weights=str(tmp_path / "linear.pth"), device="cpu"
        ).fit(IMAGES)


def test_missing_hugging_face_model_offline_says_how_to_provide_it(monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as info:
        TorchFeatureExtractor("sklearn-subspace-tests/no-such-model").fit(["a text"])
    assert time.monotonic() - start < 30
    message = str(info.value)
    assert "'sklearn-subspace-tests/no-such-model'" in message
    assert "save_pretrained" in message
    assert "HF_HOME" in message
    assert "weights=None" in message


def test_hugging_face_random_weights_come_from_the_config_and_seed(tiny_bert_dir):
    texts = ["the cat sat", "a dog ran"]

    def features(seed):
        return TorchFeatureExtractor(
            f"hf:{tiny_bert_dir}", weights=None, random_state=seed, device="cpu"
        ).fit_transform(texts)

    pretrained = TorchFeatureExtractor(f"hf:{tiny_bert_dir}", device="cpu")
    assert_allclose(features(0), features(0), rtol=1e-6)
    assert not np.allclose(features(0), features(1))
    assert not np.allclose(features(0), pretrained.fit_transform(texts))


def test_hugging_face_weights_directory_overrides_the_name(tiny_bert_dir):
    texts = ["the cat sat"]
    by_weights = TorchFeatureExtractor(
        "bert-base-uncased", weights=str(tiny_bert_dir), device="cpu"
    ).fit_transform(texts)
    by_name = TorchFeatureExtractor(f"hf:{tiny_bert_dir}", device="cpu").fit_transform(
        texts
    )
    assert_allclose(by_weights, by_name, rtol=1e-6)


def test_timm_weights_that_cannot_be_loaded_give_the_clear_error(monkeypatch):
    timm = pytest.importorskip("timm")
    # The download path: offline, the Hub is not even tried.
    for name in ("SKLEARN_SUBSPACE_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    real_create = timm.create_model

    def create_model(name, pretrained=False, **kwargs):
        if pretrained:
            raise OSError("offline: cannot reach the Hugging Face Hub")
        return real_create(name, pretrained=False, **kwargs)

    monkeypatch.setattr(timm, "create_model", create_model)
    with pytest.raises(WeightsUnavailableError, match="weights=None") as info:
        TorchFeatureExtractor("timm:test_vit", device="cpu").fit(IMAGES)
    assert "cannot reach the Hugging Face Hub" in str(info.value)


def test_unknown_timm_name_lists_close_matches():
    pytest.importorskip("timm")
    with pytest.raises(ValueError, match="Unknown timm model 'test_vitt'.*test_vit"):
        TorchFeatureExtractor("timm:test_vitt", device="cpu").fit(IMAGES)


def test_a_typo_of_a_torchvision_name_suggests_the_right_name():
    pytest.importorskip("transformers")
    with pytest.raises(
        WeightsUnavailableError, match="close torchvision names"
    ) as info:
        TorchFeatureExtractor("resnet5", device="cpu").fit(IMAGES)
    assert "'resnet50'" in str(info.value)
