"""The embedded teacher: a small CNN with a wide penultimate layer.

The method needs a trained network whose last hidden layer is much wider than
the information it carries. The library trains one itself, so that the study
runs without downloading pretrained weights:

- on scikit-learn's bundled digits (8 x 8), a two-layer CNN followed by a
  2048-unit hidden layer reaches about 98 % test accuracy in a few seconds;
- on any other small image dataset (Fashion-MNIST, MNIST, CIFAR-10, ...), a
  two-block CNN (convolution, ReLU, max-pool, twice) followed by the same
  2048-unit layer; on Fashion-MNIST it reaches about 91-92 % test accuracy in
  five epochs, a few minutes on two CPU cores.

Their 2048-d penultimate features play the role that ResNet-50's pooled
features play in the paper. Training is deterministic for a given
``random_state``, training set and CPU thread count, and the weights are
cached on disk under a key made of the dataset, the recipe and the seed.
"""

import hashlib
import os
from numbers import Integral
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import LRScheduler
from torch import nn

from .._atomic import atomic_write
from .._param_validation import Interval, validate_params
from ..training import EpochProgress, TrainingNet, WeightedCrossEntropy

# Bump when the architecture or the training recipe changes, so that stale
# cached weights are never loaded into a different network.
_RECIPE_VERSION = 1

#: Width of the penultimate layer (the feature dimension ``d``).
EMBEDDED_WIDTH = 2048

#: Name of the submodule whose output is the penultimate feature vector.
EMBEDDED_FEATURE_LAYER = "embed"

#: Training recipes by architecture. ``digits`` is unchanged since its first
#: release (its cached weights stay valid); ``small-image`` is tuned so that
#: Fashion-MNIST reaches >= 91 % test accuracy in five epochs: a one-cycle
#: learning rate lets AdamW take large steps early and settle at the end,
#: which a constant rate needs about three times as many epochs to match.
RECIPES = {
    "digits": {"epochs": 15, "batch_size": 64, "lr": 1e-3, "weight_decay": 1e-4},
    "small-image": {
        "epochs": 5,
        "batch_size": 128,
        "lr": 2e-3,
        "weight_decay": 1e-4,
        "schedule": "onecycle",
        "threads": 2,
    },
}

_TRAINING = RECIPES["digits"]

# Feature maps larger than this are pooled down before the wide layer, so
# that a larger image (CIFAR's 32 x 32, STL-10's 96 x 96) keeps the layer's
# input at 64 x 8 x 8 at most.
_MAX_GRID = 8


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


class SmallImageCNN(nn.Module):
    """Two-block CNN for small images with a wide penultimate layer.

    ``features`` (two blocks of a 3 x 3 convolution, ReLU and 2 x 2
    max-pool, with 32 then 64 channels) maps an image to
    ``64 * (H // 4) * (W // 4)`` numbers (pooled to at most 8 x 8), ``embed``
    (linear + ReLU) maps those to ``width`` features, and ``classifier`` to
    the class logits.

    Parameters
    ----------
    n_classes : int, default=10
        Number of output classes.
    in_channels : int, default=1
        Image channels (1 for grayscale, 3 for colour).
    image_size : tuple of int, default=(28, 28)
        Height and width of the input images, each at least 4.
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
    DigitsCNN : The network trained on 8 x 8 digits.
    load_embedded_task : Trains (or loads) this network on a dataset.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.datasets import SmallImageCNN
    >>> net = SmallImageCNN(in_channels=3, image_size=(32, 32))
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> net.embed(net.features(torch.zeros(2, 3, 32, 32))).shape
    torch.Size([2, 2048])
    """

    def __init__(
        self, n_classes=10, in_channels=1, image_size=(28, 28), width=EMBEDDED_WIDTH
    ):
        super().__init__()
        grid = [min(side // 4, _MAX_GRID) for side in image_size]
        if min(grid) < 1:
            raise ValueError(
                f"SmallImageCNN needs images of at least 4 x 4 pixels, got "
                f"{tuple(image_size)}; upsample the images or use DigitsCNN."
            )
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveMaxPool2d(tuple(grid)),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(nn.Linear(64 * grid[0] * grid[1], width), nn.ReLU())
        self.classifier = nn.Linear(width, n_classes)

    def forward(self, x):
        return self.classifier(self.embed(self.features(x)))


def _architecture(X):
    # Digits keep their original network (and cached weights); every other
    # image shape gets the two-block CNN.
    return "digits" if tuple(X.shape[1:]) == (1, 8, 8) else "small-image"


def _build_network(architecture, n_classes, X):
    if architecture == "digits":
        return DigitsCNN(n_classes=n_classes)
    return SmallImageCNN(
        n_classes=n_classes, in_channels=X.shape[1], image_size=X.shape[2:]
    )


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


def _training_key(X, y, n_classes, random_state, architecture="digits"):
    # The cache key covers everything that changes the trained weights, so a
    # different dataset, training split, recipe or seed never reuses the
    # wrong network.
    digest = hashlib.sha256()
    recipe = sorted(RECIPES[architecture].items())
    # The digits key is unchanged since its first release.
    tag = "" if architecture == "digits" else f"{architecture}|{tuple(X.shape[1:])}|"
    digest.update(f"v{_RECIPE_VERSION}|{recipe}|{tag}".encode())
    digest.update(f"{n_classes}|{EMBEDDED_WIDTH}|{random_state}|".encode())
    digest.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def _fit_cnn(net, X, y, recipe, random_state, verbose):
    """Train ``net`` on ``(X, y)`` with ``recipe``, through the library's engine.

    Plain mini-batch AdamW for a fixed number of epochs, optionally with a
    one-cycle learning rate, no augmentation and no validation split. A
    fixed thread count and a seeded batch order make the weights a pure
    function of the seed on a given CPU.
    """
    batch_size = recipe["batch_size"]
    callbacks = []
    if recipe.get("schedule") == "onecycle":
        callbacks.append(
            LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                step_every="batch",
                max_lr=recipe["lr"],
                epochs=recipe["epochs"],
                steps_per_epoch=-(-len(X) // batch_size),
            )
        )
    if verbose:
        callbacks.append(EpochProgress("training embedded teacher"))
    trainer = TrainingNet(
        module=net,
        criterion=WeightedCrossEntropy,
        optimizer=torch.optim.AdamW,
        lr=recipe["lr"],
        optimizer__weight_decay=recipe["weight_decay"],
        max_epochs=recipe["epochs"],
        batch_size=batch_size,
        iterator_train__shuffle=True,
        iterator_train__seed=random_state,
        train_split=None,
        callbacks=callbacks,
        n_threads=recipe.get("threads", 1),
        device="cpu",
        verbose=0,
    )
    trainer.fit(
        np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)
    )
    return trainer.module_.eval()


def _atomic_torch_save(state, path):
    # A run killed mid-write must never leave a truncated file under the
    # final name: write next to it, then rename in one step.
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: torch.save(state, handle))


def _check_images(X):
    X = np.asarray(X)
    if X.ndim != 4 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            "The embedded teacher trains on float images shaped (n, C, H, W) "
            f"with values in [0, 1]; got an array of shape {X.shape} and dtype "
            f"{X.dtype}. Convert uint8 images with "
            "X.transpose(0, 3, 1, 2).astype(np.float32) / 255."
        )
    return X


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "dataset": [str],
        "cache_dir": [str, os.PathLike, None],
        # An int, not a RandomState: it is part of the cached file's key.
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def train_embedded_teacher(
    X, y, *, dataset="digits", cache_dir=None, random_state=0, verbose=0
):
    """Train the embedded CNN teacher, or load it from the on-disk cache.

    8 x 8 single-channel images get :class:`DigitsCNN` with the ``digits``
    recipe; any other size gets :class:`SmallImageCNN` with the
    ``small-image`` recipe (see :data:`RECIPES`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, C, H, W), dtype float32
        Training images scaled to [0, 1].
    y : array-like of shape (n_samples,)
        Integer class labels in ``0 .. n_classes - 1``.
    dataset : str, default="digits"
        Name of the dataset, used in the cached file's name
        (``<dataset>-cnn2048-<key>.pt``). The key itself covers the training
        images and labels, the recipe and the seed.
    cache_dir : str or path-like, default=None
        Library cache folder; weights go to ``<cache_dir>/teachers/``. ``None``
        uses :func:`default_cache_dir`.
    random_state : int, default=0
        Seed for the initialisation and the mini-batch order; a non-negative
        int, since it is part of the cached file's key.
    verbose : int, default=0
        When positive, show a progress bar while training.

    Returns
    -------
    DigitsCNN or SmallImageCNN
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
    X = _check_images(X)
    y = np.asarray(y)
    n_classes = int(y.max()) + 1
    architecture = _architecture(X)
    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = _training_key(X, y, n_classes, int(random_state), architecture)
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(dataset))
    path = cache_root / "teachers" / f"{slug}-cnn{EMBEDDED_WIDTH}-{key}.pt"

    net = None
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net = _build_network(architecture, n_classes, X)
            net.load_state_dict(state)
        except Exception:
            # An unreadable cache entry (truncated, garbled, other format)
            # is rebuilt, not trusted; torch raises many types for these.
            net = None
    if net is None:
        # fork_rng keeps the caller's global torch RNG untouched while making
        # the initialisation a pure function of random_state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_state))
            net = _build_network(architecture, n_classes, X)
        net = _fit_cnn(net, X, y, RECIPES[architecture], int(random_state), verbose)
        _atomic_torch_save(net.state_dict(), path)

    net.eval()
    net.requires_grad_(False)
    return net
