"""The compression study's checkpoint: its row columns and its fingerprint.

The file format, the crash safety and the resume rule are those of every
experiment (:mod:`sklearn_subspace._experiment._checkpoint`). Here are what
a study row holds and what its result depends on besides its
``(teacher, method, k, seed)`` key: the features, the labels, the head's
settings, the parameter grid, the teacher name, the library versions, the
resolved device and the thread count.
"""

from .._experiment import Fingerprint, RowCheckpoint, RowSchema


def _key(row):
    return (
        row["teacher"],
        row["method"],
        int(row["n_components"]),
        int(row["seed"]),
    )


#: The columns and parsers of a study checkpoint.
STUDY_ROWS = RowSchema(
    prefix="study-rows",
    columns=(
        "teacher",
        "method",
        "n_components",
        "seed",
        "n_features",
        "test_accuracy",
        "fit_time",
        "n_epochs",
    ),
    parsers={
        "teacher": str,
        "method": str,
        "n_components": int,
        "seed": int,
        "n_features": int,
        "test_accuracy": float,
        "fit_time": float,
        "n_epochs": int,
        "n_classes": int,
        "converged": lambda text: text == "True",
        "head_params": str,
    },
    key=_key,
)


class StudyCheckpoint(RowCheckpoint):
    """The append-only CSV of a study's finished rows.

    Parameters
    ----------
    directory : str or path-like
        Folder holding the checkpoint files (created when missing).
    fingerprint : str
        Study fingerprint from :func:`study_fingerprint`; it names the file.

    See Also
    --------
    compression_study : Uses this with ``checkpoint_dir=``.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_subspace.study._checkpoint import StudyCheckpoint
    >>> row = dict(teacher="t", method="gaussian", n_components=8, seed=0,
    ...            n_features=64, test_accuracy=0.5, fit_time=0.1, n_epochs=3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     StudyCheckpoint(tmp, "abc").append(row)
    ...     rows = StudyCheckpoint(tmp, "abc").load()
    >>> rows == [row]
    True
    """

    def __init__(self, directory, fingerprint):
        super().__init__(directory, fingerprint, STUDY_ROWS)


def study_fingerprint(
    teacher,
    F_train,
    y_train,
    F_test,
    y_test,
    head,
    param_grid,
    cv,
    learned_head=None,
    *,
    device=None,
    n_threads=None,
):
    """Hex digest of everything a row's result depends on besides its key.

    Parameters
    ----------
    teacher : str
        Teacher name as it appears in the table.
    F_train, F_test : ndarray
        Training and test features.
    y_train, y_test : ndarray
        Labels.
    head : estimator
        The head; its constructor arguments are hashed.
    param_grid : dict or None
        Head hyper-parameter grid.
    cv : object
        Cross-validation setting for ``param_grid``.
    learned_head : estimator, default=None
        A separate head for the learned baseline, hashed like ``head``.
    device : str, default=None
        The device the heads really train on (``"auto"`` resolved).
    n_threads : int or None, default=None
        CPU threads per configuration.

    Returns
    -------
    str
        A 64-character hex digest.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_subspace.study._checkpoint import study_fingerprint
    >>> F, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    >>> a = study_fingerprint("t", F, y, F, y, LogisticRegression(), None, None)
    >>> b = study_fingerprint("t", F, y, F, y, LogisticRegression(C=2), None, None)
    >>> a == b
    False
    """
    head_type = type(head)
    fingerprint = Fingerprint().add_text(
        f"{teacher}|{head_type.__module__}.{head_type.__qualname__}|"
    )
    # random_state is set per configuration, so it must not split the file.
    fingerprint.add_settings(head, "random_state")
    if learned_head is not None:
        # So is the learned head's bottleneck (k).
        fingerprint.add_text(f"|learned|{type(learned_head).__qualname__}|")
        fingerprint.add_settings(learned_head, "random_state", "bottleneck")
    fingerprint.add_value(param_grid)
    fingerprint.add_value(cv if param_grid else None)
    fingerprint.add_environment(device=device, n_threads=n_threads)
    for a in (F_train, y_train, F_test, y_test):
        fingerprint.add_array(a)
    return fingerprint.hexdigest()
