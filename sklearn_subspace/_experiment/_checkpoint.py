"""Crash-safe partial results of an experiment.

Every finished configuration is appended to a CSV file as one complete line,
flushed and fsynced before the experiment moves on. A run killed at any
moment (even with SIGKILL) leaves at worst one truncated last line; on the
next run that line is dropped, the file is rewritten clean, and only the
missing configurations run. Per-sample arrays of a row (such as its test
predictions) are written first, atomically, to ``.npy`` files in a folder
next to the CSV; a row whose arrays are missing or damaged counts as not
done.

The file name carries a :class:`Fingerprint` of everything that changes a
row's result other than its key: the data, the settings (hashed by value
with :func:`joblib.hash`, never by their ``repr``, which elides long arrays
and nested estimators), the library versions, the resolved device and the
thread count. A rerun on different data, with other settings or on another
software stack therefore starts a new file instead of mixing results.

A file whose header this version does not know is never deleted: it is moved
aside (``<name>.unknown-<time>``) with a warning, and the experiment starts
anew.
"""

import csv
import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np

from .._atomic import atomic_write, fsync_directory


def library_versions():
    """Versions of the libraries that compute a row, for the fingerprint.

    Examples
    --------
    >>> from sklearn_subspace._experiment import library_versions
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


def value_digest(value):
    """Digest of a value by content: arrays in full, estimators by state."""
    try:
        return joblib.hash(value)
    except Exception:  # not picklable (a lambda, a live handle): name its type
        return f"unhashable:{type(value).__module__}.{type(value).__qualname__}"


class Fingerprint:
    """A SHA-256 digest fed with everything a row's result depends on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_subspace._experiment import Fingerprint
    >>> def digest(C):
    ...     return (Fingerprint().add_array(np.zeros(3))
    ...             .add_settings(LogisticRegression(C=C)).hexdigest())
    >>> digest(1.0) == digest(1.0), digest(1.0) == digest(2.0)
    (True, False)
    """

    def __init__(self):
        self._digest = hashlib.sha256()

    def add_text(self, text):
        """Feed a string."""
        self._digest.update(text.encode())
        return self

    def add_value(self, value):
        """Feed any value by content (see :func:`value_digest`)."""
        return self.add_text(value_digest(value))

    def add_array(self, a):
        """Feed an array: dtype, shape and every element."""
        a = np.asarray(a)
        if a.dtype.kind in "biuf":
            self.add_text(f"{a.dtype.str}{a.shape}")
            self._digest.update(np.ascontiguousarray(a).tobytes())
        else:
            # Object / string labels: hash their text, stable across runs.
            self.add_text(f"{a.shape}")
            self.add_text("\x1f".join(map(str, a.ravel().tolist())))
        return self

    def add_settings(self, estimator, *per_configuration):
        """Feed an estimator's type and constructor arguments by value.

        Arguments named in ``per_configuration`` (set for each configuration,
        such as ``random_state``) are left out. One digest per argument, so
        an unpicklable value (a lambda) blurs only itself.
        """
        params = estimator.get_params(deep=False).items()
        settings = sorted((k, v) for k, v in params if k not in per_configuration)
        return self.add_text(repr([(k, value_digest(v)) for k, v in settings]))

    def add_environment(self, *, device=None, n_threads=None):
        """Feed the library versions, the resolved device and the thread count."""
        environment = {
            "versions": library_versions(),
            "device": None if device is None else str(device),
            "n_threads": n_threads,
        }
        return self.add_text(joblib.hash(environment))

    def hexdigest(self):
        """The 64-character hex digest."""
        return self._digest.hexdigest()


def _float_text(value):
    # float repr round-trips exactly, so a resumed table equals a fresh one.
    return repr(value) if isinstance(value, float) else value


@dataclass(frozen=True)
class RowSchema:
    """What a checkpoint's rows hold.

    Parameters
    ----------
    prefix : str
        File name prefix, e.g. ``"study-rows"``.
    columns : tuple of str
        Columns every row has, first in the file.
    parsers : dict
        ``column -> parse(text)`` for every column a file may hold.
    key : callable
        ``key(row) -> config``, the configuration a row belongs to.
    json_columns : tuple of str, default=()
        Columns written as JSON (e.g. per-epoch histories).
    arrays : tuple of str, default=()
        Row entries that are arrays, kept in ``.npy`` files, not the CSV.
    """

    prefix: str
    columns: tuple
    parsers: dict
    key: object
    json_columns: tuple = field(default=())
    arrays: tuple = field(default=())

    def encode(self, name, value):
        """The CSV text of one value."""
        if name in self.json_columns:
            return json.dumps(value)
        return _float_text(value)

    def parse(self, name, text):
        """One value back from its CSV text."""
        if name in self.json_columns:
            return json.loads(text)
        return self.parsers[name](text)


def _format_line(values):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


class RowCheckpoint:
    """Append-only CSV of finished rows, robust to being killed.

    Parameters
    ----------
    directory : str or path-like
        Folder holding the checkpoint files (created when missing).
    fingerprint : str
        Hex digest of the experiment (a :class:`Fingerprint`); it names the
        file.
    schema : RowSchema
        The rows' columns, parsers and key.

    Attributes
    ----------
    path : pathlib.Path
        The CSV file.
    array_dir : pathlib.Path
        The folder of the rows' ``.npy`` files.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_subspace._experiment import RowCheckpoint, RowSchema
    >>> schema = RowSchema("rows", ("name", "score"), {"name": str, "score": float},
    ...                    key=lambda row: row["name"], arrays=("pred",))
    >>> row = {"name": "a", "score": 0.5, "pred": np.array([1, 0])}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     RowCheckpoint(tmp, "abc", schema).append(row)
    ...     (back,) = RowCheckpoint(tmp, "abc", schema).load()
    >>> back["score"], back["pred"].tolist()
    (0.5, [1, 0])
    """

    def __init__(self, directory, fingerprint, schema):
        self.schema = schema
        name = f"{schema.prefix}-{fingerprint[:16]}"
        self.path = Path(directory) / f"{name}.csv"
        self.array_dir = Path(directory) / f"{name}.arrays"

    def key(self, row):
        """The configuration a row belongs to."""
        return self.schema.key(row)

    def _array_path(self, row, name):
        digest = hashlib.sha256(repr(tuple(self.key(row))).encode()).hexdigest()
        return self.array_dir / f"{digest[:24]}-{name}.npy"

    def _parse(self, header, line):
        values = next(csv.reader([line]))
        if len(values) != len(header):
            raise ValueError("wrong number of fields")
        row = {n: self.schema.parse(n, v) for n, v in zip(header, values)}
        for name in self.schema.arrays:
            # Written before the row: a row without its arrays is not done.
            row[name] = np.load(self._array_path(row, name), allow_pickle=False)
        return row

    def load(self):
        """Return the complete rows in the file; drop anything truncated.

        Returns
        -------
        list of dict
            The rows, in the order they were written (the last one of a key
            when it was written twice).
        """
        if not self.path.is_file():
            return []
        text = self.path.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        # The text after the last newline is a line the writer never finished.
        complete, tail = lines[:-1], lines[-1]
        rows, header, dropped = {}, None, bool(tail)
        if complete:
            header = next(csv.reader([complete[0]]))
            known = set(self.schema.parsers) | set(self.schema.json_columns)
            if not set(self.schema.columns) <= set(header) or not set(header) <= known:
                self._move_aside(header)
                return []
        for line in complete[1:] if header else []:
            try:
                row = self._parse(header, line)
            except (ValueError, KeyError, StopIteration, OSError, EOFError):
                dropped = True
                continue
            rows.pop(self.key(row), None)  # a rerun's row replaces an older one
            rows[self.key(row)] = row
        if dropped or len(rows) < len(complete) - 1:
            self._rewrite(list(rows.values()))
        return list(rows.values())

    def _move_aside(self, header):
        # Written by another version of the library (or not a checkpoint):
        # its rows may be worth hours, so keep them where a user can look.
        aside = self.path.with_name(f"{self.path.name}.unknown-{time.time_ns()}")
        os.replace(self.path, aside)
        warnings.warn(
            f"The checkpoint {self.path} has a header this version does not "
            f"know ({', '.join(header)}). It was moved to {aside} and the "
            "run starts anew; rerun with the library version that wrote it "
            "to use its rows.",
            UserWarning,
            stacklevel=4,
        )

    def _lines(self, rows, header=None):
        header = header or self._header(rows[0])
        text = [_format_line(header)]
        for row in rows:
            text.append(
                _format_line([self.schema.encode(name, row[name]) for name in header])
            )
        return "".join(text)

    def _header(self, row):
        columns = self.schema.columns
        extra = [n for n in row if n not in columns and n not in self.schema.arrays]
        return [*columns, *extra]

    def _rewrite(self, rows):
        # Replace the file in one step so that a crash here loses nothing;
        # atomic_write fsyncs the file and its folder before and after the
        # rename, so the clean file is what survives a power loss too.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not rows:
            self.path.unlink(missing_ok=True)
            return
        text = self._lines(rows)
        atomic_write(self.path, lambda h: h.write(text), binary=False, newline="")

    def append(self, row):
        """Append one finished row durably (flushed and fsynced).

        Its arrays are written first, each atomically, so that a row on file
        always has them.

        Parameters
        ----------
        row : dict
            The row, with at least the schema's columns and arrays.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.schema.arrays:
            self.array_dir.mkdir(exist_ok=True)
        for name in self.schema.arrays:
            array = np.asarray(row[name])
            atomic_write(
                self._array_path(row, name),
                lambda h, a=array: np.save(h, a, allow_pickle=False),
            )
        new_file = not self.path.is_file() or self.path.stat().st_size == 0
        header = self._header(row)
        text = self._lines([row], header)
        if not new_file:
            text = text.split("\n", 1)[1]  # the file has its header
        with open(self.path, "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if new_file:
            fsync_directory(self.path.parent)  # the new file's name, too
