"""Full-batch L-BFGS for torch modules, driven by SciPy's L-BFGS-B.

The linear head is a smooth convex problem; scikit-learn's
``LogisticRegression`` solves it with SciPy's L-BFGS-B. ``torch.optim.LBFGS``
runs the same algorithm, but as dozens of small tensor operations per
iteration in Python, which on a small problem (scikit-learn's digits) costs
several times the whole fit of ``LogisticRegression``. Here torch only
computes the loss and its gradient (on any device); SciPy's compiled
L-BFGS-B does the rest, as for ``LogisticRegression``.

:class:`ScipyLBFGS` is a ``torch.optim.Optimizer`` whose ``step(closure)``
runs up to ``max_iter`` iterations, so skorch trains with it like with any
closure-based optimizer (one step per epoch, on the full batch).
"""

import numpy as np
import scipy.optimize
import torch

# The resolution of a float32 loss.
_FLOAT32_FTOL = float(np.finfo(np.float32).eps)


class ScipyLBFGS(torch.optim.Optimizer):
    """``torch.optim.Optimizer`` running SciPy's L-BFGS-B on a closure.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters to optimise.
    lr : float, default=1.0
        Unused: the line search picks every step. Accepted so that skorch's
        ``lr`` argument can be passed as to any optimizer.
    max_iter : int, default=50
        L-BFGS iterations per ``step``. Each ``step`` starts a fresh
        curvature history from the current parameters.
    tolerance_grad : float, default=1e-5
        Stop when the largest gradient entry is below this (SciPy's
        ``gtol``).
    tolerance_change : float, default=1.2e-7
        Stop when the relative decrease of the loss in one iteration is
        below this (SciPy's ``ftol``). The default is float32's epsilon: the
        loss is computed in float32, so smaller changes are rounding noise.
    history_size : int, default=10
        Number of correction pairs kept (SciPy's ``maxcor``).

    Notes
    -----
    ``state_dict()["state"][0]`` holds ``n_iter``, the iterations taken by
    all steps so far, and ``converged``, whether the last step met a
    tolerance before ``max_iter``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training._lbfgs import ScipyLBFGS
    >>> w = torch.zeros(3, requires_grad=True)
    >>> target = torch.tensor([1.0, -2.0, 3.0])
    >>> opt = ScipyLBFGS([w])
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - target) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> loss = opt.step(closure)
    >>> torch.allclose(w, target, atol=1e-4)
    True
    """

    def __init__(
        self,
        params,
        lr=1.0,
        max_iter=50,
        tolerance_grad=1e-5,
        tolerance_change=_FLOAT32_FTOL,
        history_size=10,
    ):
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("ScipyLBFGS supports a single parameter group.")

    def _params(self):
        return [p for p in self.param_groups[0]["params"] if p.requires_grad]

    def _flat(self, tensors):
        return np.concatenate(
            [t.detach().reshape(-1).double().cpu().numpy() for t in tensors]
        )

    def _assign(self, params, x):
        flat = torch.from_numpy(x)
        offset = 0
        with torch.no_grad():
            for p in params:
                n = p.numel()
                p.copy_(flat[offset : offset + n].view_as(p))
                offset += n

    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; return the final loss."""
        group = self.param_groups[0]
        params = self._params()

        def loss_and_grad(x):
            self._assign(params, x)
            with torch.enable_grad():
                loss = closure()
            grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
            return float(loss.detach()), self._flat(grads)

        result = scipy.optimize.minimize(
            loss_and_grad,
            self._flat(params),
            jac=True,
            method="L-BFGS-B",
            options={
                "maxiter": group["max_iter"],
                "gtol": group["tolerance_grad"],
                "ftol": group["tolerance_change"],
                "maxcor": group["history_size"],
            },
        )
        self._assign(params, result.x)
        state = self.state[group["params"][0]]
        state["n_iter"] = state.get("n_iter", 0) + int(result.nit)
        # A step that starts at a converged point may fail its line search
        # (no float32 decrease is left to find) without moving: the point is
        # still the converged one.
        stayed = result.nit == 0 and state.get("converged", False)
        state["converged"] = bool(result.status == 0 or stayed)
        return torch.tensor(float(result.fun))
