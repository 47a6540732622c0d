"""sklearn-subspace: compress deep-network features into fixed random subspaces.

A trained network's last hidden features are pushed through a fixed
Johnson-Lindenstrauss random projection to ``k << d`` dimensions, and a small
head trained there loses little accuracy. Every step is a scikit-learn
estimator, so the whole study is a normal ``Pipeline`` / ``GridSearchCV``
workflow.
"""

import importlib

# First: the offline switch must reach Hugging Face before it is imported.
from . import _offline  # noqa: F401

__version__ = "0.1.0.dev0"

# Each public name and the subpackage that defines it. A name is imported on
# first use (PEP 562), so ``from sklearn_subspace import JLSubspaceTransformer``
# does not pay for torch, and a process imports only the subpackages it uses.
_SUBPACKAGE_OF = {
    "DistortionReport": "diagnostics",
    "NComponentsRecommendation": "diagnostics",
    "distortion_report": "diagnostics",
    "estimate_intrinsic_dimension": "diagnostics",
    "recommend_n_components": "diagnostics",
    "DistillationComparison": "distill",
    "StudentMLP": "distill",
    "SubspaceDistiller": "distill",
    "distillation_comparison": "distill",
    "SubspaceClassifierModule": "head",
    "SubspaceHeadClassifier": "head",
    "export_torch": "head",
    "load_exported": "head",
    "save_exported": "head",
    "PROJECTION_FAMILIES": "projection",
    "JLSubspaceTransformer": "projection",
    "johnson_lindenstrauss_min_dim": "projection",
    "make_projection": "projection",
    "DatasetUnavailableError": "study",
    "StudyResult": "study",
    "compression_study": "study",
    "load_embedded_task": "study",
    "TorchFeatureExtractor": "teachers",
    "WeightsUnavailableError": "teachers",
    "clear_model_cache": "teachers",
    "forward_pass_count": "teachers",
    "reset_forward_pass_count": "teachers",
}

#: The subpackages, also reachable as attributes (``sklearn_subspace.head``).
_SUBPACKAGES = (
    "datasets",
    "diagnostics",
    "distill",
    "distributed",
    "head",
    "projection",
    "study",
    "teachers",
    "training",
)

__all__ = sorted([*_SUBPACKAGE_OF, "__version__"])


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _SUBPACKAGE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    subpackage = importlib.import_module(f"{__name__}.{_SUBPACKAGE_OF[name]}")
    value = getattr(subpackage, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted({*globals(), *__all__, *_SUBPACKAGES})
