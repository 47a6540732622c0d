"""Frozen deep teachers as scikit-learn transformers.

:class:`TorchFeatureExtractor` runs a torchvision, timm or Hugging Face model
(or any ``torch.nn.Module``) and returns pooled float32 features, with an
on-disk cache that lets cross-validation run the teacher once per sample.
"""

from ._counter import forward_pass_count, reset_forward_pass_count
from ._extractor import TorchFeatureExtractor
from ._teacher import WeightsUnavailableError
from ._zoo import clear_model_cache

__all__ = [
    "TorchFeatureExtractor",
    "WeightsUnavailableError",
    "clear_model_cache",
    "forward_pass_count",
    "reset_forward_pass_count",
]
