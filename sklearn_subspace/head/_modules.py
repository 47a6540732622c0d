"""The torch modules behind :class:`SubspaceHeadClassifier`.

One module covers the three heads the compression study needs: the paper's
linear head (``hidden_layer_sizes=()``), a small ReLU MLP, and the learned
projection baseline (a bias-free ``d -> k`` map placed in front of either).
Weights are drawn from a local, seeded :class:`torch.Generator`, so building a
head never reads or advances torch's global random state.
"""

import math
import os

import torch
from torch import nn


def _reset_linear_(layer, generator):
    """Re-draw ``layer``'s weights like torch's default, from ``generator``.

    ``nn.Linear`` draws from the global RNG in its constructor; drawing again
    from a local generator keeps a fit reproducible without seeding torch
    globally. The bounds match torch's default (Kaiming uniform with
    ``a=sqrt(5)``, which reduces to ``1 / sqrt(fan_in)``).
    """
    bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
    with torch.no_grad():
        nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
        if layer.bias is not None:
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def _linear(in_features, out_features, bias=True):
    # skip_init allocates without drawing: nn.Linear's constructor would
    # consume the global RNG, which a fit must leave untouched.
    return nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)


def _physical_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this OS
        return None


def check_module_size(n_features, n_classes, hidden_layer_sizes=(), bottleneck=None):
    """Refuse, before allocating, a head whose weights cannot fit in memory.

    Writing the initial weights of a head far larger than the machine's
    memory would not fail cleanly: the process would be killed. This
    counts the parameters first.

    Raises
    ------
    ValueError
        If the float32 parameters (and as much again for their gradients)
        need more than the machine's physical memory; the message gives
        the size.

    Examples
    --------
    >>> from sklearn_subspace.head._modules import check_module_size
    >>> check_module_size(128, 10, (64,))
    >>> check_module_size(128, 10, (10**12,))
    Traceback (most recent call last):
    ...
    ValueError: A head of widths 128 -> 1000000000000 -> 10 has ...
    """
    widths = [n_features]
    if bottleneck is not None:
        widths.append(bottleneck)
    widths += [*hidden_layer_sizes, n_classes]
    n_params = sum(
        (fan_in + (0 if bottleneck is not None and i == 0 else 1)) * fan_out
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]))
    )
    needed = 2 * 4 * n_params  # float32 weights and their gradients
    available = _physical_memory_bytes()
    if available is not None and needed > available:
        raise ValueError(
            f"A head of widths {' -> '.join(map(str, widths))} has {n_params:,} "
            f"parameters and would need {needed / 2**30:,.1f} GiB for its "
            f"weights and gradients, more than this machine's "
            f"{available / 2**30:,.1f} GiB. Use smaller hidden_layer_sizes or "
            "bottleneck."
        )


class SubspaceHead(nn.Module):
    """Linear head, MLP head, or either behind a learned bottleneck.

    Parameters
    ----------
    n_features : int
        Width ``d`` of the input features.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=()
        Widths of the hidden ReLU layers; ``()`` is a linear head.
    bottleneck : int or None, default=None
        When an int ``k``, a learned bias-free linear map ``d -> k`` comes
        first: the "learned projection" baseline.
    seed : int or None, default=0
        Seed of the local generator that draws the initial weights. ``None``
        starts every weight at zero, which the linear head's convex problem
        allows (as ``LogisticRegression`` does): its optimum is then reached
        the same way whatever the seed.

    Attributes
    ----------
    layers : torch.nn.Sequential
        The layers, in order. The bottleneck, when present, is ``layers[0]``.

    See Also
    --------
    SubspaceHeadClassifier : The scikit-learn estimator that trains this module.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.head._modules import SubspaceHead
    >>> head = SubspaceHead(16, 3, hidden_layer_sizes=(8,), bottleneck=4, seed=0)
    >>> head(torch.zeros(5, 16)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self, n_features, n_classes, hidden_layer_sizes=(), bottleneck=None, seed=0
    ):
        super().__init__()
        layers = []
        width = n_features
        if bottleneck is not None:
            layers.append(_linear(width, bottleneck, bias=False))
            width = bottleneck
        for size in hidden_layer_sizes:
            layers.extend([_linear(width, size), nn.ReLU()])
            width = size
        layers.append(_linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

        if seed is None:
            for param in self.parameters():
                nn.init.zeros_(param)
            return
        generator = torch.Generator().manual_seed(int(seed))
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                _reset_linear_(layer, generator)

    def forward(self, X):
        return self.layers(X)
