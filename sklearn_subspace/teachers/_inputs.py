"""From user inputs to teacher batches.

Inputs are first *parsed* into a samples object (one per kind of input) that
can hash each sample and hand out any subset; a *batch builder* chosen by the
teacher then turns a subset into model inputs.

The preprocessing rule (``preprocess="auto"``):

* raw images -- uint8 arrays, PIL images, image files -- get the teacher's own
  preprocessing: the torchvision weights' ``transforms()``, timm's data config
  or the Hugging Face image processor (resize, crop, scale, normalise);
* float arrays count as already prepared: they are only put in NCHW layout and
  cast to float32, so they must be normalised the way the teacher expects;
* texts and text pairs are always tokenized by the teacher's tokenizer,
  truncated to ``max_length``.

``preprocess="always"`` treats float arrays as raw images with values in
[0, 1]; ``preprocess="never"`` only fixes the layout and scales uint8 to
[0, 1]. Image arrays are channels-first when ``X.shape[1]`` is 1, 3 or 4,
otherwise channels-last when ``X.shape[-1]`` is. A plain module has no
preprocessing of its own: it gets uint8 arrays scaled to [0, 1] and other
numeric arrays as float32, unchanged.
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

PREPROCESS_OPTIONS = ("auto", "always", "never")
_CHANNEL_COUNTS = (1, 3, 4)
_KEY_BYTES = 16


def _digest_rows(header, rows):
    """(n, 16) uint8 keys: blake2b of ``header`` + each item's bytes."""
    keys = np.empty((len(rows), _KEY_BYTES), dtype=np.uint8)
    base = hashlib.blake2b(header, digest_size=_KEY_BYTES)
    for i, payload in enumerate(rows):
        hasher = base.copy()
        hasher.update(payload)
        keys[i] = np.frombuffer(hasher.digest(), dtype=np.uint8)
    return keys


def _select(items, sel):
    """Subset a list by a slice or an array of positions."""
    if isinstance(sel, slice):
        return items[sel]
    return [items[i] for i in sel]


# -- samples -----------------------------------------------------------------
class ArraySamples:
    """A numeric array of samples, the first axis indexing samples.

    ``layout`` is ``"nchw"`` or ``"nhwc"`` for image arrays and ``"tensor"``
    for arrays handed to a plain module unchanged.
    """

    def __init__(self, data, layout):
        self.data = data
        self.layout = layout

    def __len__(self):
        return self.data.shape[0]

    def keys(self):
        data = np.ascontiguousarray(self.data)
        header = f"array|{self.layout}|{data.dtype.str}|{data.shape[1:]}".encode()
        return _digest_rows(header, data)

    def take(self, sel):
        return ArraySamples(self.data[sel], self.layout)


class ImageListSamples:
    """A list of PIL images and/or image file paths."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def keys(self):
        from PIL import Image

        keys = np.empty((len(self.items), _KEY_BYTES), dtype=np.uint8)
        for i, item in enumerate(self.items):
            if isinstance(item, Image.Image):
                header = f"pil|{item.mode}|{item.size}".encode()
                keys[i] = _digest_rows(header, [item.tobytes()])[0]
            else:
                # Keyed by content, not name: a renamed or copied file is the
                # same sample, an overwritten file is a new one.
                keys[i] = _digest_rows(b"file|", [Path(item).read_bytes()])[0]
        return keys

    def take(self, sel):
        return ImageListSamples(_select(self.items, sel))


class TextSamples:
    """Texts, or text pairs when ``second`` is given."""

    def __init__(self, first, second=None):
        self.first = first
        self.second = second

    def __len__(self):
        return len(self.first)

    def keys(self):
        if self.second is None:
            payloads = [text.encode("utf-8") for text in self.first]
            return _digest_rows(b"text|", payloads)
        payloads = []
        for a, b in zip(self.first, self.second):
            a_bytes = a.encode("utf-8")
            # The length prefix keeps ("ab", "c") and ("a", "bc") apart.
            payloads.append(len(a_bytes).to_bytes(8, "little") + a_bytes + b.encode())
        return _digest_rows(b"pair|", payloads)

    def take(self, sel):
        second = None if self.second is None else _select(self.second, sel)
        return TextSamples(_select(self.first, sel), second)


# -- parsing -----------------------------------------------------------------
def _is_pil(obj):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return False
    return isinstance(obj, Image.Image)


def _to_numpy_if_tensor(X):
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy()
    return X


def _check_not_single(X, what):
    if isinstance(X, (str, bytes, os.PathLike)) or _is_pil(X):
        raise TypeError(
            f"X must be a collection of {what}, got a single {type(X).__name__}. "
            "Wrap it in a list: transform([x])."
        )


def image_layout(shape):
    """``"nchw"`` or ``"nhwc"`` for a 4-D image array shape, or raise."""
    if shape[1] in _CHANNEL_COUNTS:
        return "nchw"
    if shape[-1] in _CHANNEL_COUNTS:
        return "nhwc"
    raise ValueError(
        f"Cannot find the channel axis of image array with shape {shape}: "
        "expected (n, C, H, W) or (n, H, W, C) with C in 1, 3 or 4."
    )


def parse_images(X):
    """Validate image inputs and return a samples object."""
    _check_not_single(X, "images (an array, a list of PIL images or of paths)")
    X = _to_numpy_if_tensor(X)
    if isinstance(X, (list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    ):
        items = list(X)
        if not items:
            raise ValueError("X is empty: pass at least one image.")
        if all(_is_pil(item) or isinstance(item, (str, os.PathLike)) for item in items):
            for item in items:
                if not _is_pil(item) and not Path(item).is_file():
                    raise ValueError(
                        f"Image file {os.fspath(item)!r} does not exist. Pass "
                        "existing file paths, PIL images or an image array."
                    )
            return ImageListSamples(items)
        try:
            X = np.asarray(items)
        except ValueError:
            raise ValueError(
                "A list of images must hold PIL images or file paths; arrays "
                "must all have one shape to be stacked. Convert images of "
                "different sizes with PIL.Image.fromarray."
            ) from None
    X = np.asarray(X)
    if X.dtype == object or X.dtype.kind not in "uif":
        raise TypeError(
            f"Image arrays must be numeric, got dtype {X.dtype}. Pass a uint8 "
            "or float array, a list of PIL images, or a list of file paths."
        )
    if X.ndim != 4:
        hint = (
            " A single image needs a leading batch axis: X[None]."
            if X.ndim == 3 and X.shape[-1] in _CHANNEL_COUNTS
            else " Grayscale images need a channel axis: X[:, None]."
            if X.ndim == 3
            else ""
        )
        raise ValueError(
            f"Image arrays must be 4-D, (n, C, H, W) or (n, H, W, C); got shape "
            f"{X.shape}.{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError("X is empty: pass at least one image.")
    if X.dtype.kind == "f":
        if not np.isfinite(X).all():
            raise ValueError(
                "Image array contains NaN or infinity. Replace or drop those "
                "images first (e.g. np.nan_to_num)."
            )
    elif X.dtype != np.uint8:
        raise TypeError(
            f"Integer image arrays must be uint8 (0-255), got {X.dtype}. Convert "
            "with X.astype(np.uint8) or pass float values."
        )
    return ArraySamples(X, image_layout(X.shape))


def _is_pair(item):
    return (
        isinstance(item, (tuple, list, np.ndarray))
        and len(item) == 2
        and all(isinstance(part, str) for part in item)
    )


def parse_texts(X):
    """Validate texts or text pairs and return a :class:`TextSamples`."""
    _check_not_single(X, "texts (a list of strings or of string pairs)")
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # pandas DataFrame
        if X.shape[1] not in (1, 2):
            raise ValueError(
                f"A DataFrame of texts must have 1 column (texts) or 2 columns "
                f"(text pairs), got {X.shape[1]}."
            )
        X = X.to_numpy(dtype=object)
        X = X[:, 0] if X.shape[1] == 1 else X
    elif hasattr(X, "to_numpy"):  # pandas Series
        X = X.to_numpy(dtype=object)
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 2:
            raise ValueError(
                f"A 2-D array of texts must have 2 columns (text pairs), got "
                f"shape {X.shape}."
            )
        items = [tuple(row) for row in X]
    else:
        try:
            items = list(X)
        except TypeError:
            raise TypeError(
                f"X must be a list of texts, got {type(X).__name__}."
            ) from None
    if not items:
        raise ValueError("X is empty: pass at least one text.")
    if all(isinstance(item, str) for item in items):
        return TextSamples(items)
    if all(_is_pair(item) for item in items):
        return TextSamples([a for a, _ in items], [b for _, b in items])
    for i, item in enumerate(items):
        if not isinstance(item, str) and not _is_pair(item):
            raise TypeError(
                f"X[{i}] is {type(item).__name__} {item!r:.60}: expected every "
                "sample to be a string, or every sample a (text, text) pair. "
                "Replace missing values with '' first."
            )
    raise TypeError(
        "X mixes single texts and text pairs: pass all strings or all pairs."
    )


# -- batch builders ------------------------------------------------------------
def resize_crop_normalize(resize_size, crop_size, mean, std, interpolation="bilinear"):
    """Resize the short side, center-crop and normalise, as torchvision does.

    The preprocessing of teachers that give it as settings (timm's data
    config), built from ``torchvision.transforms.v2``: the same steps as
    torchvision's ``ImageClassification`` transform. Works on uint8 images
    or float images in [0, 1], one ``(C, H, W)`` image or an
    ``(n, C, H, W)`` batch, and returns float32.

    Parameters
    ----------
    resize_size : int
        Length the shorter image side is resized to (antialiased).
    crop_size : tuple of int
        ``(height, width)`` of the center crop.
    mean, std : sequence of float
        Per-channel normalisation, applied after scaling to [0, 1].
    interpolation : str, default="bilinear"
        A ``torchvision.transforms.InterpolationMode`` value.

    Returns
    -------
    torchvision.transforms.v2.Compose
        The transform.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.teachers._inputs import resize_crop_normalize
    >>> transform = resize_crop_normalize(8, (6, 6), [0.5] * 3, [0.25] * 3)
    >>> images = torch.full((2, 3, 10, 16), 255, dtype=torch.uint8)
    >>> out = transform(images)
    >>> out.shape, out.dtype, out.unique().tolist()
    (torch.Size([2, 3, 6, 6]), torch.float32, [2.0])
    """
    from torchvision.transforms import InterpolationMode, v2

    return v2.Compose(
        [
            v2.Resize(
                int(resize_size),
                interpolation=InterpolationMode(str(interpolation)),
                antialias=True,
            ),
            v2.CenterCrop([int(size) for size in crop_size]),
            # uint8 is scaled to [0, 1]; float images are only cast.
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean=[float(m) for m in mean], std=[float(s) for s in std]),
        ]
    )


def _array_chunk_to_tensor(samples, sel):
    chunk = samples.data[sel]
    if not chunk.flags.writeable:
        chunk = np.array(chunk)  # torch refuses to wrap read-only memory
    tensor = torch.from_numpy(chunk)
    if samples.layout == "nhwc":
        tensor = tensor.permute(0, 3, 1, 2)
    return tensor


def _load_image(item):
    """uint8 (C, H, W) RGB tensor from a PIL image or an image file."""
    from PIL import Image
    from torchvision.transforms.functional import pil_to_tensor

    if _is_pil(item):
        return pil_to_tensor(item.convert("RGB"))
    with Image.open(item) as image:
        return pil_to_tensor(image.convert("RGB"))


def _fix_channels(batch):
    """Raw images to 3 channels: gray is repeated, alpha is dropped."""
    channels = batch.shape[-3]
    if channels == 1:
        return batch.expand(*batch.shape[:-3], 3, *batch.shape[-2:])
    if channels == 4:
        return batch[..., :3, :, :]
    return batch


class ImageBatchBuilder:
    """Builds pixel batches with the teacher's own preprocessing.

    Parameters
    ----------
    transform : callable or None
        Tensor transform for raw images (torchvision / timm teachers).
    processor : Hugging Face image processor or None
        Used instead of ``transform`` for Hugging Face teachers.
    preprocess : {"auto", "always", "never"}
    as_dict : bool
        Whether the model takes ``pixel_values=`` (Hugging Face).
    """

    def __init__(self, transform, processor, preprocess, as_dict):
        self.transform = transform
        self.processor = processor
        self.preprocess = preprocess
        self.as_dict = as_dict

    def _apply(self, images):
        """Teacher preprocessing of a uint8 or [0, 1] float (n, C, H, W)."""
        images = _fix_channels(images)
        if self.processor is not None:
            arrays = [img.permute(1, 2, 0).numpy() for img in images]
            extra = {} if images.dtype == torch.uint8 else {"do_rescale": False}
            out = self.processor(
                images=arrays,
                return_tensors="pt",
                input_data_format="channels_last",
                **extra,
            )
            return out["pixel_values"].float()
        if self.transform is not None:
            return self.transform(images)
        raise ValueError(
            "This teacher has no known preprocessing for raw images (no image "
            "processor was saved with it). Pass float arrays prepared the way "
            "the model expects, save the processor next to the model with "
            "save_pretrained, or use preprocess='never' to only scale to [0, 1]."
        )

    def __call__(self, samples, sel):
        if isinstance(samples, ArraySamples):
            images = _array_chunk_to_tensor(samples, sel)
            raw = self.preprocess == "always" or (
                self.preprocess == "auto" and images.dtype == torch.uint8
            )
            pixels = self._apply(images) if raw else _scale(images)
        else:
            loaded = [_load_image(item) for item in _select(samples.items, sel)]
            if self.preprocess == "never":
                pixels = _scale(_stack_same_size(loaded))
            else:
                pixels = torch.cat([self._apply(img[None]) for img in loaded])
        pixels = pixels.contiguous()
        return {"pixel_values": pixels} if self.as_dict else pixels


def _scale(images):
    """float32 batch; uint8 is scaled to [0, 1]."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()


def _stack_same_size(images):
    sizes = {tuple(img.shape) for img in images}
    if len(sizes) > 1:
        raise ValueError(
            f"preprocess='never' needs images of one size, got sizes "
            f"{sorted(sizes)}. Resize them first or use preprocess='auto'."
        )
    return torch.stack(images)


class TextBatchBuilder:
    """Tokenizes texts or text pairs with the teacher's tokenizer."""

    def __init__(self, tokenizer, max_length, accepted_keys=None):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.accepted_keys = accepted_keys

    def __call__(self, samples, sel):
        first = _select(samples.first, sel)
        second = None if samples.second is None else _select(samples.second, sel)
        encoded = self.tokenizer(
            first,
            second,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            key: value
            for key, value in encoded.items()
            if self.accepted_keys is None or key in self.accepted_keys
        }


class TensorBatchBuilder:
    """Hands numeric arrays to a plain module as float32.

    uint8 arrays are images by the library's convention, and are scaled to
    [0, 1] as ``preprocess`` promises; other dtypes keep their values.
    """

    def __call__(self, samples, sel):
        return _scale(_array_chunk_to_tensor(samples, sel))
