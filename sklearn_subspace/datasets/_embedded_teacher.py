"""The embedded teacher: a small CNN with a wide penultimate layer for digits.

The method needs a trained network whose last hidden layer is much wider than
the information it carries. scikit-learn's bundled digits images are tiny
(8 x 8), so a two-layer CNN followed by a 2048-unit hidden layer reaches about
98 % test accuracy in a few seconds on a laptop CPU, and its 2048-d
penultimate features play the role that ResNet-50's pooled features play in
the paper.

Training is deterministic for a given ``random_state`` and training set, and
the weights are cached on disk so that later runs reuse them.
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._atomic import atomic_write

# Bump when the architecture or the training recipe changes, so that stale
# cached weights are never loaded into a different network.
_RECIPE_VERSION = 1

#: Width of the penultimate layer (the feature dimension ``d``).
EMBEDDED_WIDTH = 2048

#: Name of the submodule whose output is the penultimate feature vector.
EMBEDDED_FEATURE_LAYER = "embed"

_TRAINING = {"epochs": 15, "batch_size": 64, "lr": 1e-3, "weight_decay": 1e-4}


class DigitsCNN(nn.Module):
    """Small CNN for 1 x 8 x 8 digit images with a wide penultimate layer.

    ``features`` (two 3 x 3 convolutions and a 2 x 2 max-pool) maps an image
    to 512 numbers, ``embed`` (linear + ReLU) widens them to ``width``
    features, and ``classifier`` maps those to the class logits.

    Parameters
    ----------
    n_classes : int, default=10
        Number of output classes.
    width : int, default=2048
        Width of the penultimate layer, the feature dimension ``d``.

    Attributes
    ----------
    features : torch.nn.Sequential
        The convolutional trunk.
    embed : torch.nn.Sequential
        The wide penultimate layer; its output is the feature vector.
    classifier : torch.nn.Linear
        The linear classification layer.

    See Also
    --------
    load_embedded_task : Trains (or loads) this network on digits.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.datasets import DigitsCNN
    >>> net = DigitsCNN()
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    >>> net.embed(net.features(torch.zeros(2, 1, 8, 8))).shape
    torch.Size([2, 2048])
    """

    def __init__(self, n_classes=10, width=EMBEDDED_WIDTH):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(nn.Linear(32 * 4 * 4, width), nn.ReLU())
        self.classifier = nn.Linear(width, n_classes)

    def forward(self, x):
        return self.classifier(self.embed(self.features(x)))


def default_cache_dir():
    """Return the library's cache folder.

    ``$SKLEARN_SUBSPACE_CACHE`` when set, else ``$XDG_CACHE_HOME/sklearn-subspace``,
    else ``~/.cache/sklearn-subspace``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> from pathlib import Path
    >>> from sklearn_subspace.datasets import default_cache_dir
    >>> isinstance(default_cache_dir(), Path)
    True
    """
    env = os.environ.get("SKLEARN_SUBSPACE_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "sklearn-subspace"


def _training_key(X, y, n_classes, random_state):
    # The cache key covers everything that changes the trained weights, so a
    # different training split or seed never reuses the wrong network.
    digest = hashlib.sha256()
    digest.update(f"v{_RECIPE_VERSION}|{sorted(_TRAINING.items())}|".encode())
    digest.update(f"{n_classes}|{EMBEDDED_WIDTH}|{random_state}|".encode())
    digest.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def _fit_cnn(X, y, n_classes, random_state, verbose):
    # One thread: the network is too small to gain from more, and a fixed
    # thread count makes the trained weights the same on every machine.
    # Imported here: the study package imports this one at load time.
    from ..study._threads import fixed_threads

    with fixed_threads(1):
        return _fit_cnn_single_thread(X, y, n_classes, random_state, verbose)


def _fit_cnn_single_thread(X, y, n_classes, random_state, verbose):
    # fork_rng keeps the caller's global torch RNG untouched while making the
    # initialisation a pure function of random_state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        net = DigitsCNN(n_classes=n_classes)
    generator = torch.Generator().manual_seed(random_state)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=_TRAINING["lr"], weight_decay=_TRAINING["weight_decay"]
    )
    X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    batch_size = _TRAINING["batch_size"]

    epochs = range(_TRAINING["epochs"])
    if verbose:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="training embedded teacher", unit="epoch")
    net.train()
    for _ in epochs:
        order = torch.randperm(len(X_t), generator=generator)
        for start in range(0, len(X_t), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(net(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()
    return net.eval()


def _atomic_torch_save(state, path):
    # A run killed mid-write must never leave a truncated file under the
    # final name: write next to it, then rename in one step.
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: torch.save(state, handle))


def train_embedded_teacher(X, y, *, cache_dir=None, random_state=0, verbose=0):
    """Train the digits CNN teacher, or load it from the on-disk cache.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 1, 8, 8), dtype float32
        Training images scaled to [0, 1].
    y : array-like of shape (n_samples,)
        Integer class labels in ``0 .. n_classes - 1``.
    cache_dir : str or path-like, default=None
        Library cache folder; weights go to ``<cache_dir>/teachers/``. ``None``
        uses :func:`default_cache_dir`.
    random_state : int, default=0
        Seed for the initialisation and the mini-batch order.
    verbose : int, default=0
        When positive, show a progress bar while training.

    Returns
    -------
    DigitsCNN
        The trained network in eval mode, with gradients disabled.

    See Also
    --------
    load_embedded_task : Builds the whole embedded task around this teacher.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_subspace.datasets import train_embedded_teacher
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((32, 1, 8, 8), dtype=np.float32)
    >>> y = np.arange(32) % 10
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     net = train_embedded_teacher(X, y, cache_dir=tmp)
    >>> net.classifier.out_features
    10
    """
    if not isinstance(random_state, (int, np.integer)):
        raise TypeError(
            "The embedded teacher needs an integer random_state so that its "
            f"cached weights can be reused; got {random_state!r}."
        )
    y = np.asarray(y)
    n_classes = int(y.max()) + 1
    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = _training_key(X, y, n_classes, int(random_state))
    path = cache_root / "teachers" / f"digits-cnn{EMBEDDED_WIDTH}-{key}.pt"

    net = None
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net = DigitsCNN(n_classes=n_classes)
            net.load_state_dict(state)
        except Exception:
            # An unreadable cache entry (truncated, garbled, other format)
            # is rebuilt, not trusted; torch raises many types for these.
            net = None
    if net is None:
        net = _fit_cnn(X, y, n_classes, int(random_state), verbose)
        _atomic_torch_save(net.state_dict(), path)

    net.eval()
    net.requires_grad_(False)
    return net
