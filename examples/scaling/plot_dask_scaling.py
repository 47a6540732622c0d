"""
=======================================
Scaling out: the whole workflow on dask
=======================================

Every step of sklearn-subspace runs on a dask cluster with the same results
as a local run: the teacher's features are extracted across the workers into
a shared cache, the random projection runs block by block on a dask array,
a fitted head predicts block by block through ``dask_ml``'s
``ParallelPostFit``, and ``GridSearchCV`` sweeps ``k`` on the cluster through
joblib's dask backend.

The cluster here is a two-worker :class:`distributed.LocalCluster`; the same
code runs on any ``distributed.Client``. See the :ref:`scaling_out` guide.
"""

# %%
# A local cluster
# ---------------
# Two workers with one thread each. Threads in this process keep the example
# quick to start; process workers (``processes=True``, started inside
# ``if __name__ == "__main__":`` in a script) or a remote cluster give the
# same numbers.

import tempfile

import joblib
import matplotlib.pyplot as plt
import numpy as np
import torch
from dask_ml.wrappers import ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_subspace import JLSubspaceTransformer
from sklearn_subspace.distributed import extract_distributed
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.teachers import TorchFeatureExtractor, forward_pass_count

cluster = LocalCluster(
    n_workers=2,
    threads_per_worker=1,
    processes=False,
    dashboard_address=None,
)
client = Client(cluster)
print(f"{len(client.nthreads())} workers")

# %%
# Features extracted across the workers
# -------------------------------------
# The teacher is a small, randomly initialised network that maps the 8x8
# digits to 512 features; a real teacher is a model name such as
# ``"resnet50"``. :func:`~sklearn_subspace.distributed.extract_distributed`
# splits the images into partitions, fits the extractor once on a worker and
# lets each worker load the teacher once. The features land in ``cache_dir``,
# keyed by content.

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0
)

torch.manual_seed(0)
teacher = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.ReLU())
cache = tempfile.TemporaryDirectory(prefix="features-")
cache_dir = cache.name
extractor = TorchFeatureExtractor(teacher, device="cpu", cache_dir=cache_dir)

F_train = extract_distributed(extractor, X_train, client=client, partitions=4)
print("features:", F_train.shape, F_train.dtype)

# %%
# A local run now finds every feature in the cache: the teacher does not run
# once, not even for ``fit``'s probe of the feature width.

before = forward_pass_count()
F_local = TorchFeatureExtractor(
    teacher, device="cpu", cache_dir=cache_dir
).fit_transform(X_train)
print("local teacher passes:", forward_pass_count() - before)
print("same features:", np.array_equal(F_local, F_train))

# %%
# Blockwise projection
# --------------------
# With ``compute=False`` the test features stay on the workers as a dask
# array. The projection is fitted on its shape alone and applied block by
# block: each task carries the map's seed, not its matrix. The lazy result
# equals the numpy projection bit for bit.

F_test = extract_distributed(extractor, X_test, client=client, compute=False)
jl = JLSubspaceTransformer(n_components=64, random_state=0).fit(F_test)
Z_test = jl.transform(F_test)
print("lazy:", Z_test.shape, Z_test.dtype, "in blocks of", Z_test.chunksize)

Z_numpy = jl.transform(F_test.compute())
print("dask == numpy:", np.array_equal(Z_test.compute(), Z_numpy))

# %%
# Head prediction on dask arrays
# ------------------------------
# ``ParallelPostFit`` trains the pipeline as usual and predicts each block of
# a dask array where it lives.

pipe = Pipeline(
    [
        ("jl", JLSubspaceTransformer(n_components=64, random_state=0)),
        (
            "head",
            SubspaceHeadClassifier(device="cpu", random_state=0),
        ),
    ]
)
model = ParallelPostFit(pipe).fit(F_train, y_train)
labels = model.predict(F_test).compute()
print(f"test accuracy: {np.mean(labels == y_test):.3f}")
print(
    "same labels as numpy:",
    np.array_equal(labels, pipe.predict(F_test.compute())),
)

# %%
# A sweep on the cluster
# ----------------------
# ``GridSearchCV`` runs its candidates on the workers through joblib's dask
# backend. With integer seeds, the scores are those of a local serial run.

grid = {
    "jl__n_components": [4, 8, 16, 32, 64],
    "jl__projection": ["gaussian", "sparse"],
}
search = GridSearchCV(pipe, grid, cv=3, n_jobs=-1)
with joblib.parallel_backend("dask"):
    search.fit(F_train, y_train)

serial = GridSearchCV(
    pipe, {"jl__n_components": [8], "jl__projection": ["sparse"]}, cv=3
)
serial.fit(F_train, y_train)
on_cluster = search.cv_results_["mean_test_score"][
    (search.cv_results_["param_jl__n_components"] == 8)
    & (search.cv_results_["param_jl__projection"] == "sparse")
]
print("k=8, sparse: cluster", on_cluster[0], "serial", serial.best_score_)

# %%
# Accuracy against ``k`` for both families, from the cluster's sweep.

results = search.cv_results_
fig, ax = plt.subplots(figsize=(6, 4))
for family in grid["jl__projection"]:
    rows = results["param_jl__projection"] == family
    ks = results["param_jl__n_components"][rows].astype(int)
    ax.errorbar(
        ks,
        results["mean_test_score"][rows],
        yerr=results["std_test_score"][rows],
        marker="o",
        capsize=3,
        label=family,
    )
ax.set_xscale("log", base=2)
ax.set_xticks(
    grid["jl__n_components"], [str(k) for k in grid["jl__n_components"]]
)
ax.set_xlabel("k (projected dimension, of d = 512)")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("GridSearchCV over k on a dask cluster")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Shutting down
# -------------

client.close()
cluster.close()
cache.cleanup()
