"""
=================================================
The compression study on Fashion-MNIST (reduced)
=================================================

Digits are too easy to show the paper's curve: every method stays flat down
to 32x. Fashion-MNIST (70,000 grayscale 28 x 28 images of clothes in ten
classes) is hard enough for compression to cost accuracy, and small enough
to train a teacher on a laptop CPU.

This example runs a reduced version of

.. code-block:: bash

    sklearn-subspace study --dataset fashion-mnist

on a stratified subsample (6,000 training and 2,000 test images), three
values of ``k`` and two seeds, in well under a minute. The full run (60,000
images, eight values of ``k``, three seeds) is on the page
:ref:`results`.

The images are read from the four IDX files of the Debian package
``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``), from
``data_dir`` or from torchvision's ``FashionMNIST/raw`` folder; this example
never downloads them. Without them it says so and stops early.
"""

# %%
# The data and the teacher
# ------------------------
# :func:`~sklearn_subspace.datasets.load_embedded_task` loads the dataset and
# trains the library's embedded teacher on it: two convolution blocks and a
# 2048-unit penultimate layer whose output is the feature vector. The first
# run trains it (five epochs, about 30 s on 6,000 images) and caches it;
# later runs load it.
import matplotlib.pyplot as plt

from sklearn_subspace.datasets import (
    DatasetUnavailableError,
    load_embedded_task,
)
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.study import compression_study

try:
    task = load_embedded_task(
        "fashion-mnist",
        download=False,
        max_train_samples=6000,
        max_test_samples=2000,
        random_state=0,
    )
except DatasetUnavailableError as error:
    task = None
    print("Fashion-MNIST is not installed here, so this example stops.")
    print(error)
else:
    print(task.name, task.X_train.shape, task.X_test.shape)

# %%
# Run the study
# -------------
# Three values of ``k`` (8x, 32x and 128x compression), two projection
# families, the full-d head and PCA, two seeds: 14 heads with the default
# settings (AdamW, lr 1e-3, early stopping on a validation split of the
# training features).
result = None
if task is not None:
    result = compression_study(
        task.X_train,
        task.y_train,
        task.X_test,
        task.y_test,
        extractor=task.extractor.set_params(device="cpu"),
        n_components=[256, 64, 16],
        projections=["gaussian", "srht"],
        baselines=["full", "pca"],
        seeds=2,
        head=SubspaceHeadClassifier(device="cpu"),
        teacher=task.name,
        random_state=0,
        progress=False,
    )
    print(result.to_markdown())

# %%
# Accuracy against compression ratio
# ----------------------------------
# Unlike on digits, the curve bends: random projections lose little at 8x,
# about a point at 32x and several points at 128x, while PCA, fitted on the
# training features, keeps more at equal ``k``. On the full training set the
# losses are smaller (see :ref:`results`).
if result is not None:
    result.plot()
    plt.show()
