"""
=============================================================
Subspace-native distillation against scratch, KD and FitNets
=============================================================

The paper behind this library proposes, without running it, a way to train
a small student network: project the teacher's features ``h(x)`` with a fixed
random matrix, ``z(x) = R h(x) / sqrt(k)``, train a head on ``z``, then train
the student ``g`` so that ``g(x)`` regresses ``z(x)``. Because the student
lands in the head's input coordinates, the head classifies the student's
outputs directly, and only the student and a ``k``-input head are deployed.

This example runs that idea with
:class:`~sklearn_subspace.distill.SubspaceDistiller` and measures it with
:func:`~sklearn_subspace.distill.distillation_comparison` against three
students of the same architecture trained with the same budget: from scratch
with cross-entropy, with Hinton knowledge distillation on the teacher's
logits, and FitNets-style regression of the full teacher features.

To stay fast, the teacher is a wide MLP trained here in a few seconds. The
command ``sklearn-subspace distill`` runs the same comparison with the
library's embedded CNN teacher (2048-d features).
"""

# %%
# A teacher with wide features
# ----------------------------
# scikit-learn's digits, split 75 / 25. The teacher is a one-hidden-layer
# MLP with 1024 ReLU units; its hidden layer (module ``"2"`` of the
# ``nn.Sequential``) is the feature layer ``h(x)``, with ``d = 1024``.

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from sklearn_subspace.distill import (
    StudentMLP,
    SubspaceDistiller,
    distillation_comparison,
)
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.teachers import TorchFeatureExtractor

# The networks here are tiny: one thread avoids synchronisation overhead
# that costs more than the arithmetic at this size.
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

torch.manual_seed(0)
teacher = nn.Sequential(
    nn.Flatten(), nn.Linear(64, 1024), nn.ReLU(), nn.Linear(1024, 10)
)
optimizer = torch.optim.AdamW(teacher.parameters(), lr=1e-3)
X_t, y_t = torch.from_numpy(X_train), torch.from_numpy(y_train)
generator = torch.Generator().manual_seed(0)
for _ in range(20):
    for idx in torch.randperm(len(X_t), generator=generator).split(64):
        optimizer.zero_grad()
        nn.functional.cross_entropy(teacher(X_t[idx]), y_t[idx]).backward()
        optimizer.step()
teacher.eval().requires_grad_(False)
with torch.no_grad():
    teacher_accuracy = (
        teacher(torch.from_numpy(X_test)).argmax(1).numpy() == y_test
    ).mean()
n_teacher = sum(p.numel() for p in teacher.parameters())
print(
    f"teacher: {n_teacher:,} parameters, test accuracy {teacher_accuracy:.3f}"
)

extractor = TorchFeatureExtractor(teacher, layer="2", device="cpu")
F_train = extractor.fit_transform(X_train)
F_test = extractor.transform(X_test)
print("teacher features:", F_train.shape)

# %%
# One subspace-native student
# ---------------------------
# The student is an MLP with one hidden layer of 64 units and ``k = 32``
# outputs. ``fit`` projects the teacher features, fits the head on them, and
# trains the student to regress them; the epoch with the best validation
# accuracy (through the head) is kept. The head is then applied, unchanged,
# to the student's outputs.

head = SubspaceHeadClassifier()
distiller = SubspaceDistiller(
    StudentMLP,
    teacher=extractor,
    student_params={"hidden_layer_sizes": (64,)},
    n_components=32,
    max_epochs=20,
    tol=None,  # exactly 20 epochs, as in the comparison below
    lr=3e-3,
    head=head,
    device="cpu",
    random_state=0,
).fit(X_train, y_train)

on_teacher = distiller.head_.score(
    distiller.projection_.transform(F_test), y_test
)
n_student = sum(p.numel() for p in distiller.student_.parameters())
on_student = distiller.score(X_test, y_test)
student_shape = distiller.transform(X_test).shape
print(f"student outputs: {student_shape}, {n_student:,} parameters")
print(f"head on the teacher's projected features: {on_teacher:.3f}")
print(f"same head on the student's outputs:       {on_student:.3f}")

# %%
# The comparison
# --------------
# Every student below has the same body (64 hidden units), the same
# optimizer, learning rate (3e-3), 20 epochs and batch size, the same
# validation split and batch order for a given seed, and keeps its best
# validation epoch. FitNets and subspace students run at ``k = 16`` and
# ``k = 64``; KD distils the teacher network's own logits. Three seeds.

result = distillation_comparison(
    X_train,
    y_train,
    X_test,
    y_test,
    teacher_features=F_train,
    teacher_features_test=F_test,
    teacher_logits=teacher,
    student_params={"hidden_layer_sizes": (64,)},
    n_components=[16, 64],
    seeds=3,
    head=head,
    max_epochs=20,
    tol=None,  # the same 20 epochs for every method
    lr=3e-3,
    device="cpu",
)
result  # the same table as text: result.to_markdown()

# %%
# The "head on teacher features" column is the accuracy each method's head
# reaches on the teacher's own (projected, for the subspace students) test
# features: the ceiling a perfect student would reach. Read the table as it
# comes out; on a task this small, differences of a point are within the
# spread over seeds.
#
# Learning curves
# ---------------
# Validation accuracy per epoch, averaged over the seeds. The subspace
# students see their accuracy through a head that was trained before them
# and never changes.

fig, ax = plt.subplots(figsize=(7, 4.5))
result.plot_learning_curves(ax=ax)
ax.set_ylim(50, 100)
plt.tight_layout()
plt.show()
