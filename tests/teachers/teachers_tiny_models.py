"""Tiny deterministic teachers for the tests, and a worker for subprocess tests.

Run as a script, it extracts features of a saved array into a feature cache,
optionally sleeping in every forward pass so that a test can kill it midway::

    python teachers_tiny_models.py CACHE_DIR DATA.npy BATCH_SIZE SLEEP_SECONDS
"""

import sys
import time

import numpy as np
import torch
from torch import nn


class RowwiseMLP(nn.Module):
    """Maps (n, f) float vectors of any width f to (n, 8) features.

    A small MLP applied to every scalar, then mean- and max-pooled over the f
    inputs, so one module serves inputs of every width (as scikit-learn's
    estimator checks need). Weights come from a fixed seed.
    """

    def __init__(self, hidden=8, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.inner = nn.Linear(1, hidden)
        self.outer = nn.Linear(hidden, 4)
        with torch.no_grad():
            for param in self.parameters():
                param.copy_(torch.randn(param.shape, generator=generator))

    def forward(self, x):
        z = self.outer(torch.tanh(self.inner(x.unsqueeze(-1))))
        return torch.cat([z.mean(1), z.amax(1)], dim=1)


def make_mlp(n_features=8, n_out=16, seed=0):
    """A seeded two-layer MLP on flat (n, n_features) vectors."""
    generator = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(n_features, 32), nn.ReLU(), nn.Linear(32, n_out))
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(0.3 * torch.randn(param.shape, generator=generator))
    return net


def _main(cache_dir, data_path, batch_size, sleep_seconds):
    from sklearn_subspace.teachers import TorchFeatureExtractor

    X = np.load(data_path)
    net = make_mlp(n_features=X.shape[1])
    if sleep_seconds > 0:
        # Slow down the batches, not the model: a hook on the model would
        # make its identity unknown (and its features uncached).
        from sklearn_subspace.teachers import _inputs

        build = _inputs.TensorBatchBuilder.__call__

        def slow_build(self, samples, sel):
            time.sleep(sleep_seconds)
            return build(self, samples, sel)

        _inputs.TensorBatchBuilder.__call__ = slow_build
    extractor = TorchFeatureExtractor(
        net, device="cpu", batch_size=batch_size, cache_dir=cache_dir
    )
    extractor.fit_transform(X)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
