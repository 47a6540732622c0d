"""Geometry diagnostics: how small can the projection be for *this* data?

Three measurements help choose ``k`` before running a full study:

- :func:`estimate_intrinsic_dimension`: how many dimensions the features
  occupy locally (TwoNN or Levina-Bickel MLE).
- :func:`distortion_report`: how much a given projection moves the pairwise
  distances of the features, as a :class:`DistortionReport`.
- :func:`recommend_n_components`: the worst-case Johnson-Lindenstrauss ``k``,
  the intrinsic dimension and the smallest measured ``k`` side by side, as a
  :class:`NComponentsRecommendation`.
"""

from ._distortion import DistortionReport, distortion_report
from ._intrinsic import estimate_intrinsic_dimension
from ._recommend import NComponentsRecommendation, recommend_n_components

__all__ = [
    "DistortionReport",
    "NComponentsRecommendation",
    "distortion_report",
    "estimate_intrinsic_dimension",
    "recommend_n_components",
]
