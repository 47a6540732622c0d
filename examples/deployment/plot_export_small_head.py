"""
.. _example_export_small_head:

=========================================
Deploying small: export projection + head
=========================================

"Train big, deploy small": once a head has been trained on projected
features, what has to ship is the head, ``k x C + C`` numbers for a linear
head on ``k`` components and ``C`` classes, plus the *recipe* of the
projection: family, shape and seed. The ``k x d`` matrix itself is never
stored; it is regenerated from the seed where the model is loaded.

:func:`~sklearn_subspace.head.export_torch` turns a fitted
``Pipeline([JLSubspaceTransformer, SubspaceHeadClassifier])`` into one
:class:`torch.nn.Module` that maps raw ``d``-dimensional features to logits.
This example exports one, checks that it predicts exactly what the pipeline
predicts, and counts what it stores.
"""

# %%
# Features to classify
# --------------------
# A stand-in for a teacher's penultimate features: 2048 ReLU units (the width
# of ResNet-50's) computed from 10 classes of 32-dimensional latent points,
# as a network's last layer computes them from what it has recognised.

import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from sklearn_subspace.head import SubspaceHeadClassifier, export_torch
from sklearn_subspace.projection import JLSubspaceTransformer

latent, y = make_classification(
    n_samples=3000,
    n_features=32,
    n_informative=16,
    n_classes=10,
    n_clusters_per_class=1,
    class_sep=3.0,
    random_state=0,
)
mixing = np.random.default_rng(0).standard_normal((32, 2048)) / np.sqrt(32)
features = np.maximum(latent @ mixing, 0.0).astype(np.float32)
F_train, F_test, y_train, y_test = train_test_split(
    features, y, test_size=0.25, stratify=y, random_state=0
)
n_features = F_train.shape[1]
print(
    f"features: {F_train.shape[0]} x {n_features}, {len(np.unique(y))} classes"
)

# %%
# Train big: a head on all 2048 features, and one on 128 components
# ------------------------------------------------------------------
# The projection is an SRHT to ``k = 128`` components, 16 times fewer.


def make_head():
    return SubspaceHeadClassifier(device="cpu", random_state=0)


full_head = make_head().fit(F_train, y_train)
pipe = Pipeline(
    [
        ("jl", JLSubspaceTransformer(128, projection="srht", random_state=0)),
        ("head", make_head()),
    ]
).fit(F_train, y_train)
accuracy = {
    "full width (d = 2048)": full_head.score(F_test, y_test),
    "k = 128": pipe.score(F_test, y_test),
}
for name, value in accuracy.items():
    print(f"test accuracy, {name}: {value:.3f}")

# %%
# Deploy small: one torch module
# ------------------------------
# The exported module takes the raw 2048-d features. Its ``state_dict`` holds
# the head only; the projection is a buffer rebuilt from its recipe.

module = export_torch(pipe)
print(module)
print("state_dict keys:", list(module.state_dict()))

# %%
# It predicts what the pipeline predicts
# --------------------------------------
# ``module.classes_[logits.argmax(1)]`` are the labels; the probabilities
# agree with the pipeline's to float32 rounding.

with torch.no_grad():
    logits = module(torch.from_numpy(F_test))
module_pred = module.classes_[logits.argmax(1).numpy()]
module_proba = torch.softmax(logits, 1).numpy()
proba_gap = np.abs(module_proba - pipe.predict_proba(F_test)).max()
same_predictions = np.array_equal(module_pred, pipe.predict(F_test))
print(f"same predictions: {same_predictions}")
print(f"largest probability difference: {proba_gap:.2e}")

# %%
# What it stores
# --------------
# :meth:`~sklearn_subspace.head.SubspaceClassifierModule.size_report` counts
# the stored numbers against a linear head on all ``d`` features. Saving
# the whole module with :func:`torch.save` and loading it back regenerates
# the ``128 x 2048`` matrix from its seed, bit for bit.

report = module.size_report()
for key, value in report.items():
    shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    print(f"{key:>28}: {shown}")


def saved_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getbuffer().nbytes, buffer


full_module = export_torch(full_head)
full_bytes, _ = saved_bytes(full_module.state_dict())
small_bytes, _ = saved_bytes(module.state_dict())
_, whole_module = saved_bytes(module)
whole_module.seek(0)
reloaded = torch.load(whole_module, weights_only=False)
with torch.no_grad():
    same = torch.equal(reloaded(torch.from_numpy(F_test)), logits)
print(f"saved weights, full-width head: {full_bytes:,} B")
print(f"saved weights, exported module: {small_bytes:,} B")
print(f"reloaded module gives identical logits: {same}")

# %%
# Size against accuracy
# ---------------------
# On the left, the numbers each model stores: the full-width linear head,
# the exported subspace head, and, for scale, the projection matrix that the
# exported module regenerates instead of storing. On the right, the test
# accuracy both heads reach.

fig, (ax_size, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
sizes = {
    "full-width head": report["full_linear_head_parameters"],
    "exported head\n(k = 128)": report["stored_parameters"],
    "projection\n(regenerated)": report["regenerated_elements"],
}
bars = ax_size.bar(
    sizes.keys(), sizes.values(), color=["C0", "C1", "lightgrey"]
)
ax_size.bar_label(bars, labels=[f"{v:,}" for v in sizes.values()])
ax_size.set_yscale("log")
ax_size.set_ylim(top=4 * max(sizes.values()))  # room for the labels
ax_size.set_ylabel("numbers (log scale)")
ax_size.set_title("Stored parameters")

bars = ax_acc.bar(accuracy.keys(), accuracy.values(), color=["C0", "C1"])
ax_acc.bar_label(bars, labels=[f"{v:.3f}" for v in accuracy.values()])
ax_acc.set_ylim(0, 1.1)
ax_acc.set_ylabel("test accuracy")
ax_acc.set_title("Accuracy")
fig.tight_layout()
plt.show()
