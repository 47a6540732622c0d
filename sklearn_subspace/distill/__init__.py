"""Subspace-native distillation: students that target the constructed subspace.

:class:`SubspaceDistiller` trains a small student network to regress a
teacher's features after a fixed Johnson-Lindenstrauss projection, then
classifies the student's outputs with the head trained on the teacher's
projected features. :func:`distillation_comparison` measures it against a
student trained from scratch, Hinton knowledge distillation and FitNets-style
feature regression under the same budget, and returns a
:class:`DistillationComparison`.
"""

from ._baselines import distillation_comparison
from ._distiller import SubspaceDistiller
from ._result import METHODS, DistillationComparison
from ._students import StudentMLP

__all__ = [
    "METHODS",
    "DistillationComparison",
    "StudentMLP",
    "SubspaceDistiller",
    "distillation_comparison",
]
