"""A small default student network."""

import numbers

from torch import nn


class StudentMLP(nn.Module):
    """Small ReLU MLP student: flatten, hidden layers, then ``n_outputs``.

    The same body serves every method of :func:`distillation_comparison`;
    only the width of the last layer changes (``k`` for a subspace student,
    the number of classes for a cross-entropy or Hinton-KD student).

    Parameters
    ----------
    n_outputs : int
        Width of the output layer. :class:`SubspaceDistiller` passes
        ``n_outputs=n_components`` when it is not given.
    hidden_layer_sizes : tuple of int, default=(256,)
        Widths of the hidden ReLU layers.
    n_inputs : int or None, default=None
        Number of input values per sample (after flattening). ``None`` infers
        it from the first batch the student sees (a lazy first layer), so one
        student definition fits inputs of any shape.

    Attributes
    ----------
    body : torch.nn.Sequential
        Flatten and the hidden layers.
    output : torch.nn.Linear
        The output layer.

    See Also
    --------
    SubspaceDistiller : Trains a student to regress projected teacher features.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.distill import StudentMLP
    >>> student = StudentMLP(16, hidden_layer_sizes=(32,), n_inputs=64)
    >>> student(torch.zeros(5, 1, 8, 8)).shape
    torch.Size([5, 16])
    >>> sum(p.numel() for p in student.parameters())
    2608
    """

    def __init__(self, n_outputs, hidden_layer_sizes=(256,), n_inputs=None):
        super().__init__()
        for name, value in (("n_outputs", n_outputs), ("n_inputs", n_inputs)):
            if value is None and name == "n_inputs":
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be a positive int, got {value!r}.")
            if value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        sizes = tuple(hidden_layer_sizes)
        if any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
            for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive ints, got "
                f"{hidden_layer_sizes!r}."
            )
        layers = [nn.Flatten()]
        width = n_inputs
        for size in sizes:
            linear = nn.LazyLinear(size) if width is None else nn.Linear(width, size)
            layers.extend([linear, nn.ReLU()])
            width = size
        self.body = nn.Sequential(*layers)
        if width is None:
            self.output = nn.LazyLinear(n_outputs)
        else:
            self.output = nn.Linear(width, n_outputs)

    def forward(self, X):
        return self.output(self.body(X))
