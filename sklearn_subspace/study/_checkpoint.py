"""Crash-safe partial results for the compression study.

Every finished configuration is appended to a CSV file as one complete line,
flushed and fsynced before the study moves on. A study killed at any moment
(even with SIGKILL) leaves at worst one truncated last line; on the next run
that line is dropped, the file is rewritten clean, and only the missing
configurations run.

The file name carries a fingerprint of everything that changes a row's
result other than its (method, k, seed) key: the features, the labels, the
head's settings (hashed by value with :func:`joblib.hash`, never by their
``repr``, which elides long arrays and nested estimators), the parameter
grid, the teacher name, the library versions, the resolved device and the
thread count. A rerun on different data, with a different head or on another
software stack therefore starts a new file instead of mixing results.

A file whose header this version does not know is never deleted: it is moved
aside (``<name>.unknown-<time>``) with a warning, and the study starts anew.
"""

import csv
import hashlib
import io
import os
import time
import warnings
from pathlib import Path

import joblib
import numpy as np

from .._atomic import atomic_write, fsync_directory

_COLUMNS = (
    "teacher",
    "method",
    "n_components",
    "seed",
    "n_features",
    "test_accuracy",
    "fit_time",
    "n_epochs",
)
_PARSERS = {
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
}


def _hash_array(digest, a):
    a = np.asarray(a)
    if a.dtype.kind in "biuf":
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    else:
        # Object / string labels: hash their text, which is stable across runs.
        digest.update(f"{a.shape}".encode())
        digest.update("\x1f".join(map(str, a.ravel().tolist())).encode())


def _settings(estimator, *per_configuration):
    params = estimator.get_params(deep=False).items()
    return sorted((k, v) for k, v in params if k not in per_configuration)


def _value_digest(value):
    """Digest of a value by content: arrays in full, estimators by state."""
    try:
        return joblib.hash(value)
    except Exception:  # not picklable (a lambda, a live handle): name its type
        return f"unhashable:{type(value).__module__}.{type(value).__qualname__}"


def _settings_digest(estimator, *per_configuration):
    # One digest per parameter, so that an unpicklable value (a lambda) only
    # blurs itself, not the others.
    return [
        (name, _value_digest(value))
        for name, value in _settings(estimator, *per_configuration)
    ]


def library_versions():
    """Versions of the libraries that compute a row, for the fingerprint.

    Examples
    --------
    >>> from sklearn_subspace.study._checkpoint import library_versions
    >>> sorted(library_versions())
    ['joblib', 'numpy', 'scikit-learn', 'scipy', 'sklearn-subspace', 'skorch', 'torch']
    """
    import scipy
    import sklearn
    import skorch
    import torch

    from .. import __version__

    return {
        "sklearn-subspace": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "joblib": joblib.__version__,
    }


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
    digest = hashlib.sha256()
    head_type = type(head)
    digest.update(
        f"{teacher}|{head_type.__module__}.{head_type.__qualname__}|".encode()
    )
    # random_state is set per configuration, so it must not split the file.
    digest.update(repr(_settings_digest(head, "random_state")).encode())
    if learned_head is not None:
        # So is the learned head's bottleneck (k).
        digest.update(f"|learned|{type(learned_head).__qualname__}|".encode())
        settings = _settings_digest(learned_head, "random_state", "bottleneck")
        digest.update(repr(settings).encode())
    digest.update(_value_digest(param_grid).encode())
    digest.update(_value_digest(cv if param_grid else None).encode())
    environment = {
        "versions": library_versions(),
        "device": None if device is None else str(device),
        "n_threads": n_threads,
    }
    digest.update(joblib.hash(environment).encode())
    for a in (F_train, y_train, F_test, y_test):
        _hash_array(digest, a)
    return digest.hexdigest()


def _format_line(values):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


class RowCheckpoint:
    """Append-only CSV of finished study rows, robust to being killed.

    Parameters
    ----------
    directory : str or path-like
        Folder holding the checkpoint files (created when missing).
    fingerprint : str
        Study fingerprint from :func:`study_fingerprint`; it names the file.

    Attributes
    ----------
    path : pathlib.Path
        The CSV file.

    See Also
    --------
    compression_study : Uses this with ``checkpoint_dir=``.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_subspace.study._checkpoint import RowCheckpoint
    >>> row = dict(teacher="t", method="gaussian", n_components=8, seed=0,
    ...            n_features=64, test_accuracy=0.5, fit_time=0.1, n_epochs=3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     RowCheckpoint(tmp, "abc").append(row)
    ...     rows = RowCheckpoint(tmp, "abc").load()
    >>> rows == [row]
    True
    """

    def __init__(self, directory, fingerprint):
        self.path = Path(directory) / f"study-rows-{fingerprint[:16]}.csv"

    @staticmethod
    def key(row):
        """The (teacher, method, n_components, seed) key of a row."""
        return (
            row["teacher"],
            row["method"],
            int(row["n_components"]),
            int(row["seed"]),
        )

    def _parse(self, header, line):
        values = next(csv.reader([line]))
        if len(values) != len(header):
            raise ValueError("wrong number of fields")
        return {name: _PARSERS[name](value) for name, value in zip(header, values)}

    def load(self):
        """Return the complete rows in the file; drop anything truncated.

        Returns
        -------
        list of dict
            The rows, in the order they were written.
        """
        if not self.path.is_file():
            return []
        text = self.path.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        # The text after the last newline is a line the writer never finished.
        complete, tail = lines[:-1], lines[-1]
        rows, header, dropped = [], None, bool(tail)
        if complete:
            header = next(csv.reader([complete[0]]))
            if not set(_COLUMNS) <= set(header) or not set(header) <= set(_PARSERS):
                self._move_aside(header)
                return []
        for line in complete[1:] if header else []:
            try:
                rows.append(self._parse(header, line))
            except (ValueError, KeyError, StopIteration):
                dropped = True
        if dropped:
            self._rewrite(rows)
        return rows

    def _move_aside(self, header):
        # Written by another version of the library (or not a checkpoint):
        # its rows may be worth hours, so keep them where a user can look.
        aside = self.path.with_name(f"{self.path.name}.unknown-{time.time_ns()}")
        os.replace(self.path, aside)
        warnings.warn(
            f"The study checkpoint {self.path} has a header this version does "
            f"not know ({', '.join(header)}). It was moved to {aside} and the "
            "study starts anew; rerun with the library version that wrote it "
            "to use its rows.",
            UserWarning,
            stacklevel=3,
        )

    def _rewrite(self, rows):
        # Replace the file in one step so that a crash here loses nothing;
        # atomic_write fsyncs the file and its folder before and after the
        # rename, so the clean file is what survives a power loss too.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not rows:
            self.path.unlink(missing_ok=True)
            return

        def write(handle):
            header = list(rows[0])
            handle.write(_format_line(header))
            for row in rows:
                handle.write(_format_line([row[name] for name in header]))

        atomic_write(self.path, write, binary=False, newline="")

    def append(self, row):
        """Append one finished row durably (flushed and fsynced).

        Parameters
        ----------
        row : dict
            The row, with at least the checkpoint columns.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = [*_COLUMNS, *(name for name in row if name not in _COLUMNS)]
        new_file = not self.path.is_file() or self.path.stat().st_size == 0
        # float repr round-trips exactly, so a resumed table equals a fresh one.
        text = _format_line(
            [
                repr(v) if isinstance(v, float) else v
                for v in (row[name] for name in header)
            ]
        )
        if new_file:
            text = _format_line(header) + text
        with open(self.path, "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if new_file:
            fsync_directory(self.path.parent)  # the new file's name, too
