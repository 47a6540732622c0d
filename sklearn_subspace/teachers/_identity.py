"""Exact fingerprints of models, code, weight files and run settings.

The feature cache is keyed by *what* computed the features, so a fingerprint
must change whenever the output could, and must not depend on the process,
the machine or the device a model sits on. A module's fingerprint covers, for
every submodule:

* the code of its class (bytecode, constants, defaults and the globals it
  reads, recursively through the user's own functions and classes); classes
  of the versioned libraries (torch, torchvision, transformers, timm) are
  named only, since the library versions are part of the cache key;
* its plain attributes (``self.scale = 100``, configs, callables), hashed by
  value, whatever their type;
* its parameters and buffers (persistent or not), bit for bit.

What cannot be identified raises :class:`UnidentifiedError`, and the
extractor then computes without caching rather than guessing: objects with no
stable state (locks, open files, generators), and hooks. torch has no public
API to list a module's hooks, so a module whose torch-managed state differs
from that of a bare ``nn.Module`` holding the same tensors and children (a
forward hook is the usual cause) counts as unidentified.

Not seen, by design: global state a ``forward`` reads at call time through
objects it does not reference by name (environment variables, files, global
hooks registered with ``torch.nn.modules.module.register_module_forward_hook``)
and random numbers drawn inside ``forward``.
"""

import enum
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import threading
import types
from pathlib import Path

import numpy as np
import torch
from torch import nn

# Weight files are hashed once per (path, size, mtime): hashing a 400 MB
# checkpoint on every GridSearchCV refit would cost more than the refit.
_FILE_DIGESTS = {}
_FILE_DIGESTS_LOCK = threading.Lock()
_READ_CHUNK = 1 << 22

# Libraries whose code is identified by their version (in the cache key), so
# their functions and classes are named, not hashed.
VERSIONED_PACKAGES = ("torch", "torchvision", "transformers", "timm")
_NAMED_PACKAGES = frozenset(
    (*VERSIONED_PACKAGES, "builtins", "numpy", "math", "operator", "functools")
)
# Distributions whose version changes what a teacher computes: the model code,
# the tokenizers and the image decoding and resizing.
_KEY_DISTRIBUTIONS = (
    "torch",
    "torchvision",
    "transformers",
    "timm",
    "tokenizers",
    "pillow",
    "numpy",
)
# What torch keeps in the instance dict of every module; the rest is the
# user's. Read from a bare module so no torch-private name is spelled here.
_TORCH_MANAGED = frozenset(vars(nn.Module()))


class UnidentifiedError(ValueError):
    """Part of what determines a model's output cannot be fingerprinted."""


def digest_json(obj):
    """Hex sha256 of a JSON-serialisable object, independent of key order."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _top_package(obj):
    return (getattr(obj, "__module__", None) or "").split(".")[0]


def _is_named(obj):
    """Whether ``obj`` (function or class) is identified by name only."""
    return _top_package(obj) in _NAMED_PACKAGES


class _Hasher:
    """Canonical, process-independent sha256 of Python objects.

    Shared or cyclic objects are written once and then referred to by the
    order in which they were first met, so structure is kept and recursion
    ends.
    """

    def __init__(self):
        self.sha = hashlib.sha256()
        self._seen = {}
        self._alive = []  # keeps ids unique while hashing
        self.path = ["model"]

    def token(self, *parts):
        for part in parts:
            self.sha.update(str(part).encode("utf-8"))
            self.sha.update(b"\x00")

    def hexdigest(self):
        return self.sha.hexdigest()

    def _fail(self, what):
        raise UnidentifiedError(f"{'.'.join(self.path)} is {what}")

    def _first_visit(self, obj):
        key = id(obj)
        if key in self._seen:
            self.token("ref", self._seen[key])
            return False
        self._seen[key] = len(self._seen)
        self._alive.append(obj)
        return True

    def add(self, obj, name=None):
        if name is not None:
            self.path.append(str(name))
        try:
            self._add(obj)
        finally:
            if name is not None:
                self.path.pop()

    def _add(self, obj):
        if obj is None or isinstance(obj, (bool, str, bytes)):
            self.token(type(obj).__name__, repr(obj))
        elif isinstance(obj, enum.Enum):
            self.token("enum")
            self.add(type(obj))
            self.token(obj.name)
        elif isinstance(obj, int):
            self.token("int", int(obj))
        elif isinstance(obj, float):
            self.token("float", float(obj).hex())
        elif isinstance(obj, complex):
            self.token("complex", obj.real.hex(), obj.imag.hex())
        elif isinstance(obj, (torch.dtype, torch.device, torch.layout)):
            self.token(type(obj).__name__, str(obj))
        elif isinstance(obj, types.ModuleType):
            self.token("module", obj.__name__)
        elif isinstance(obj, np.generic):
            self.token("numpy-scalar", obj.dtype.str, obj.tobytes().hex())
        elif self._first_visit(obj):
            self._add_new(obj)

    def _add_new(self, obj):
        if isinstance(obj, torch.Tensor):
            self._add_tensor(obj)
        elif isinstance(obj, nn.Module):
            self._add_module(obj)
        elif isinstance(obj, np.ndarray):
            self._add_array(obj)
        elif isinstance(obj, (tuple, list)):
            self.token(type(obj).__qualname__, len(obj))
            for i, item in enumerate(obj):
                self.add(item, i)
        elif isinstance(obj, dict):
            self.token(type(obj).__qualname__, len(obj))
            for key, value in obj.items():  # insertion order can matter
                self.add(key)
                self.add(value, key)
        elif isinstance(obj, (set, frozenset)):
            digests = sorted(_digest_of(item) for item in obj)
            self.token(type(obj).__qualname__, *digests)
        elif isinstance(obj, type):
            self._add_class(obj)
        elif isinstance(obj, types.FunctionType):
            self._add_function(obj)
        elif isinstance(obj, types.CodeType):
            self._add_code(obj)
        else:
            self._add_other(obj)

    def _add_tensor(self, tensor):
        if tensor.is_meta:
            self._fail("a tensor on the meta device, with no values")
        tensor = tensor.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        self.token("tensor", tensor.dtype, tuple(tensor.shape))
        flat = tensor.to("cpu").contiguous().reshape(-1)
        if flat.numel():
            self.sha.update(flat.view(torch.uint8).numpy().tobytes())

    def _add_array(self, array):
        self.token("ndarray", array.dtype.str, array.shape)
        if array.dtype.hasobject:
            for i, item in enumerate(array.ravel().tolist()):
                self.add(item, i)
        else:
            self.sha.update(np.ascontiguousarray(array).tobytes())

    def _add_module(self, module):
        self.token("nn.Module")
        self.add(type(module))
        self.token("training", module.training)
        _check_torch_managed_state(module, ".".join(self.path))
        state = vars(module)
        for name in state:
            if name not in _TORCH_MANAGED:
                self.add(name)
                self.add(state[name], name)
        for name, tensor in module.named_parameters(
            recurse=False, remove_duplicate=False
        ):
            self.token("parameter", name)
            self.add(tensor, name)
        for name, tensor in module.named_buffers(recurse=False, remove_duplicate=False):
            self.token("buffer", name)
            self.add(tensor, name)
        for name, child in module.named_children():
            self.token("child", name)
            self.add(child, name)

    def _add_class(self, cls):
        self.token("class", cls.__module__, cls.__qualname__)
        if _is_named(cls):
            return
        for base in cls.__mro__[1:]:
            if base is not object:
                self.token("base", base.__module__, base.__qualname__)
                self._add_class_body(base)
        self._add_class_body(cls)

    def _add_class_body(self, cls):
        if _is_named(cls):
            return
        for name, value in vars(cls).items():
            if name in _CLASS_BOOKKEEPING:
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            elif isinstance(value, functools.cached_property):
                value = value.func
            elif isinstance(value, property):
                value = (value.fget, value.fset, value.fdel)
            self.add(name)
            self.add(value, f"{cls.__qualname__}.{name}")

    def _add_function(self, function):
        self.token("function", function.__module__, function.__qualname__)
        if _is_named(function):
            return
        self._add_code(function.__code__)
        self.add(function.__defaults__, "__defaults__")
        self.add(function.__kwdefaults__, "__kwdefaults__")
        for i, cell in enumerate(function.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                value = _EMPTY_CELL
            self.add(value, f"<closure {i}>")
        # The globals the code reads, by value: a redefined helper or a
        # changed module-level constant gives a new fingerprint.
        namespace = function.__globals__
        for name in sorted(_global_names(function.__code__)):
            if name in namespace:
                self.token("global", name)
                self.add(namespace[name], name)

    def _add_code(self, code):
        self.token("code", code.co_name, code.co_argcount, code.co_kwonlyargcount)
        self.token(code.co_flags, code.co_names, code.co_freevars, code.co_cellvars)
        self.sha.update(code.co_code)
        self.add(code.co_consts, "<constants>")

    def _add_other(self, obj):
        if isinstance(obj, functools.partial):
            self.token("partial")
            self.add((obj.func, obj.args, obj.keywords))
            return
        if isinstance(obj, types.MethodType):
            self.token("method")
            self.add((obj.__func__, obj.__self__))
            return
        if isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            owner = getattr(obj, "__self__", None)
            self.token("builtin", getattr(obj, "__module__", None), obj.__qualname__)
            if owner is not None and not isinstance(owner, types.ModuleType):
                self.add(owner, "__self__")
            return
        # Anything else is hashed by the state pickle would save for it.
        try:
            reduced = obj.__reduce_ex__(4)
        except Exception as exc:
            self._fail(
                f"a {type(obj).__qualname__}, whose state cannot be read ({exc})"
            )
        self.token("object")
        self.add(type(obj))
        if isinstance(reduced, str):  # a global, named
            self.token(reduced)
            return
        reduced = list(reduced)
        for i in (3, 4):  # list and dict items come as iterators
            if i < len(reduced) and reduced[i] is not None:
                reduced[i] = list(reduced[i])
        self.add(tuple(reduced), f"<{type(obj).__qualname__} state>")


_EMPTY_CELL = "<empty closure cell>"
# Class-dict entries that say where or how a class was defined, not what it
# computes (line numbers, ABC caches, weak-reference slots, and the slot-name
# cache that pickling itself adds).
_CLASS_BOOKKEEPING = frozenset(
    (
        "__dict__",
        "__weakref__",
        "__module__",
        "__doc__",
        "__firstlineno__",
        "__static_attributes__",
        "_abc_impl",
        "__slotnames__",
    )
)


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _digest_of(obj):
    hasher = _Hasher()
    hasher.add(obj)
    return hasher.hexdigest()


def _same_state(mine, bare):
    if type(mine) is not type(bare):
        return False
    if isinstance(mine, dict):
        return not mine and not bare
    return mine == bare


def _is_registry(value, registries):
    """Whether ``value`` is a registry of the module's own tensors/children."""
    if not isinstance(value, dict):
        return False
    present = {key: item for key, item in value.items() if item is not None}
    return any(
        present.keys() == registry.keys()
        and all(present[key] is registry[key] for key in present)
        for registry in registries
    )


def _check_torch_managed_state(module, where):
    """Refuse modules with hooks (or any torch state we cannot interpret).

    torch offers no public API to list a module's hooks. Its per-module
    bookkeeping sits in the instance dict next to the user's attributes; we
    compare it, without interpreting any name, to that of a bare module in
    the same training mode. Beyond the registries of parameters, buffers and
    children (dicts of tensors and modules, hashed separately) and the set of
    non-persistent buffer names, any difference -- a forward or forward-pre
    hook, a state-dict hook, a compiled call -- makes the module
    unidentified.
    """
    bare = vars(nn.Module().train(module.training))
    state = vars(module)
    registries = [
        dict(module.named_parameters(recurse=False, remove_duplicate=False)),
        dict(module.named_buffers(recurse=False, remove_duplicate=False)),
        dict(module.named_children()),
    ]
    for name in _TORCH_MANAGED:
        mine = state.get(name, _EMPTY_CELL)
        if _same_state(mine, bare[name]) or _is_registry(mine, registries):
            continue
        if isinstance(mine, set) and mine <= registries[1].keys():
            continue
        raise UnidentifiedError(
            f"{where} ({type(module).__qualname__}) carries hooks or other "
            "torch-managed state that cannot be fingerprinted (torch has no "
            "public API to list hooks)"
        )


def module_fingerprint(module):
    """Hex sha256 of everything in a module that determines its output.

    Covers, for every submodule, the class code, the plain attributes, the
    training flag and the parameters and buffers. Two modules get the same
    fingerprint exactly when all of these are equal, in any process and on
    any device.

    Raises
    ------
    UnidentifiedError
        When part of the module cannot be fingerprinted: a hook, or an
        attribute with no readable state. The message names where.
    """
    return _digest_of(module)


def callable_fingerprint(function):
    """Hex sha256 of a callable's code, defaults, closure and read globals.

    A function redefined with the same name but other code, or reading a
    changed module-level value, gets a new fingerprint.

    Raises
    ------
    UnidentifiedError
        When something the callable holds cannot be fingerprinted.
    """
    return _digest_of(function)


def object_description(obj):
    """Readable attributes and exact digest of a preprocessing object.

    ``repr`` is not enough: torchvision's transform ``repr`` leaves out
    ``antialias``, whose default changed between releases.
    """
    if obj is None:
        return None
    state = vars(obj) if hasattr(obj, "__dict__") else {}
    readable = {
        name: value if isinstance(value, (int, float, str, bool)) else repr(value)
        for name, value in state.items()
        if not name.startswith("_")
    }
    return {
        "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
        "attributes": readable,
        "digest": _digest_of(obj),
    }


@functools.cache
def _distribution_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def _own_code_digest():
    """Digest of this package's teacher code: a development tree has one
    version number for many states of the code."""
    hasher = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        hasher.update(path.name.encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()[:16]


def library_versions():
    """Versions of Python and of every installed library a teacher runs on."""
    import sklearn_subspace

    versions = {
        name: version
        for name in _KEY_DISTRIBUTIONS
        if (version := _distribution_version(name)) is not None
    }
    versions["python"] = platform.python_version()
    versions["sklearn_subspace"] = (
        f"{sklearn_subspace.__version__}+{_own_code_digest()}"
    )
    return versions


_FP32_PRECISION_BACKENDS = (
    "cuda.matmul",
    "cudnn",
    "cudnn.conv",
    "cudnn.rnn",
    "mkldnn",
    "mkldnn.matmul",
    "mkldnn.conv",
    "mkldnn.rnn",
)


def numerics_description(device, precision):
    """The device and every torch setting that changes float results."""
    described = {
        "device": device.type,
        "precision": precision,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
    }
    if device.type == "cuda":
        matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
        described.update(
            cuda=torch.version.cuda,
            capability=list(torch.cuda.get_device_capability(device)),
            matmul_allow_tf32=bool(matmul.allow_tf32),
            matmul_fp16_reduced=bool(matmul.allow_fp16_reduced_precision_reduction),
            matmul_bf16_reduced=bool(matmul.allow_bf16_reduced_precision_reduction),
            cudnn_version=cudnn.version(),
            cudnn_allow_tf32=bool(cudnn.allow_tf32),
            cudnn_benchmark=bool(cudnn.benchmark),
            cudnn_deterministic=bool(cudnn.deterministic),
        )
    # torch >= 2.9 also sets TF32 / bf16 use per backend and operation.
    for backend in _FP32_PRECISION_BACKENDS:
        module = torch.backends
        for part in backend.split("."):
            module = getattr(module, part, None)
        value = getattr(module, "fp32_precision", None)
        if isinstance(value, str):
            described[f"{backend}.fp32_precision"] = value
    return described


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
