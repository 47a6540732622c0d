"""Outputs of a trained torch module on in-memory data, batch by batch."""

import torch

from ._data import SliceLoader, TensorData, as_float32_tensor
from ._threads import fixed_threads

# Rows per forward pass: no gradients are kept, so batches can be large.
PREDICT_BATCH_SIZE = 8192


def module_outputs(module, X, *, batch_size=PREDICT_BATCH_SIZE, n_threads=None):
    """Outputs of ``module`` on ``X``, in eval mode and without gradients.

    ``X`` stays where it is; each batch is moved to the module's device, so
    data larger than the device's memory can be processed. The module's
    training mode is restored afterwards.

    Parameters
    ----------
    module : torch.nn.Module
        The module to run.
    X : array-like or torch.Tensor of shape (n_samples, ...)
        Inputs, cast to float32.
    batch_size : int, default=8192
        Rows per forward pass.
    n_threads : int or None, default=None
        CPU threads while running (see :func:`threads_for_step`).

    Returns
    -------
    torch.Tensor
        The outputs, concatenated, on the module's device.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training import module_outputs
    >>> module_outputs(torch.nn.Linear(3, 2), torch.zeros(5, 3)).shape
    torch.Size([5, 2])
    """
    device = next(module.parameters(), torch.empty(0)).device
    data = TensorData(as_float32_tensor(X, "cpu"))
    was_training = module.training
    module.eval()
    try:
        with fixed_threads(n_threads), torch.inference_mode():
            outputs = [
                module(X_batch.to(device))
                for X_batch, _ in SliceLoader(data, batch_size=batch_size)
            ]
    finally:
        module.train(was_training)
    if not outputs:
        return torch.zeros((0,), device=device)
    return torch.cat(outputs)
