"""Stable fingerprints of models, weight files and settings.

The feature cache is keyed by *what* computed the features, so these digests
must not depend on the process, the machine or the device a model sits on:
they are built from class names, architecture and weight bytes only.
"""

import hashlib
import json
import os
import threading
from pathlib import Path

import torch

# Weight files are hashed once per (path, size, mtime): hashing a 400 MB
# checkpoint on every GridSearchCV refit would cost more than the refit.
_FILE_DIGESTS = {}
_FILE_DIGESTS_LOCK = threading.Lock()
_READ_CHUNK = 1 << 22


def digest_json(obj):
    """Hex sha256 of a JSON-serialisable object, independent of key order."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _update_with_tensor(hasher, name, tensor):
    tensor = tensor.detach()
    hasher.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
    flat = tensor.to("cpu").contiguous().reshape(-1)
    if flat.numel():
        hasher.update(flat.view(torch.uint8).numpy().tobytes())


def module_fingerprint(module):
    """Hex sha256 of a module's class, architecture and ``state_dict``.

    Two modules get the same fingerprint exactly when they have the same class
    qualname, the same printed architecture and bit-identical parameters and
    buffers, in any process and on any device.
    """
    hasher = hashlib.sha256()
    cls = type(module)
    hasher.update(f"{cls.__module__}.{cls.__qualname__}\n".encode())
    hasher.update(repr(module).encode("utf-8"))
    for name, tensor in sorted(module.state_dict().items()):
        _update_with_tensor(hasher, name, tensor)
    return hasher.hexdigest()


def _file_digest(path):
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _FILE_DIGESTS_LOCK:
        if memo_key in _FILE_DIGESTS:
            return _FILE_DIGESTS[memo_key]
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            hasher.update(chunk)
    digest = hasher.hexdigest()
    with _FILE_DIGESTS_LOCK:
        _FILE_DIGESTS[memo_key] = digest
    return digest


def path_fingerprint(path):
    """Hex sha256 of a file's bytes, or of every file under a directory.

    Directory digests cover relative file names and contents, so a copy of a
    model directory elsewhere (another machine, another cache) hashes the same.
    """
    path = Path(path).resolve()
    if path.is_file():
        return _file_digest(path)
    hasher = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            file_path = Path(root) / name
            hasher.update(str(file_path.relative_to(path)).encode("utf-8"))
            hasher.update(_file_digest(file_path).encode())
    return hasher.hexdigest()
