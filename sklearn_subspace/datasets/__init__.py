"""Datasets for the compression study, and the embedded teacher trained on them.

:func:`load_dataset` returns a dataset's raw inputs (images, image paths or
text pairs) split into training and test parts. :func:`load_embedded_task`
pairs a small image dataset (digits, Fashion-MNIST, any torchvision one) with
a CNN teacher trained on it locally, so the study runs without downloading
any pretrained weights.
"""

from ._embedded_teacher import (
    EMBEDDED_FEATURE_LAYER,
    EMBEDDED_WIDTH,
    RECIPES,
    DigitsCNN,
    SmallImageCNN,
    default_cache_dir,
    train_embedded_teacher,
)
from ._errors import DatasetUnavailableError
from ._registry import DATASET_NAMES, load_dataset, load_embedded_task

__all__ = [
    "DATASET_NAMES",
    "EMBEDDED_FEATURE_LAYER",
    "EMBEDDED_WIDTH",
    "DatasetUnavailableError",
    "RECIPES",
    "DigitsCNN",
    "SmallImageCNN",
    "default_cache_dir",
    "load_dataset",
    "load_embedded_task",
    "train_embedded_teacher",
]
