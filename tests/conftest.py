"""Shared test configuration, and the small data sets several folders use."""

import os

# BLAS and torch run on one thread. The tests' arrays and networks are small:
# a second thread only adds synchronisation, and a serial run of the quick
# tests is faster on one. Under pytest-xdist the workers fill the cores, so
# they always run on one; a serial run keeps an OMP_NUM_THREADS the developer
# set. This must run before numpy and torch are imported, which read the
# variable once; child processes inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
else:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# torch, scikit-learn and the library are imported where they are used: the
# pytest-xdist controller loads this file before it starts the workers, and
# runs no test itself.

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def global_random_seed():
    """The seed that seeded tests use, as scikit-learn's fixture of that name."""
    return 42


@pytest.fixture
def single_torch_thread():
    """Run a test on one torch thread, then restore the setting.

    Test heads and students have a few thousand parameters: a second thread
    only adds synchronisation, which on a busy machine costs several times
    the work. Folders of such tests request it from an autouse fixture, so
    that they stay on one thread when ``OMP_NUM_THREADS`` asks for more.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# -- small data and heads -------------------------------------------------------------


def _make_classification(**params):
    from sklearn.datasets import make_classification

    return make_classification(**params)


@pytest.fixture
def data():
    """300 float32 samples, 20 features, 3 well-separated classes."""
    X, y = _make_classification(
        n_samples=300,
        n_features=20,
        n_informative=10,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="session")
def shared_features():
    """:func:`features`, built once and read-only, for module-scoped fixtures."""
    X, y = _make_classification(
        n_samples=240,
        n_features=32,
        n_informative=12,
        n_redundant=0,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    X.setflags(write=False)
    y.setflags(write=False)
    return X[:180], y[:180], X[180:], y[180:]


@pytest.fixture
def features(shared_features):
    """(X_train, y_train, X_test, y_test): 32-d float32 features, 3 classes."""
    return tuple(array.copy() for array in shared_features)


@pytest.fixture
def raw_inputs():
    """(X_train, y_train, X_test, y_test): distinct 16-d inputs for a teacher."""
    X, y = _make_classification(
        n_samples=150,
        n_features=16,
        n_informative=8,
        n_classes=3,
        class_sep=2.0,
        random_state=1,
    )
    X = X.astype(np.float32)
    return X[:120], y[:120], X[120:], y[120:]


@pytest.fixture(scope="session")
def problem():
    """A 3-class tabular task with fixed random ReLU "teacher" features.

    ``(X, y, F, X_test, y_test, F_test)``: 12-d inputs ``X`` and their 48-d
    features ``F = relu(X W)``.
    """
    X, y = _make_classification(
        n_samples=240,
        n_features=12,
        n_informative=8,
        n_redundant=0,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    W = np.random.default_rng(0).standard_normal((12, 48)).astype(np.float32)
    F = np.maximum(X @ W, 0.0)
    return X[:180], y[:180], F[:180], X[180:], y[180:], F[180:]


def make_fast_head():
    """A head that trains in a fraction of a second on the small data above."""
    from sklearn_subspace.head import SubspaceHeadClassifier

    return SubspaceHeadClassifier(lr=1e-2, max_epochs=4, batch_size=64, device="cpu")


@pytest.fixture
def fast_head():
    """A new :func:`make_fast_head`."""
    return make_fast_head()


@pytest.fixture
def tiny_teacher():
    """A :class:`~tests.tiny_teacher.TinyTeacher` in eval mode (for ``raw_inputs``)."""
    from tests.tiny_teacher import TinyTeacher

    return TinyTeacher().eval()


# -- the embedded digits task -------------------------------------------------------


@pytest.fixture(scope="session")
def digits_teacher_cache(tmp_path_factory):
    """A library cache holding the embedded digits teacher, trained once.

    Tests that need the trained teacher, not its training, share it: the
    command-line runs and the embedded-task tests. Only digits runs may
    write to it (a test counts the teachers it holds). pytest-xdist workers
    share one cache in their common temporary folder: the first trains the
    teacher under a file lock, the others wait, then read it.
    """
    from filelock import FileLock

    from sklearn_subspace.study import load_embedded_task

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    cache = root / "library-cache"
    with FileLock(f"{cache}.lock"):
        load_embedded_task("digits", cache_dir=cache)
    return cache
