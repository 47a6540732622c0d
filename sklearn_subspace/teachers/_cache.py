"""Content-addressed, sharded on-disk store of teacher features.

Layout under ``cache_dir``::

    <namespace>/meta.json             what computed these features, and d
    <namespace>/<ab>/<shard>.npz      keys (m, 16) uint8, features (m, d),
                                      checksum, format version

Features are stored in one of :data:`STORAGES` (see
:class:`~sklearn_subspace.teachers.TorchFeatureExtractor`'s ``cache_storage``):

- ``"float32"``: the features as computed, uncompressed (fastest to read);
- ``"compressed"``: the same float32 values in a zlib-compressed ``.npz``
  (lossless; post-ReLU features are mostly zeros and shrink several times);
- ``"float16"``: rounded to float16, then compressed. Lossy, so it has its
  own namespace, and the extractor rounds freshly computed features the same
  way: what the cache returns is always what the computation returns.

A reader accepts all three, so ``"float32"`` and ``"compressed"`` shards of
the same features share one namespace.

``namespace`` digests the model identity, weights, layer, pooling, precision
and preprocessing; a sample's key digests its content. A shard is named after
the digest of its keys, so two processes that compute the same batch write
the same file.

Every file is written to a temporary name in its final directory and moved
into place with :func:`os.replace`, which is atomic (see
:mod:`sklearn_subspace._atomic`): a reader sees a whole shard or none, a
killed writer leaves only a temporary file that readers ignore, and
concurrent writers need no lock. Files get the mode ``open()`` would give
them (``0o666 & ~umask``), so a cache can be shared between users.

Trouble never costs the features, only their caching:

- **Writes.** When the cache cannot be written (read-only folder, full disk,
  quota), the features are still computed and returned; one warning says so
  and nothing more is written by that extraction. No partial file is left.
- **Reads.** Shards carry a checksum of their contents. Only a shard whose
  content is wrong (bad checksum, not a valid shard file) is *damaged*: it is
  renamed to ``<shard>.npz.damaged`` and its samples are recomputed. A
  transient read error (``EIO``, too many open files, out of memory) only
  recomputes the samples; the shard stays, for the next run to use.
- **Clean-up rule.** Whenever a run scans a cache folder it removes the
  temporary files (names starting with a dot) older than one hour, which belong to writers
  that died, and the ``.damaged`` files older than seven days, which were
  kept that long for inspection.
"""

import hashlib
import json
import os
import threading
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .._atomic import TMP_PREFIX, atomic_write

FORMAT_VERSION = 1
KEY_BYTES = 16
#: How shards store the features; see the module docstring.
STORAGES = ("float32", "compressed", "float16")
# The dtype each storage keeps the features in.
_STORED_DTYPE = {"float32": np.float32, "compressed": np.float32, "float16": np.float16}
#: zlib level of the compressed storages. numpy's savez_compressed fixes
#: level 6; on Fashion-MNIST's CNN features level 1 writes twice as fast for
#: 9 % more disk (benchmarks/bench_cache.py).
COMPRESSION_LEVEL = 1
_DAMAGED_SUFFIX = ".damaged"
# A temporary file this old belongs to a writer that died (a shard is written
# in well under a second); removing it keeps killed runs from leaking disk.
_STALE_TMP_SECONDS = 3600.0
# A damaged shard is kept a week for inspection, then removed.
_STALE_DAMAGED_SECONDS = 7 * 24 * 3600.0
# Errors that say nothing about a file's content: the same read may succeed
# later, so the file must not be set aside.
_TRANSIENT_ERRORS = (OSError, MemoryError)

_INDEXES = {}
_INDEXES_LOCK = threading.Lock()


def _checksum(keys, features):
    hasher = hashlib.sha256()
    hasher.update(np.ascontiguousarray(keys).tobytes())
    hasher.update(np.ascontiguousarray(features).tobytes())
    return np.frombuffer(hasher.digest(), dtype=np.uint8)


def _savez_deflated(handle, **arrays):
    """``np.savez_compressed`` at zlib level :data:`COMPRESSION_LEVEL`.

    The same ``.npz`` format, which ``np.load`` reads: one ``.npy`` member per
    array in a deflated zip archive.
    """
    with zipfile.ZipFile(
        handle,
        "w",
        compression=zipfile.ZIP_DEFLATED,
        compresslevel=COMPRESSION_LEVEL,
        allowZip64=True,
    ) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value))


def _atomic_write(path, write):
    """Write ``path`` through ``write(handle)`` on a temporary file + rename."""
    # Shard names are digests of their content: a shard another process
    # holds open already has these bytes.
    atomic_write(path, write, content_addressed=True)


class _ShardIndex:
    """In-process map from sample key to the shard that holds it."""

    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()
        self.seen = set()  # shard paths already read, usable or not
        self.where = {}  # key bytes -> (shard path, row)

    def add(self, shard_path, keys):
        self.seen.add(shard_path)
        for row, key in enumerate(keys):
            self.where[key.tobytes()] = (shard_path, row)

    def discard(self, shard_path):
        # Forget the path: if another process rewrites it, it is read afresh.
        self.seen.discard(shard_path)
        for key in [k for k, (p, _) in self.where.items() if p == shard_path]:
            del self.where[key]

    def refresh(self):
        """Index shards written since the last look (by any process)."""
        if not self.directory.is_dir():
            return
        now = time.time()
        for sub in os.scandir(self.directory):
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub.path):
                name = entry.name
                if name.startswith(TMP_PREFIX):  # shards never start with "."
                    _remove_if_older(entry, now, _STALE_TMP_SECONDS)
                    continue
                if name.endswith(_DAMAGED_SUFFIX):
                    _remove_if_older(entry, now, _STALE_DAMAGED_SECONDS)
                    continue
                if not name.endswith(".npz") or entry.path in self.seen:
                    continue
                try:
                    keys = _read_keys(entry.path)
                except _TRANSIENT_ERRORS:
                    continue  # not marked as seen: the next look retries it
                if keys is None:
                    self.seen.add(entry.path)  # not a valid shard: never used
                else:
                    self.add(entry.path, keys)


def _remove_if_older(entry, now, age):
    try:
        if now - entry.stat().st_mtime > age:
            os.unlink(entry.path)
    except OSError:
        pass  # another process removed it, or finished it, or read-only


def _read_keys(path):
    """The keys of a shard, or None if its content is not a valid shard.

    Raises the transient errors (``OSError``, ``MemoryError``), which say
    nothing about the file.
    """
    try:
        with np.load(path, allow_pickle=False) as shard:
            keys = shard["keys"]
    except _TRANSIENT_ERRORS:
        raise
    except Exception:  # bad zip, missing array, pickled data: not a shard
        return None
    if keys.ndim != 2 or keys.shape[1] != KEY_BYTES or keys.dtype != np.uint8:
        return None
    return keys


def _read_shard(path):
    """Return ``(keys, features)`` of a valid shard, or None if damaged.

    Raises the transient errors (``OSError``, ``MemoryError``): a shard that
    cannot be read right now is not damaged.
    """
    try:
        with np.load(path, allow_pickle=False) as shard:
            keys = shard["keys"]
            features = shard["features"]
            checksum = shard["checksum"]
            version = int(shard["version"])
    except _TRANSIENT_ERRORS:
        raise
    except Exception:  # bad zip, missing array, pickled data: not a shard
        return None
    valid = (
        version == FORMAT_VERSION
        and keys.ndim == 2
        and keys.shape[1] == KEY_BYTES
        and features.ndim == 2
        and features.dtype in (np.float32, np.float16)
        and features.shape[0] == keys.shape[0]
        and np.array_equal(checksum, _checksum(keys, features))
    )
    return (keys, features.astype(np.float32, copy=False)) if valid else None


class FeatureCache:
    """The features of one extraction setting, stored under ``root``.

    Parameters
    ----------
    root : path-like
        The user's ``cache_dir``.
    namespace : str
        Hex digest of everything that determines the features except the
        sample itself.
    description : dict
        Human-readable record of that setting, written to ``meta.json``.
    storage : {"float32", "compressed", "float16"}, default="float32"
        How new shards store the features (any stored kind is read).
    """

    def __init__(self, root, namespace, description, storage="float32"):
        self.directory = Path(root).expanduser().resolve() / namespace[:32]
        self.description = description
        self.storage = storage
        self.write_error = None  # the OSError that turned writing off, if any
        with _INDEXES_LOCK:
            key = str(self.directory)
            if key not in _INDEXES:
                _INDEXES[key] = _ShardIndex(self.directory)
            self._index = _INDEXES[key]

    # -- metadata ---------------------------------------------------------
    def read_n_features(self):
        """Feature width recorded by an earlier run, or None."""
        try:
            meta = json.loads((self.directory / "meta.json").read_text())
            return int(meta["n_features"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_meta(self, n_features):
        path = self.directory / "meta.json"
        if path.exists():
            return
        meta = dict(self.description, n_features=int(n_features))
        meta["format_version"] = FORMAT_VERSION
        text = json.dumps(meta, indent=2, sort_keys=True, default=str)
        _atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))

    # -- reads ------------------------------------------------------------
    def lookup(self, keys):
        """Boolean mask: which of ``keys`` (m, 16) have stored features."""
        with self._index.lock:
            self._index.refresh()
            where = self._index.where
            return np.fromiter(
                (key.tobytes() in where for key in keys), dtype=bool, count=len(keys)
            )

    def load(self, keys):
        """Features of ``keys`` found by :meth:`lookup`.

        Returns
        -------
        features : ndarray of shape (m, d), float32, or None when m == 0
        loaded : ndarray of bool, shape (m,)
            False for keys whose shard turned out damaged; those shards are
            set aside and the caller recomputes the samples.
        """
        loaded = np.zeros(len(keys), dtype=bool)
        features = None
        unreadable = []
        with self._index.lock:
            by_shard = {}
            for i, key in enumerate(keys):
                hit = self._index.where.get(key.tobytes())
                if hit is not None:
                    by_shard.setdefault(hit[0], []).append((i, hit[1]))
            for shard_path, wanted in by_shard.items():
                try:
                    content = _read_shard(shard_path)
                except FileNotFoundError:
                    self._index.discard(shard_path)  # set aside by another run
                    continue
                except _TRANSIENT_ERRORS as exc:
                    unreadable.append((shard_path, exc))
                    continue
                rows = np.array([row for _, row in wanted])
                positions = np.array([i for i, _ in wanted])
                if content is None or not np.array_equal(
                    content[0][rows], keys[positions]
                ):
                    self._set_aside(shard_path)
                    continue
                if features is None:
                    features = np.empty((len(keys), content[1].shape[1]), np.float32)
                features[positions] = content[1][rows]
                loaded[positions] = True
        if unreadable:
            path, exc = unreadable[0]
            warnings.warn(
                f"Could not read {len(unreadable)} feature cache shard(s) "
                f"(first: {path}: {exc!r}); their samples are recomputed. The "
                "shards are kept: a read error says nothing about their content.",
                RuntimeWarning,
                stacklevel=3,
            )
        return features, loaded

    def _set_aside(self, shard_path):
        warnings.warn(
            f"Feature cache shard {shard_path} is damaged (its content fails "
            "the checksum); it was moved aside and its samples are recomputed.",
            RuntimeWarning,
            stacklevel=4,
        )
        self._index.discard(shard_path)
        damaged = shard_path + _DAMAGED_SUFFIX
        try:
            os.replace(shard_path, damaged)
            os.utime(damaged)  # the week it is kept starts now
        except OSError:
            pass  # another process already moved or rewrote it, or read-only

    # -- writes -----------------------------------------------------------
    def store(self, keys, features):
        """Write one shard holding ``features`` (m, d) for ``keys`` (m, 16).

        Returns
        -------
        stored : bool
            False when the cache cannot be written (read-only, full disk):
            the first failure warns once and turns writing off for this
            cache object, so an extraction warns once, whatever its length.
        """
        if self.write_error is not None:
            return False
        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        features = np.ascontiguousarray(features, dtype=_STORED_DTYPE[self.storage])
        name = hashlib.sha256(keys.tobytes()).hexdigest()[:40]
        subdir = self.directory / name[:2]
        path = subdir / f"{name}.npz"
        checksum = _checksum(keys, features)

        save = np.savez if self.storage == "float32" else _savez_deflated

        def write(handle):
            save(
                handle,
                keys=keys,
                features=features,
                checksum=checksum,
                version=np.int64(FORMAT_VERSION),
            )

        try:
            subdir.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, write)
            self._write_meta(features.shape[1])
        except OSError as exc:
            self.write_error = exc
            warnings.warn(
                f"The feature cache in {self.directory} cannot be written "
                f"({exc}); features are computed and returned as usual but "
                "not cached. Free disk space, fix the folder's permissions, "
                "or pass another cache_dir.",
                RuntimeWarning,
                stacklevel=3,
            )
            return False
        with self._index.lock:
            self._index.add(str(path), keys)
        return True
