"""The direct AdamW update gives exactly what ``optimizer.step()`` gives."""

import copy

import pytest
import torch
from torch import nn

from sklearn_subspace.head import _optimizer_step
from sklearn_subspace.head._optimizer_step import adamw_step
from sklearn_subspace.head._training import _fused_step_works


def _twin_layers(seed=0):
    torch.manual_seed(seed)
    layer = nn.Linear(6, 4)
    return layer, copy.deepcopy(layer)


def _set_grads(layer, step):
    gen = torch.Generator().manual_seed(step)
    for param in layer.parameters():
        param.grad = torch.randn(param.shape, generator=gen)


def _step_both(reference, direct, opt_reference, opt_direct, step):
    """One step of ``optimizer.step()`` and of ``adamw_step`` on equal grads."""
    _set_grads(reference, step)
    _set_grads(direct, step)
    opt_reference.step()
    adamw_step(opt_direct)


def _assert_same_parameters(reference, direct):
    for a, b in zip(reference.parameters(), direct.parameters()):
        assert torch.equal(a, b)


OPTIONS = [
    {},
    {"weight_decay": 0.0},
    {"weight_decay": 0.3, "betas": (0.8, 0.95), "eps": 1e-6},
    {"foreach": True},
    {"foreach": False},
]
if _fused_step_works(torch.optim.AdamW, "cpu"):
    OPTIONS.append({"fused": True})


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_direct_step_is_bit_identical_to_optimizer_step(options):
    reference, direct = _twin_layers()
    opt_reference = torch.optim.AdamW(reference.parameters(), lr=1e-2, **options)
    opt_direct = torch.optim.AdamW(direct.parameters(), lr=1e-2, **options)
    for step in range(25):
        if step == 10:
            # A learning-rate change between steps is picked up.
            for opt in (opt_reference, opt_direct):
                opt.param_groups[0]["lr"] = 3e-3
        _step_both(reference, direct, opt_reference, opt_direct, step)
    _assert_same_parameters(reference, direct)
    for a, b in zip(reference.parameters(), direct.parameters()):
        state_a, state_b = opt_reference.state[a], opt_direct.state[b]
        assert torch.equal(state_a["step"], state_b["step"])
        assert torch.equal(state_a["exp_avg"], state_b["exp_avg"])
        assert torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])


def test_direct_step_is_taken_once_the_state_exists(monkeypatch):
    layer, _ = _twin_layers()
    opt = torch.optim.AdamW(layer.parameters())
    calls = []
    real_adamw = _optimizer_step.adamw
    monkeypatch.setattr(
        _optimizer_step, "adamw", lambda *a, **k: calls.append(1) or real_adamw(*a, **k)
    )
    _set_grads(layer, 0)
    adamw_step(opt)  # creates the state through optimizer.step()
    assert calls == []
    adamw_step(opt)
    assert calls == [1]


def _never_direct(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("expected optimizer.step(), not the direct update")

    monkeypatch.setattr(_optimizer_step, "adamw", fail)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda ps: torch.optim.AdamW(ps, amsgrad=True),
        lambda ps: torch.optim.AdamW(ps, maximize=True),
        lambda ps: torch.optim.Adam(ps),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: torch.optim.AdamW([{"params": ps[:1]}, {"params": ps[1:]}]),
    ],
    ids=["amsgrad", "maximize", "adam", "sgd", "two-groups"],
)
def test_other_optimizers_take_their_own_step(monkeypatch, make_optimizer):
    reference, direct = _twin_layers()
    opt_reference = make_optimizer(list(reference.parameters()))
    opt_direct = make_optimizer(list(direct.parameters()))
    _never_direct(monkeypatch)
    for step in range(3):
        _step_both(reference, direct, opt_reference, opt_direct, step)
    _assert_same_parameters(reference, direct)


def test_step_hooks_still_run(monkeypatch):
    layer, _ = _twin_layers()
    opt = torch.optim.AdamW(layer.parameters())
    _set_grads(layer, 0)
    opt.step()
    seen = []
    opt.register_step_pre_hook(lambda *args: seen.append("pre"))
    opt.register_step_post_hook(lambda *args: seen.append("post"))
    _never_direct(monkeypatch)
    adamw_step(opt)
    assert seen == ["pre", "post"]


def test_parameter_without_gradient_is_left_alone_as_by_step(monkeypatch):
    layer, _ = _twin_layers()
    opt = torch.optim.AdamW(layer.parameters())
    _set_grads(layer, 0)
    opt.step()
    layer.bias.grad = None
    bias = layer.bias.detach().clone()
    _never_direct(monkeypatch)
    adamw_step(opt)
    assert torch.equal(layer.bias, bias)


def test_torch_without_the_functional_form_steps_normally(monkeypatch):
    reference, direct = _twin_layers()
    opt_reference = torch.optim.AdamW(reference.parameters())
    opt_direct = torch.optim.AdamW(direct.parameters())
    monkeypatch.setattr(_optimizer_step, "adamw", None)
    for step in range(3):
        _step_both(reference, direct, opt_reference, opt_direct, step)
    _assert_same_parameters(reference, direct)
