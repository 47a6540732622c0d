"""The resize / crop / normalise transform of teachers configured by settings."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_sample_image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F

from sklearn_subspace.teachers._identity import object_description
from sklearn_subspace.teachers._inputs import resize_crop_normalize

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _reference(images, resize_size, crop_size, interpolation):
    """The same steps with torchvision's functional (v1) operations."""
    mode = InterpolationMode(interpolation)
    images = F.resize(images, [resize_size], interpolation=mode, antialias=True)
    images = F.center_crop(images, list(crop_size))
    images = F.convert_image_dtype(images, torch.float)
    return F.normalize(images, mean=list(MEAN), std=list(STD))


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("sizes", [(36, (32, 30)), (80, (77, 77))])
def test_float_images_match_the_functional_steps(interpolation, dtype, sizes):
    resize_size, crop_size = sizes
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((2, 3, 40, 57), generator=generator, dtype=dtype)
    transform = resize_crop_normalize(
        resize_size, crop_size, MEAN, STD, interpolation=interpolation
    )
    out = transform(images)
    assert out.shape == (2, 3, *crop_size)
    assert out.dtype == torch.float32
    expected = _reference(images, resize_size, crop_size, interpolation)
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)


def test_one_image_and_a_batch_give_the_same_pixels():
    generator = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (3, 3, 50, 41), generator=generator)
    images = images.to(torch.uint8)
    transform = resize_crop_normalize(40, (32, 32), MEAN, STD, "bicubic")
    batch = transform(images)
    singles = torch.stack([transform(image) for image in images])
    torch.testing.assert_close(batch, singles, rtol=0, atol=0)


def test_uint8_images_are_scaled_then_normalised():
    # No resize or crop to do: only the scaling and normalisation act.
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(1, 3, 1, 1)
    images = images.expand(1, 3, 4, 4).contiguous()
    out = resize_crop_normalize(4, (4, 4), MEAN, STD)(images)
    expected = (np.array([0, 51, 255]) / 255 - np.array(MEAN)) / np.array(STD)
    np.testing.assert_allclose(out[0, :, 0, 0].numpy(), expected, rtol=1e-6)
    assert torch.all(out == out[:, :, :1, :1])


@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
def test_uint8_photo_matches_timms_own_pil_transform(interpolation):
    timm = pytest.importorskip("timm")
    from PIL import Image

    photo = load_sample_image("china.jpg")
    config = {
        "input_size": (3, 160, 160),
        "interpolation": interpolation,
        "mean": MEAN,
        "std": STD,
        "crop_pct": 0.95,
        "crop_mode": "center",
    }
    expected = timm.data.create_transform(**config)(Image.fromarray(photo))
    pixels = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))
    transform = resize_crop_normalize(
        int(np.floor(160 / 0.95)), (160, 160), MEAN, STD, interpolation
    )
    out = transform(pixels)
    # torch's uint8 resize follows PIL's: at most one grey level apart.
    one_level = 1 / 255 / min(STD)
    assert out.shape == expected.shape
    assert float((out - expected).abs().max()) <= one_level + 1e-6


def test_the_cache_description_tells_transforms_apart():
    transform = resize_crop_normalize(36, (32, 32), MEAN, STD)
    same = object_description(resize_crop_normalize(36, (32, 32), MEAN, STD))
    assert object_description(transform) == same
    for other in [
        resize_crop_normalize(36, (32, 32), MEAN, STD, "bicubic"),
        resize_crop_normalize(37, (32, 32), MEAN, STD),
        resize_crop_normalize(36, (32, 31), MEAN, STD),
        resize_crop_normalize(36, (32, 32), STD, MEAN),
    ]:
        assert object_description(other)["digest"] != same["digest"]
