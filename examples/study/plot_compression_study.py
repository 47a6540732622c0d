"""
===================================================
The compression study: accuracy against k, honestly
===================================================

The paper behind this library claims that the last hidden features of a
trained network can be squeezed through a *fixed random* Johnson-Lindenstrauss
projection to ``k << d`` dimensions and a linear head trained there loses
almost no accuracy.

:func:`~sklearn_subspace.study.compression_study` measures that claim on your
own teacher: it extracts the features once, then trains a fresh head for every
projection family, every ``k`` and every seed, next to three baselines:

- ``full``: the head on all ``d`` features (the paper's frozen baseline);
- ``pca``: PCA to ``k`` dimensions, fitted on the training features;
- ``learned``: a trained bias-free ``d -> k`` bottleneck in front of the head.

Early stopping uses a validation split carved from the training data, and the
test set is scored once per configuration.

This example runs a reduced version of the command-line study
(``sklearn-subspace study``) on the embedded task: scikit-learn's digits and a
small CNN whose penultimate layer is 2048 wide.
"""

# %%
# The embedded task
# -----------------
# The teacher is trained on the training split the first time this runs (a few
# seconds on a laptop CPU) and cached on disk; later runs load it.
# ``task.extractor`` is an unfitted
# :class:`~sklearn_subspace.teachers.TorchFeatureExtractor` that returns the
# 2048-d penultimate features.
import matplotlib.pyplot as plt

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.study import compression_study, load_embedded_task

task = load_embedded_task(random_state=0)
print(task.name, task.X_train.shape, task.X_test.shape)

# %%
# Run the study
# -------------
# Four values of ``k`` (compression ratios 4x to 256x), the three fast
# projection families, the three baselines and two seeds: 42 small heads.
# The default head solves each linear problem (full-d, PCA, every projection)
# to convergence, so the differences measure the subspaces. The learned
# bottleneck is a non-convex two-layer network: as on the command line, it
# gets a fixed budget of 30 epochs, keeping its best validation epoch.
result = compression_study(
    task.X_train,
    task.y_train,
    task.X_test,
    task.y_test,
    extractor=task.extractor.set_params(device="cpu"),
    n_components=[512, 128, 32, 8],
    projections=["gaussian", "sparse", "srht"],
    baselines=["full", "pca", "learned"],
    seeds=2,
    head=SubspaceHeadClassifier(device="cpu"),
    learned_head=SubspaceHeadClassifier(
        optimizer="adamw",
        batch_size=64,
        max_epochs=30,
        tol=None,
        device="cpu",
    ),
    teacher=task.name,
    random_state=0,
    progress=False,
)

# %%
# One row per (method, k, seed). ``delta`` is the test accuracy minus the mean
# accuracy of the full-d head over its seeds. The table has more columns (the
# teacher, fit time, epochs, head size); here are the ones the study compares.
columns = ["method", "n_components", "compression_ratio", "seed"]
result.table[columns + ["test_accuracy", "delta"]].head(8)

# %%
# The paper-style table: mean ± standard deviation over seeds, Δ in
# percentage points. ``result`` shows it as a table in a notebook (and here);
# ``result.to_markdown()`` returns the same table as Markdown text.
result

# %%
# Accuracy against compression ratio
# ----------------------------------
# The dashed line is the full-d head, with a band of ± one standard deviation
# over seeds. Random projections stay on it down to a few dozen dimensions,
# far fewer than ``d = 2048``; the intrinsic dimension of these features
# (printed in the table above) is where they finally have to fold the data.
fig = result.plot()
plt.show()

# %%
# ``result.save("subspace-study")`` writes the same table as CSV and Markdown
# and the figure as PNG, like the command line does.
