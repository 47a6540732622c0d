"""scikit-learn's estimator checks, run once over every estimator of the package.

Each estimator is checked in small settings that keep its fit short. A check
an estimator is known to fail is listed with the reason in
``_expected_failed_checks``; scikit-learn then marks it xfail, and it fails
the run if it ever passes.
"""

import importlib
import pkgutil
import warnings

import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, DataDimensionalityWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_subspace
from sklearn_subspace import (
    PROJECTION_FAMILIES,
    JLSubspaceTransformer,
    StudentMLP,
    SubspaceDistiller,
    SubspaceHeadClassifier,
    TorchFeatureExtractor,
)
from tests.teachers.teachers_tiny_models import RowwiseMLP

# Estimators of the package that the checks do not apply to, and why.
NOT_CHECKED = {
    "sklearn_subspace.study._pca.TruncatedPCA": (
        "private to the study: it views the leading components of a PCA "
        "fitted beforehand, so its input width is fixed by that PCA and fit "
        "learns nothing from X"
    ),
    "sklearn_subspace.training._net.TrainingNet": (
        "the private skorch engine the head, the students and the embedded "
        "teacher train with; it is checked through those estimators"
    ),
}


def _tested_estimators():
    for family in PROJECTION_FAMILIES:
        # The checks use few features; a small k keeps every family valid.
        yield JLSubspaceTransformer(n_components=2, projection=family, random_state=0)
    # Short fits: the L-BFGS default, and AdamW on mini-batches with a
    # validation split and a hidden layer.
    head = {"max_epochs": 10, "batch_size": 32, "device": "cpu", "random_state": 0}
    yield SubspaceHeadClassifier(**head)
    yield SubspaceHeadClassifier(
        **head, optimizer="adamw", lr=1e-2, hidden_layer_sizes=(8,)
    )
    # A module that reads tabular rows of any width, as the checks pass.
    yield TorchFeatureExtractor(RowwiseMLP(), device="cpu")


def _tested_distillers():
    # teacher=None and no teacher_features: the identity teacher, so the
    # checks (which only pass X, y) exercise the whole fit.
    distiller = {
        "student_params": {"hidden_layer_sizes": (16,)},
        "n_components": 2,
        "lr": 3e-2,
        "max_epochs": 5,
        "tol": None,
        "batch_size": 32,
        "device": "cpu",
        "random_state": 0,
        "head": SubspaceHeadClassifier(
            lr=5e-2, batch_size=32, max_epochs=15, early_stopping=False
        ),
    }
    yield SubspaceDistiller(StudentMLP, **distiller)
    # The mixed loss trains through the head's module: labels reach the student.
    yield SubspaceDistiller(StudentMLP, loss="mixed", alpha=0.5, **distiller)


def _expected_failed_checks(estimator):
    if isinstance(estimator, SubspaceHeadClassifier):
        if estimator.optimizer == "auto":
            reason = (
                "float32 training: weighted and repeated fits agree to about "
                "1e-5, not to the check's 1e-7 (tests/head/test_fit_options.py "
                "checks the equivalence at float32 tolerance)"
            )
        else:
            reason = (
                "a mini-batch fit with a validation split sees different "
                "batches and splits when samples are repeated"
            )
        return {"check_sample_weight_equivalence_on_dense_data": reason}
    if isinstance(estimator, SubspaceDistiller):
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "the student trains on mini-batches with a validation split, "
                "which differ when samples are repeated instead of weighted"
            )
        }
    if isinstance(estimator, TorchFeatureExtractor):
        return {
            "check_estimators_overwrite_params": (
                "joblib.hash of a torch module is not content-based (a deep "
                "copy hashes differently); test_fit_leaves_the_users_module_"
                "untouched checks it."
            )
        }
    return {}


# Warnings the short fits are expected to raise, silenced per estimator.
_EXPECTED_WARNINGS = {
    SubspaceHeadClassifier: (ConvergenceWarning,),  # fits stop at their epoch cap
    SubspaceDistiller: (DataDimensionalityWarning,),  # k=2 > d=1 in some checks
}


@pytest.fixture(autouse=True)
def _one_torch_thread(single_torch_thread):
    """Every estimator here is tiny (see ``single_torch_thread``)."""


def _run_check(estimator, check):
    with warnings.catch_warnings():
        for category in _EXPECTED_WARNINGS.get(type(estimator), ()):
            warnings.simplefilter("ignore", category)
        check(estimator)


@parametrize_with_checks(
    list(_tested_estimators()), expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    _run_check(estimator, check)


# Each fit of a distiller trains a student, then a head: its checks take
# longer than all the others together.
@pytest.mark.slow
@parametrize_with_checks(
    list(_tested_distillers()), expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_distiller(estimator, check):
    _run_check(estimator, check)


def _package_estimators():
    """Every BaseEstimator subclass defined in the package, by full name."""
    found = {}
    for module_info in pkgutil.walk_packages(
        sklearn_subspace.__path__, prefix="sklearn_subspace."
    ):
        parts = module_info.name.split(".")
        # Running __main__ would start the CLI; private subpackages are not
        # part of the library.
        if parts[-1] == "__main__" or any(part.startswith("_") for part in parts[1:-1]):
            continue
        module = importlib.import_module(module_info.name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("sklearn_subspace.")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_estimator_of_the_package_is_checked():
    found = _package_estimators()
    checked = {
        type(estimator) for estimator in [*_tested_estimators(), *_tested_distillers()]
    }
    unchecked = {
        name
        for name, cls in found.items()
        if cls not in checked and name not in NOT_CHECKED
    }
    assert not unchecked, (
        f"{sorted(unchecked)} derive from BaseEstimator but are not in "
        "_tested_estimators: add a small instance there, or list the class "
        "with its reason in NOT_CHECKED."
    )
    assert set(NOT_CHECKED) <= set(found), "NOT_CHECKED names a removed class"
    assert {cls.__name__ for cls in checked} <= set(sklearn_subspace.__all__)
