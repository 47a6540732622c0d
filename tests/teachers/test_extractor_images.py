"""Image teachers: input kinds, the method's features, layers, pooling, errors."""

import re

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.teachers import TorchFeatureExtractor, clear_model_cache


def _resnet18(**params):
    params = {"weights": None, "device": "cpu", "batch_size": 4, **params}
    return TorchFeatureExtractor("resnet18", **params)


@pytest.fixture(scope="module")
def float_images():
    return np.random.RandomState(0).rand(5, 3, 32, 32).astype(np.float32)


@pytest.fixture(scope="module")
def resnet(float_images):
    return _resnet18().fit(float_images)


def _resnet_trunk(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


# -- the method's features ----------------------------------------------------
def test_resnet_features_are_the_global_average_pool_output(resnet, float_images):
    features = resnet.transform(float_images)
    model = resnet.model_
    with torch.inference_mode():
        expected = torch.flatten(
            model.avgpool(_resnet_trunk(model, torch.from_numpy(float_images))), 1
        )
    assert features.shape == (5, 512)
    assert features.dtype == np.float32
    assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_max_pooling_reads_the_last_feature_map(resnet, float_images):
    features = _resnet18(pooling="max").fit_transform(float_images)
    with torch.inference_mode():
        expected = _resnet_trunk(resnet.model_, torch.from_numpy(float_images)).amax(
            (2, 3)
        )
    assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_layer_selects_a_named_module_and_avg_pools_its_map(resnet, float_images):
    features = _resnet18(layer="layer2").fit_transform(float_images)
    model = resnet.model_
    with torch.inference_mode():
        x = model.maxpool(
            model.relu(model.bn1(model.conv1(torch.from_numpy(float_images))))
        )
        expected = model.layer2(model.layer1(x)).mean((2, 3))
    assert features.shape == (5, 128)
    assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_vit_features_are_the_cls_token_of_the_last_hidden_state(tiny_vit_dir, rng):
    from transformers import AutoImageProcessor, AutoModel

    images = rng.randint(0, 256, (3, 40, 48, 3)).astype(np.uint8)
    features = TorchFeatureExtractor(f"hf:{tiny_vit_dir}", device="cpu").fit_transform(
        images
    )
    processor = AutoImageProcessor.from_pretrained(tiny_vit_dir)
    model = AutoModel.from_pretrained(tiny_vit_dir).eval()
    with torch.inference_mode():
        hidden = model(
            **processor(images=list(images), return_tensors="pt")
        ).last_hidden_state
    assert features.shape == (3, 32)
    assert_allclose(features, hidden[:, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_timm_features_are_the_pre_logits(rng):
    pytest.importorskip("timm")
    images = rng.rand(2, 3, 32, 32).astype(np.float32)
    extractor = TorchFeatureExtractor("timm:test_vit", weights=None, device="cpu")
    features = extractor.fit_transform(images)
    model = extractor.model_
    with torch.inference_mode():
        tokens = model.forward_features(torch.from_numpy(images))
        expected = model.forward_head(tokens, pre_logits=True)
    assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)
    averaged = TorchFeatureExtractor(
        "timm:test_vit", weights=None, device="cpu", pooling="avg"
    ).fit_transform(images)
    assert_allclose(averaged, tokens.mean(1).numpy(), rtol=1e-5, atol=1e-6)


# -- input kinds and preprocessing ----------------------------------------------
def test_channels_last_and_channels_first_arrays_agree(resnet, float_images):
    nchw = resnet.transform(float_images)
    nhwc = resnet.transform(float_images.transpose(0, 2, 3, 1))
    assert_array_equal(nchw, nhwc)


def test_uint8_arrays_get_the_weights_own_transforms(resnet, rng):
    from torchvision.models import ResNet18_Weights

    images = rng.randint(0, 256, (2, 40, 48, 3)).astype(np.uint8)
    features = resnet.transform(images)
    prepared = ResNet18_Weights.DEFAULT.transforms()(
        torch.from_numpy(images).permute(0, 3, 1, 2)
    )
    assert tuple(prepared.shape) == (2, 3, 224, 224)
    assert_allclose(features, resnet.transform(prepared.numpy()), rtol=1e-5, atol=1e-6)


def test_pil_images_files_and_uint8_arrays_give_the_same_features(
    tiny_vit_dir, rng, tmp_path
):
    images = rng.randint(0, 256, (3, 40, 48, 3)).astype(np.uint8)
    extractor = TorchFeatureExtractor(f"hf:{tiny_vit_dir}", device="cpu").fit(images)
    from_array = extractor.transform(images)
    pil_images = [Image.fromarray(image) for image in images]
    paths = []
    for i, image in enumerate(pil_images):
        paths.append(tmp_path / f"image{i}.png")
        image.save(paths[-1])
    assert_allclose(extractor.transform(pil_images), from_array, rtol=1e-5, atol=1e-6)
    assert_allclose(
        extractor.transform([str(p) for p in paths]), from_array, rtol=1e-5, atol=1e-6
    )
    assert_allclose(extractor.transform(paths), from_array, rtol=1e-5, atol=1e-6)


def test_preprocess_always_treats_floats_as_raw_images(tiny_vit_dir, rng):
    images = rng.randint(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    as_uint8 = TorchFeatureExtractor(f"hf:{tiny_vit_dir}", device="cpu").fit_transform(
        images
    )
    as_float = TorchFeatureExtractor(
        f"hf:{tiny_vit_dir}", device="cpu", preprocess="always"
    ).fit_transform(images / 255.0)
    assert_allclose(as_float, as_uint8, rtol=1e-4, atol=1e-5)


def test_preprocess_never_only_scales_uint8(resnet, rng):
    images = rng.randint(0, 256, (2, 3, 32, 32)).astype(np.uint8)
    scaled = _resnet18(preprocess="never").fit_transform(images)
    assert_allclose(
        scaled,
        resnet.transform((images / 255.0).astype(np.float32)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_grayscale_uint8_images_are_repeated_to_three_channels(tiny_vit_dir, rng):
    gray = rng.randint(0, 256, (2, 1, 32, 32)).astype(np.uint8)
    extractor = TorchFeatureExtractor(f"hf:{tiny_vit_dir}", device="cpu").fit(gray)
    rgb = np.repeat(gray, 3, axis=1)
    assert_allclose(extractor.transform(gray), extractor.transform(rgb), rtol=1e-6)


# -- determinism ------------------------------------------------------------------
def test_random_teachers_are_seeded_by_random_state(float_images):
    first = _resnet18(random_state=0).fit_transform(float_images)
    clear_model_cache()  # build the random teacher again from scratch
    again = _resnet18(random_state=0).fit_transform(float_images)
    other = _resnet18(random_state=1).fit_transform(float_images)
    assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_transform_is_deterministic_and_independent_of_batch_size(resnet, float_images):
    assert_array_equal(resnet.transform(float_images), resnet.transform(float_images))
    one_by_one = _resnet18(batch_size=1).fit(float_images).transform(float_images)
    assert_allclose(one_by_one, resnet.transform(float_images), rtol=1e-5, atol=1e-6)


# -- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((32, 32, 3)), ValueError, "leading batch axis"),
        (np.zeros((2, 32, 32)), ValueError, "channel axis: X\\[:, None\\]"),
        (np.zeros((2, 3, 8, 8), dtype=np.int64), TypeError, "must be uint8"),
        (
            np.full((2, 3, 8, 8), np.nan, dtype=np.float32),
            ValueError,
            "NaN or infinity",
        ),
        (np.zeros((2, 5, 7, 9), dtype=np.float32), ValueError, "channel axis"),
        (np.array(["a", "b"]), TypeError, "must be numeric"),
        (["no/such/image.png"], ValueError, "does not exist"),
        ("image.png", TypeError, "Wrap it in a list"),
        ([], ValueError, "X is empty"),
    ],
)
def test_bad_image_inputs_raise_an_error_naming_the_fix(resnet, X, error, match):
    with pytest.raises(error, match=match):
        resnet.transform(X)


def test_unknown_layer_lists_valid_names_and_close_matches(float_images):
    with pytest.raises(ValueError, match="Unknown layer 'layer9'") as info:
        _resnet18(layer="layer9").fit(float_images)
    message = str(info.value)
    assert "Did you mean 'layer4'" in message
    assert "'layer1.0.conv1'" in message


def test_cls_pooling_of_a_feature_map_is_rejected(float_images):
    with pytest.raises(ValueError, match="pooling='cls' needs a token sequence"):
        _resnet18(pooling="cls").fit(float_images)


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"weights": "IMAGENET9K"},
            ValueError,
            "Use one of \\['DEFAULT', 'IMAGENET1K_V1'\\]",
        ),
        ({"device": "tpu"}, ValueError, "Unknown device 'tpu'"),
    ],
)
def test_bad_parameters_raise_in_fit(float_images, params, error, match):
    extractor = _resnet18(**params)  # __init__ never validates
    with pytest.raises(error, match=match):
        extractor.fit(float_images)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(float_images):
    with pytest.raises(ValueError, match="CUDA is not available"):
        _resnet18(device="cuda").fit(float_images)


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("batch_size", 0, "an int in the range [1, inf)"),
        ("batch_size", 2.5, "an int in the range [1, inf)"),
        ("num_workers", -1, "an int in the range [0, inf)"),
        ("max_length", 0, "an int in the range [1, inf)"),
        ("layer", 3, "an instance of 'str' or None"),
        (
            "model",
            42,
            "an instance of 'str', an instance of 'torch.nn.modules.module.Module' "
            "or a callable",
        ),
        (
            "weights",
            1.5,
            "an instance of 'str', an instance of 'os.PathLike', an instance of "
            "'enum.Enum' or None",
        ),
        ("device", 0, "an instance of 'str' or an instance of 'torch.device'"),
        ("cache_dir", 5, "an instance of 'str', an instance of 'os.PathLike' or None"),
        # numpy 1 names its boolean type 'numpy.bool_'.
        ("progress", "yes", "an instance of 'bool' or an instance of 'numpy.bool"),
        ("random_state", -1, "an int in the range [0, 4294967295], an instance"),
    ],
)
def test_bad_parameters_get_the_standard_message(float_images, name, value, expected):
    extractor = _resnet18().set_params(**{name: value})  # set without a check
    prefix = f"The {name!r} parameter of TorchFeatureExtractor must be {expected}"
    for method in (extractor.fit, extractor.fit_transform):
        with pytest.raises(InvalidParameterError, match=re.escape(prefix)) as info:
            method(float_images)
        assert str(info.value).endswith(f"Got {value!r} instead.")


@pytest.mark.parametrize(
    "name, options",
    [
        ("pooling", ("auto", "cls", "mean", "avg", "max")),
        ("precision", ("auto", "float32", "bfloat16", "float16")),
        ("preprocess", ("auto", "always", "never")),
        ("cache_storage", ("float32", "compressed", "float16")),
    ],
)
def test_an_unknown_option_lists_the_valid_ones(float_images, name, options):
    with pytest.raises(InvalidParameterError) as info:
        _resnet18(**{name: "median"}).fit(float_images)
    message = str(info.value)
    assert message.startswith(
        f"The {name!r} parameter of TorchFeatureExtractor must be a str among {{"
    )
    assert message.endswith("}. Got 'median' instead.")
    listed = message[message.index("{") + 1 : message.index("}")].split(", ")
    assert sorted(listed) == sorted(repr(option) for option in options)


def test_raw_images_need_known_preprocessing(tiny_vit_dir, rng):
    from transformers import AutoModel

    vit = AutoModel.from_pretrained(tiny_vit_dir)
    vit.name_or_path = vit.config.name_or_path = ""  # its processor is lost
    extractor = TorchFeatureExtractor(vit, device="cpu")
    prepared = rng.rand(2, 3, 32, 32).astype(np.float32)
    assert extractor.fit_transform(prepared).shape == (2, 32)
    with pytest.raises(ValueError, match="no known preprocessing for raw images"):
        extractor.transform(rng.randint(0, 256, (2, 32, 32, 3)).astype(np.uint8))
