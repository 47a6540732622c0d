"""Content-addressed, sharded on-disk store of teacher features.

Layout under ``cache_dir``::

    <namespace>/meta.json             what computed these features, and d
    <namespace>/<ab>/<shard>.npz      keys (m, 16) uint8, features (m, d) float32,
                                      checksum, format version

``namespace`` digests the model identity, weights, layer, pooling, precision
and preprocessing; a sample's key digests its content. A shard is named after
the digest of its keys, so two processes that compute the same batch write
the same file.

Every file is written to a temporary name in its final directory and moved
into place with :func:`os.replace`, which is atomic: a reader sees a whole
shard or none, a killed writer leaves only a temporary file that readers
ignore, and concurrent writers need no lock. Shards also carry a checksum of
their contents, so a damaged file is set aside and recomputed, never used.
"""

import hashlib
import json
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
KEY_BYTES = 16
_TMP_PREFIX = ".tmp-"
# A temporary file this old belongs to a writer that died (a shard is written
# in well under a second); removing it keeps killed runs from leaking disk.
_STALE_TMP_SECONDS = 3600.0

_INDEXES = {}
_INDEXES_LOCK = threading.Lock()


def _checksum(keys, features):
    hasher = hashlib.sha256()
    hasher.update(np.ascontiguousarray(keys).tobytes())
    hasher.update(np.ascontiguousarray(features).tobytes())
    return np.frombuffer(hasher.digest(), dtype=np.uint8)


def _atomic_write(path, write):
    """Write ``path`` through ``write(handle)`` on a temporary file + rename."""
    fd, tmp_name = tempfile.mkstemp(
        prefix=_TMP_PREFIX, suffix=path.suffix, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp_name, path)
        except PermissionError:
            # Windows refuses to replace a file another process has open; the
            # file there has the same content, so ours is not needed.
            if not path.exists():
                raise
            os.unlink(tmp_name)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


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
                if entry.name.startswith(_TMP_PREFIX):
                    _remove_if_stale(entry, now)
                    continue
                if not entry.name.endswith(".npz") or entry.path in self.seen:
                    continue
                keys = _read_keys(entry.path)
                if keys is None:
                    self.seen.add(entry.path)  # unreadable: never used
                else:
                    self.add(entry.path, keys)


def _remove_if_stale(entry, now):
    try:
        if now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
            os.unlink(entry.path)
    except OSError:
        pass  # another process removed it, or finished it


def _read_keys(path):
    try:
        with np.load(path, allow_pickle=False) as shard:
            keys = shard["keys"]
    except Exception:  # any unreadable file is simply not used
        return None
    if keys.ndim != 2 or keys.shape[1] != KEY_BYTES or keys.dtype != np.uint8:
        return None
    return keys


def _read_shard(path):
    """Return ``(keys, features)`` of a valid shard, or None."""
    try:
        with np.load(path, allow_pickle=False) as shard:
            keys = shard["keys"]
            features = shard["features"]
            checksum = shard["checksum"]
            version = int(shard["version"])
    except Exception:  # unreadable means invalid
        return None
    valid = (
        version == FORMAT_VERSION
        and keys.ndim == 2
        and keys.shape[1] == KEY_BYTES
        and features.ndim == 2
        and features.dtype == np.float32
        and features.shape[0] == keys.shape[0]
        and np.array_equal(checksum, _checksum(keys, features))
    )
    return (keys, features) if valid else None


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
    """

    def __init__(self, root, namespace, description):
        self.directory = Path(root).expanduser().resolve() / namespace[:32]
        self.description = description
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
        with self._index.lock:
            by_shard = {}
            for i, key in enumerate(keys):
                hit = self._index.where.get(key.tobytes())
                if hit is not None:
                    by_shard.setdefault(hit[0], []).append((i, hit[1]))
            for shard_path, wanted in by_shard.items():
                content = _read_shard(shard_path)
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
        return features, loaded

    def _set_aside(self, shard_path):
        warnings.warn(
            f"Feature cache shard {shard_path} is damaged; it was moved aside "
            "and its samples are recomputed.",
            RuntimeWarning,
            stacklevel=4,
        )
        self._index.discard(shard_path)
        try:
            os.replace(shard_path, shard_path + ".damaged")
        except OSError:
            pass  # another process already moved or rewrote it

    # -- writes -----------------------------------------------------------
    def store(self, keys, features):
        """Write one shard holding ``features`` (m, d) for ``keys`` (m, 16)."""
        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        features = np.ascontiguousarray(features, dtype=np.float32)
        name = hashlib.sha256(keys.tobytes()).hexdigest()[:40]
        subdir = self.directory / name[:2]
        subdir.mkdir(parents=True, exist_ok=True)
        path = subdir / f"{name}.npz"
        checksum = _checksum(keys, features)

        def write(handle):
            np.savez(
                handle,
                keys=keys,
                features=features,
                checksum=checksum,
                version=np.int64(FORMAT_VERSION),
            )

        _atomic_write(path, write)
        self._write_meta(features.shape[1])
        with self._index.lock:
            self._index.add(str(path), keys)
