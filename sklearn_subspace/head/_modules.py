"""The torch modules behind :class:`SubspaceHeadClassifier`.

One module covers the three heads the compression study needs: the paper's
linear head (``hidden_layer_sizes=()``), a small ReLU MLP, and the learned
projection baseline (a bias-free ``d -> k`` map placed in front of either).
Weights are drawn from a local, seeded :class:`torch.Generator`, so building a
head never reads or advances torch's global random state.
"""

import math

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
    seed : int, default=0
        Seed of the local generator that draws the initial weights.

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

        generator = torch.Generator().manual_seed(int(seed))
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                _reset_linear_(layer, generator)

    def forward(self, X):
        return self.layers(X)
