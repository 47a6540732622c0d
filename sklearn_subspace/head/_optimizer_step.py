"""AdamW updates for small heads, without the per-call bookkeeping.

``torch.optim.AdamW.step`` wraps every call in profiler and hook handling
and re-collects each parameter's state before it calls the update function
``torch.optim.adamw.adamw``. For a head of a few thousand parameters that
Python work costs more than the update itself: in
``benchmarks/bench_head.py`` it is about a fifth of each training step.

:func:`adamw_step` calls the same update function on the optimizer's own
state, so parameters, moments and step counts evolve exactly as under
``optimizer.step()``, and the optimizer stays a plain ``AdamW`` (its
``state_dict``, learning rate and parameter groups work as usual). It only
does so where the result is provably the same; anything unusual (hooks, a
closure, AMSGrad, several parameter groups, a first step that must create
the state) is left to ``optimizer.step()``.
"""

import torch
from torch.optim import AdamW
from torch.optim import optimizer as _optimizer_module

try:
    from torch.optim.adamw import adamw
except ImportError:  # a torch without the functional form: always step()
    adamw = None


def _has_step_hooks(optimizer):
    hook_dicts = (
        getattr(optimizer, "_optimizer_step_pre_hooks", None),
        getattr(optimizer, "_optimizer_step_post_hooks", None),
        getattr(_optimizer_module, "_global_optimizer_pre_hooks", None),
        getattr(_optimizer_module, "_global_optimizer_post_hooks", None),
    )
    return any(hooks for hooks in hook_dicts)


def _direct_arguments(optimizer):
    """Arguments of ``adamw`` equivalent to ``optimizer.step()``, or None."""
    if adamw is None or type(optimizer) is not AdamW:
        return None
    if len(optimizer.param_groups) != 1:
        return None
    if _has_step_hooks(optimizer):
        return None
    group = optimizer.param_groups[0]
    if (
        group.get("amsgrad")
        or group.get("maximize")
        or group.get("capturable")
        or group.get("differentiable")
        or getattr(optimizer, "grad_scale", None) is not None
        or getattr(optimizer, "found_inf", None) is not None
    ):
        return None
    params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
    for param in group["params"]:
        if param.grad is None:
            # optimizer.step() skips it; keep that logic in one place.
            return None
        state = optimizer.state.get(param)
        if not state or "exp_avg" not in state:
            # The first step creates the state; optimizer.step() does that.
            return None
        if param.grad.is_sparse or torch.is_complex(param):
            return None
        params.append(param)
        grads.append(param.grad)
        exp_avgs.append(state["exp_avg"])
        exp_avg_sqs.append(state["exp_avg_sq"])
        steps.append(state["step"])
    beta1, beta2 = group["betas"]
    return (params, grads, exp_avgs, exp_avg_sqs, [], steps), {
        "foreach": group["foreach"],
        "fused": group["fused"],
        "amsgrad": False,
        "beta1": beta1,
        "beta2": beta2,
        "lr": group["lr"],
        "weight_decay": group["weight_decay"],
        "eps": group["eps"],
        "maximize": False,
    }


def adamw_step(optimizer):
    """Run one ``optimizer.step()``, directly through ``adamw`` where safe.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Any optimizer. A plain ``AdamW`` with one parameter group, no step
        hooks and no AMSGrad, whose state exists, is updated by calling
        ``torch.optim.adamw.adamw`` on its state; every other optimizer (and
        the first AdamW step, which creates the state) gets
        ``optimizer.step()``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.head._optimizer_step import adamw_step
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    >>> b.load_state_dict(a.state_dict())
    <All keys matched successfully>
    >>> opt_a = torch.optim.AdamW(a.parameters(), lr=0.1)
    >>> opt_b = torch.optim.AdamW(b.parameters(), lr=0.1)
    >>> for _ in range(3):
    ...     for layer in (a, b):
    ...         layer.zero_grad()
    ...         layer(torch.ones(4, 3)).square().sum().backward()
    ...     opt_a.step()
    ...     adamw_step(opt_b)
    >>> torch.equal(a.weight, b.weight)
    True
    """
    arguments = _direct_arguments(optimizer)
    if arguments is None:
        optimizer.step()
        return
    args, kwargs = arguments
    with torch.no_grad():
        adamw(*args, **kwargs)
