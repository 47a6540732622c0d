"""
.. _example_gridsearch_k_projection:

=======================================================
Choosing k and the projection family with GridSearchCV
=======================================================

:class:`~sklearn_subspace.projection.JLSubspaceTransformer` and
:class:`~sklearn_subspace.head.SubspaceHeadClassifier` are ordinary
scikit-learn estimators, so the target dimension ``k`` and the projection
family are hyper-parameters like any other: put both in a
:class:`~sklearn.pipeline.Pipeline` and let
:class:`~sklearn.model_selection.GridSearchCV` compare them by
cross-validation on the training data. The test set is scored once, at the
end.

The features come from a small teacher trained on scikit-learn's digits: the
1024 hidden units of a one-layer MLP, playing the part of a deep network's
penultimate layer.
"""

# %%
# A small teacher and its features
# --------------------------------
# The teacher is trained on the training split only. Its hidden layer is the
# wide representation to compress. As with a real teacher, the features are
# extracted *once*: the search below refits the projection and the head 39
# times, but never the teacher. (With a deep teacher, the same holds when
# :class:`~sklearn_subspace.teachers.TorchFeatureExtractor` is given a
# ``cache_dir``.)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.projection import JLSubspaceTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.25, stratify=y, random_state=0
)

teacher = MLPClassifier(
    hidden_layer_sizes=(1024,), alpha=1e-3, max_iter=300, random_state=0
).fit(X_train, y_train)


def teacher_features(X):
    """The teacher's hidden ReLU layer: its 'penultimate' features."""
    hidden = X @ teacher.coefs_[0] + teacher.intercepts_[0]
    return np.maximum(hidden, 0.0).astype(np.float32)


F_train, F_test = teacher_features(X_train), teacher_features(X_test)
n_features = F_train.shape[1]
print(f"teacher test accuracy: {teacher.score(X_test, y_test):.3f}")
print(f"features: {F_train.shape[0]} x {n_features}, {F_train.dtype}")

# %%
# The pipeline and the grid
# -------------------------
# The grid crosses four values of ``k`` with three projection families. A
# second grid replaces the projection with ``"passthrough"``: the same head
# on all 1024 features, the reference every ``k`` is measured against.

pipe = Pipeline(
    [
        ("jl", JLSubspaceTransformer(random_state=0)),
        (
            "head",
            SubspaceHeadClassifier(device="cpu", random_state=0),
        ),
    ]
)
param_grid = [
    {
        "jl__n_components": [8, 16, 32, 64],
        "jl__projection": ["gaussian", "sparse", "srht"],
    },
    {"jl": ["passthrough"]},
]

# %%
# Refit the smallest k that is good enough
# ----------------------------------------
# The highest cross-validated accuracy usually belongs to the widest model.
# What a deployment wants is the *smallest* ``k`` that loses little, so the
# search refits with a callable: among the candidates within one accuracy
# point of the best, the narrowest one (ties go to the higher score).

TOLERANCE = 0.01


def smallest_good_width(cv_results):
    results = pd.DataFrame(cv_results)
    scores = results["mean_test_score"]
    # The full-width candidate has no k: count it as n_features wide.
    width = results["param_jl__n_components"].astype(float).fillna(n_features)
    good = results[scores >= scores.max() - TOLERANCE].assign(width=width)
    best = good.sort_values(
        ["width", "mean_test_score"], ascending=[True, False]
    )
    return int(best.index[0])


search = GridSearchCV(pipe, param_grid, cv=3, refit=smallest_good_width)
search.fit(F_train, y_train)
print("chosen:", search.best_params_)

# %%
# Cross-validated accuracy against k
# ----------------------------------
# Each point is the mean over the three folds, the bars one standard
# deviation. The dashed line is the full-width head and the band the
# tolerance used by the refit rule.

results = pd.DataFrame(search.cv_results_)
is_full = results["param_jl"].astype(str) == "passthrough"
full = results[is_full].iloc[0]
projected = results.dropna(subset=["param_jl__n_components"])

fig, ax = plt.subplots(figsize=(7, 4.5))
families = projected.groupby("param_jl__projection", sort=False)
for family, rows in families:
    rows = rows.sort_values("param_jl__n_components")
    ax.errorbar(
        rows["param_jl__n_components"].astype(int),
        rows["mean_test_score"],
        yerr=rows["std_test_score"],
        marker="o",
        capsize=3,
        label=family,
    )
best_score = results["mean_test_score"].max()
ax.axhline(
    full["mean_test_score"],
    color="k",
    linestyle="--",
    label="full width (1024)",
)
ax.axhspan(
    best_score - TOLERANCE,
    best_score,
    color="grey",
    alpha=0.3,
    label="tolerance",
)
ax.set_xscale("log", base=2)
ax.set_xticks(
    param_grid[0]["jl__n_components"], labels=param_grid[0]["jl__n_components"]
)
ax.set_xlabel("number of components k")
ax.set_ylabel("3-fold CV accuracy")
ax.set_title("Digits, MLP teacher features (d = 1024)")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# The table behind the figure, as a compression ratio ``d / k``:

table = projected.pivot(
    index="param_jl__n_components",
    columns="param_jl__projection",
    values="mean_test_score",
)
ks = table.index.astype(int)
table.index = [f"k={k:>2} ({n_features // k}x)" for k in ks]
print(table.round(3))
print(f"full width: {full['mean_test_score']:.3f}")

# %%
# One look at the test set
# ------------------------
# Only now is the test set used: once for the refitted model, and once for
# the full-width head it is compared with. Accuracy falls off sharply below
# a few dozen components, while ``k = 64`` stays within about a point of
# the full-width head and ``k = 32`` within about two: a 16-32x narrower
# input for the head. From ``k = 32`` on the three families are within
# about a point of one another, which is why the cheaper ``"sparse"`` and
# ``"srht"`` maps are worth using (see :ref:`projections`).

chosen = search.best_estimator_
full_width = pipe.set_params(jl="passthrough").fit(F_train, y_train)
print("refitted:", chosen.named_steps["jl"], sep="\n")
print(f"test accuracy, chosen model:    {chosen.score(F_test, y_test):.3f}")
print(
    f"test accuracy, full-width head: {full_width.score(F_test, y_test):.3f}"
)
plt.show()
