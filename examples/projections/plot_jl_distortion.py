"""
=============================================================
Measured distortion against the Johnson-Lindenstrauss bound
=============================================================

The Johnson-Lindenstrauss (JL) lemma says how many random components ``k``
keep *every* pairwise squared distance of *any* ``n`` points within a factor
``1 +- eps``. That worst case is a safe choice, but it ignores the data. This
example compares it with what the projections actually do, for each
projection family, and then measures how many dimensions a real feature set
occupies.

The diagnostics used here are
:func:`~sklearn_subspace.diagnostics.distortion_report`,
:func:`~sklearn_subspace.diagnostics.recommend_n_components` and
:func:`~sklearn_subspace.diagnostics.estimate_intrinsic_dimension`.
"""

# %%
# Wide features to compress
# -------------------------
# 150 points with 2048 features, the width of a ResNet-50 penultimate layer,
# spread over a few hundred random directions with a decaying spectrum, as
# deep features are.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_subspace.diagnostics import (
    distortion_report,
    estimate_intrinsic_dimension,
    recommend_n_components,
)
from sklearn_subspace.projection import (
    PROJECTION_FAMILIES,
    JLSubspaceTransformer,
    johnson_lindenstrauss_min_dim,
)
from sklearn_subspace.study import load_embedded_task

rng = np.random.default_rng(0)
spectrum = np.exp(-np.arange(256) / 40.0)
X = (rng.standard_normal((150, 256)) * spectrum) @ rng.standard_normal(
    (256, 2048)
)
X = X.astype(np.float32)
n_samples, n_features = X.shape
n_all_pairs = n_samples * (n_samples - 1) // 2
print(f"{n_samples} points in R^{n_features}: {n_all_pairs} pairs")

# %%
# The theoretical bound, read the other way round
# -----------------------------------------------
# :func:`~sklearn_subspace.projection.johnson_lindenstrauss_min_dim` gives the
# smallest ``k`` for a target ``eps``. To plot it against ``k`` we invert it
# on a fine grid of ``eps``: for each ``k``, the smallest ``eps`` that ``k``
# components are guaranteed to achieve. The exact bound holds with
# probability ``1 - failure_probability``; the textbook bound is the one
# scikit-learn uses.

n_components_grid = [16, 32, 64, 128, 256, 512]
eps_grid = np.linspace(0.01, 0.99, 99)
failure_probability = 0.01

min_dims = {
    "exact bound (p = 0.01)": johnson_lindenstrauss_min_dim(
        n_samples, eps=eps_grid, failure_probability=failure_probability
    ),
    "textbook bound": johnson_lindenstrauss_min_dim(n_samples, eps=eps_grid),
}


def guaranteed_eps(min_dim, k):
    """Smallest eps on the grid whose bound is met by k components."""
    achievable = eps_grid[min_dim <= k]
    return achievable.min() if achievable.size else np.nan


bounds = {
    name: [guaranteed_eps(min_dim, k) for k in n_components_grid]
    for name, min_dim in min_dims.items()
}

# %%
# Measured distortion of every projection family
# ----------------------------------------------
# With ``n_pairs`` at least the number of distinct pairs, the report uses
# every pair, so its ``max_distortion`` (the largest ``|ratio - 1|``) is the
# ``eps`` this projection really achieved on these points.

reports = []
for projection in PROJECTION_FAMILIES:
    for k in n_components_grid:
        jl = JLSubspaceTransformer(k, projection=projection, random_state=0)
        frame = distortion_report(X, jl, n_pairs=n_all_pairs).to_frame()
        reports.append(frame.assign(projection=projection))
measured = pd.concat(reports, ignore_index=True)

fig, ax = plt.subplots(figsize=(7, 4.5))
for projection, rows in measured.groupby("projection", sort=False):
    ax.plot(
        rows["n_components"],
        rows["max_distortion"],
        marker="o",
        label=projection,
    )
for (name, eps_bound), style in zip(bounds.items(), ["k-", "k--"]):
    ax.plot(n_components_grid, eps_bound, style, linewidth=2, label=name)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("number of components k")
ax.set_ylabel("largest |ratio - 1| over all pairs")
ax.set_title(f"Worst pair distortion, {n_samples} points in R^{n_features}")
ax.legend(ncol=2, fontsize="small")
fig.tight_layout()

# %%
# Below ``k = 128`` the bounds promise nothing (they would need
# ``eps >= 1``). Above it, every family's worst pair stays under the bound,
# though not by much: a pair's ratio is a random draw whose spread depends
# on ``k`` only, not on the data, so the worst of 11175 pairs is close to
# what the union bound allows. The families are nearly interchangeable, so
# the cheap ones (``"sparse"``, ``"srht"``, ``"countsketch"``) cost nothing
# in distortion.
print(
    measured.pivot(
        index="n_components", columns="projection", values="max_distortion"
    ).round(3)
)

# %%
# The whole distribution for one projection
# -----------------------------------------
# The worst pair is one number; the histogram shows where the other pairs
# fall relative to the ``1 +- eps`` band. Most pairs move far less than the
# worst one, which is why a head trained on projected features usually
# tolerates a ``k`` well below the worst-case bound.

report = distortion_report(
    X,
    JLSubspaceTransformer(256, projection="sparse", random_state=0),
    n_pairs=n_all_pairs,
    eps=0.2,
)
report.plot()
plt.tight_layout()
print(report.to_frame().T)

# %%
# Three answers to "how small can k be?"
# --------------------------------------
# :func:`~sklearn_subspace.diagnostics.recommend_n_components` puts the
# worst-case JL ``k``, the intrinsic dimension and the smallest measured
# ``k`` side by side, each with what it promises. The measured ``k`` asks
# that *no* sampled pair leaves the band in any of three draws, the
# data-specific counterpart of the worst case. Asking instead for most
# pairs (``max_fraction_outside``) lowers it further.

recommendation = recommend_n_components(
    X, eps=0.3, failure_probability=failure_probability, random_state=0
)
pd.set_option("display.max_colwidth", None)  # show each promise in full
recommendation.to_frame()

# %%
# The measured ``k`` comes from this grid: the worst distortion over the
# sampled pairs, the fraction of pairs outside the band, and whether that
# ``k`` kept every pair inside.
recommendation.grid_results

# %%
# The feature set
# ---------------
# The features measured below are a real teacher's: the 2048-d penultimate
# layer of the small CNN that
# :func:`~sklearn_subspace.load_embedded_task` trains on scikit-learn's
# digits (cached on disk after the first run), on all 1797 images. Any
# ``(n_samples, n_features)`` array of network features can be dropped in
# here unchanged.

task = load_embedded_task(random_state=0)
images = np.concatenate([task.X_train, task.X_test])
features = task.extractor.set_params(device="cpu").fit_transform(images)
feature_set_name = f"{task.name} teacher features (d = {features.shape[1]})"
print(feature_set_name, features.shape, features.dtype)

# %%
# Intrinsic dimension of the feature set
# --------------------------------------
# Both estimators count the dimensions the points occupy around each point.
# Subsampling measures at a coarser scale; an estimate that stays put as
# the sample grows is one to trust.

sample_sizes = [200, 400, 800, len(features)]
estimates = pd.DataFrame(
    {
        method: [
            estimate_intrinsic_dimension(
                features, method=method, n_samples=size, random_state=0
            )
            for size in sample_sizes
        ]
        for method in ("twonn", "mle")
    },
    index=pd.Index(sample_sizes, name="n_samples"),
)
print(estimates.round(2))

fig, ax = plt.subplots(figsize=(6, 4))
for method, label in [
    ("twonn", "TwoNN"),
    ("mle", "Levina-Bickel MLE (20 NN)"),
]:
    ax.plot(estimates.index, estimates[method], marker="o", label=label)
ax.set_xlabel("points used")
ax.set_ylabel("intrinsic dimension")
ax.set_ylim(0, None)
ax.set_title(f"{feature_set_name}: {features.shape[1]} features")
ax.legend()
fig.tight_layout()

# %%
# The teacher's 2048 features occupy only about 5 to 7 directions locally
# (TwoNN settles near 7 as the sample grows; the MLE reads lower). The
# intrinsic dimension is a floor for ``k``: a projection below it must fold
# the data, while above it the distortion measured earlier is what decides.
# The compression study on these features loses accuracy only below
# ``k = 16``.
plt.show()
