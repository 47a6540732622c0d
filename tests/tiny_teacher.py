"""The tiny teacher network of the ``tiny_teacher`` fixture."""

import torch


class TinyTeacher(torch.nn.Module):
    """A randomly initialised two-layer network: 16 inputs -> 24 features."""

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.body = torch.nn.Linear(16, 24)
        with torch.no_grad():
            self.body.weight.copy_(torch.randn(24, 16, generator=generator))
            self.body.bias.zero_()

    def forward(self, x):
        return torch.tanh(self.body(x))
