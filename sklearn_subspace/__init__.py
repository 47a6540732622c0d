"""sklearn-subspace: compress deep-network features into fixed random subspaces.

A trained network's last hidden features are pushed through a fixed
Johnson-Lindenstrauss random projection to ``k << d`` dimensions, and a small
head trained there loses little accuracy. Every step is a scikit-learn
estimator, so the whole study is a normal ``Pipeline`` / ``GridSearchCV``
workflow.
"""

# First: the offline switch must reach Hugging Face before it is imported.
from . import _offline  # noqa: F401
from .diagnostics import (
    DistortionReport,
    NComponentsRecommendation,
    distortion_report,
    estimate_intrinsic_dimension,
    recommend_n_components,
)
from .distill import (
    DistillationComparison,
    StudentMLP,
    SubspaceDistiller,
    distillation_comparison,
)
from .head import (
    SubspaceClassifierModule,
    SubspaceHeadClassifier,
    export_torch,
    load_exported,
    save_exported,
)
from .projection import (
    PROJECTION_FAMILIES,
    JLSubspaceTransformer,
    johnson_lindenstrauss_min_dim,
    make_projection,
)
from .study import (
    DatasetUnavailableError,
    StudyResult,
    compression_study,
    load_embedded_task,
)
from .teachers import (
    TorchFeatureExtractor,
    WeightsUnavailableError,
    clear_model_cache,
    forward_pass_count,
    reset_forward_pass_count,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "PROJECTION_FAMILIES",
    "DatasetUnavailableError",
    "DistillationComparison",
    "DistortionReport",
    "JLSubspaceTransformer",
    "NComponentsRecommendation",
    "StudentMLP",
    "StudyResult",
    "SubspaceClassifierModule",
    "SubspaceDistiller",
    "SubspaceHeadClassifier",
    "TorchFeatureExtractor",
    "WeightsUnavailableError",
    "__version__",
    "clear_model_cache",
    "compression_study",
    "distillation_comparison",
    "distortion_report",
    "estimate_intrinsic_dimension",
    "export_torch",
    "forward_pass_count",
    "johnson_lindenstrauss_min_dim",
    "load_embedded_task",
    "load_exported",
    "make_projection",
    "recommend_n_components",
    "reset_forward_pass_count",
    "save_exported",
]
