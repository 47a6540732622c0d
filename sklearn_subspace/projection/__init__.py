"""Seeded Johnson-Lindenstrauss projections and their bounds."""

from ._bounds import johnson_lindenstrauss_min_dim, pair_distortion_band
from ._matrices import PROJECTION_FAMILIES, make_projection
from ._transformer import JLSubspaceTransformer

__all__ = [
    "PROJECTION_FAMILIES",
    "JLSubspaceTransformer",
    "johnson_lindenstrauss_min_dim",
    "make_projection",
    "pair_distortion_band",
]
