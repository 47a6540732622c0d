"""The one training engine behind every torch model of the library.

The head, the learned-bottleneck baseline, the distillation students and
the embedded teacher are all trained by :class:`TrainingNet`, a
``skorch.NeuralNet`` extended only through skorch's public extension points
(``get_dataset``, ``iterator_train``/``iterator_valid``, ``train_split``,
``get_loss``, callbacks). One validation split (:mod:`._split`), one seed
derivation (:mod:`._seeds`) and one convergence rule (:mod:`._convergence`)
serve them all.
"""

from ._callbacks import FiniteLoss, validation_score
from ._convergence import ConvergenceMonitor, stopping_callbacks, warn_if_not_converged
from ._criterion import CallableLoss
from ._data import SliceLoader, TensorData, as_float32_tensor
from ._inference import PREDICT_BATCH_SIZE, module_outputs
from ._net import TrainingNet, WeightedCrossEntropy
from ._progress import EpochProgress
from ._seeds import draw_seeds
from ._split import (
    HoldoutSplit,
    n_validation,
    stratified_indices,
    stratify_problem,
)
from ._threads import fixed_threads, threads_for_step

__all__ = [
    "PREDICT_BATCH_SIZE",
    "CallableLoss",
    "ConvergenceMonitor",
    "EpochProgress",
    "FiniteLoss",
    "HoldoutSplit",
    "SliceLoader",
    "TensorData",
    "TrainingNet",
    "WeightedCrossEntropy",
    "as_float32_tensor",
    "draw_seeds",
    "fixed_threads",
    "module_outputs",
    "n_validation",
    "stopping_callbacks",
    "stratified_indices",
    "stratify_problem",
    "threads_for_step",
    "validation_score",
    "warn_if_not_converged",
]
