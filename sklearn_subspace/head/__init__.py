"""The small torch head trained on projected features, and its export.

:class:`SubspaceHeadClassifier` is a scikit-learn classifier built on skorch:
the paper's linear head by default, optionally a small MLP or a learned
bottleneck. :func:`export_torch` turns a fitted projection + head pipeline
into one :class:`SubspaceClassifierModule` that stores the head weights and
only the seed of the projection; :func:`save_exported` and
:func:`load_exported` store it with no pickle (safetensors and a recipe).
"""

from ._classifier import SubspaceHeadClassifier
from ._export import SubspaceClassifierModule, export_torch
from ._safe_export import load_exported, save_exported

__all__ = [
    "SubspaceClassifierModule",
    "SubspaceHeadClassifier",
    "export_torch",
    "load_exported",
    "save_exported",
]
