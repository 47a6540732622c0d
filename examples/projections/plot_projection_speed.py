"""
.. _example_projection_speed:

===================================
Transform speed of each projection
===================================

Every projection family of
:class:`~sklearn_subspace.projection.JLSubspaceTransformer` keeps distances
alike, so what sets them apart is cost (:ref:`choosing_k` compares their
distortion):

- ``"gaussian"``, ``"orthogonal"`` and ``"rademacher"`` are dense ``k x d``
  matrices, applied with one matrix product: ``O(n k d)`` work;
- ``"sparse"`` and ``"countsketch"`` are stored as sparse matrices. On dense
  input they are applied through a dense copy whenever that copy fits in
  256 MiB, because one multi-threaded BLAS product beats scipy's
  single-threaded sparse product: on dense features they cost what a dense
  map costs, and their gain is in storage and on sparse input;
- ``"srht"`` applies a fast Walsh-Hadamard transform to all ``d``
  coordinates and samples ``k`` of them, so its cost barely depends on
  ``k``.

This example times ``transform`` against ``k`` for every family on
synthetic float32 data the width of a ResNet-50 feature (``d = 2048``).
The sizes are small so that it runs in seconds: compare the curves with each
other, not the absolute times with another machine.
"""

# %%
# The data and the timing helper
# ------------------------------
# Each measurement is the median of five calls, after one warm-up call that
# builds any cached copy of the map. The number of BLAS threads is printed
# because the matrix products use them.

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.random_projection import GaussianRandomProjection
from threadpoolctl import threadpool_info

from sklearn_subspace.projection import (
    PROJECTION_FAMILIES,
    JLSubspaceTransformer,
)

rng = np.random.default_rng(0)
n_samples, n_features = 1000, 2048
X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
blas_threads = sorted(
    {
        info["num_threads"]
        for info in threadpool_info()
        if info["user_api"] == "blas"
    }
)
print(f"X: {n_samples} x {n_features} float32, BLAS threads: {blas_threads}")


def median_transform_seconds(transformer, X, repeats=5):
    transformer.transform(X)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        transformer.transform(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# %%
# Time every family for every k
# -----------------------------
# scikit-learn's own
# :class:`~sklearn.random_projection.GaussianRandomProjection` is timed too:
# it applies the same dense product as ``"gaussian"``.

n_components_grid = [32, 64, 128, 256, 512, 1024]
rows = []
for k in n_components_grid:
    for family in PROJECTION_FAMILIES:
        jl = JLSubspaceTransformer(k, projection=family, random_state=0).fit(X)
        seconds = median_transform_seconds(jl, X)
        rows.append({"family": family, "k": k, "seconds": seconds})
    reference = GaussianRandomProjection(k, random_state=0).fit(X)
    seconds = median_transform_seconds(reference, X)
    rows.append({"family": "sklearn gaussian", "k": k, "seconds": seconds})
timings = pd.DataFrame(rows)
by_k = timings.pivot(index="k", columns="family", values="seconds")
(by_k * 1e3).round(1)  # milliseconds

# %%
# Time against k, and relative to the Gaussian map
# ------------------------------------------------
# On the left, the matrix families grow with ``k`` together: they all run
# the same kind of product. The SRHT's curve is nearly flat. On the right,
# each family's time is divided by the ``"gaussian"`` time at the same
# ``k`` (below 1 is faster): the SRHT costs more than a small dense product
# and less than a large one, and the crossing point is where it starts to
# pay off.

fig, (ax_time, ax_ratio) = plt.subplots(1, 2, figsize=(11, 4.5))
for family, family_rows in timings.groupby("family", sort=False):
    style = "k--" if family.startswith("sklearn") else "-o"
    milliseconds = family_rows["seconds"] * 1e3
    ax_time.plot(family_rows["k"], milliseconds, style, label=family)
ax_time.set_xscale("log", base=2)
ax_time.set_xticks(n_components_grid, labels=n_components_grid)
ax_time.set_yscale("log")
ax_time.set_xlabel("number of components k")
ax_time.set_ylabel(f"transform time for {n_samples} rows (ms)")
ax_time.set_title(f"d = {n_features}, float32")
ax_time.legend(fontsize="small")

relative = by_k.div(by_k["gaussian"], axis=0)
for family in relative.columns:
    if family != "gaussian":
        style = "k--" if family.startswith("sklearn") else "-o"
        ax_ratio.plot(relative.index, relative[family], style, label=family)
ax_ratio.axhline(1.0, color="grey", linewidth=1)
ax_ratio.set_xscale("log", base=2)
ax_ratio.set_xticks(n_components_grid, labels=n_components_grid)
ax_ratio.set_yscale("log")
ax_ratio.set_xlabel("number of components k")
ax_ratio.set_ylabel('time / "gaussian" time')
ax_ratio.set_title("Relative cost")
ax_ratio.legend(fontsize="small")
fig.tight_layout()

# %%
# Which one to use
# ----------------
# - For the ``k`` of interest here (a few dozen to a few hundred out of
#   ``d`` in the thousands) the families are within small factors of each
#   other and the transform is a small part of any pipeline that runs a
#   deep teacher: choose by what else matters.
# - ``"srht"`` wins when ``k`` is a sizeable fraction of ``d``.
# - ``"sparse"`` and ``"countsketch"`` store only their nonzero entries,
#   which matters when ``k x d`` is large, and they are the ones to use on
#   sparse input.
# - ``"gaussian"`` is the map of the original method, and the one for which
#   :func:`~sklearn_subspace.projection.johnson_lindenstrauss_min_dim`'s
#   exact bound is exact.
#
# ``benchmarks/bench_projection.py`` measures these ratios at larger sizes,
# as medians of repeated runs.
plt.show()
