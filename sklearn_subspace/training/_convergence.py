"""When training stops, and saying so when it stopped too early.

One rule for every model the engine trains, modelled on scikit-learn's
``MLPClassifier``:

- **L-BFGS** (the full-batch solver of the convex linear head) stops when
  its own tolerances are met: an epoch in which it takes fewer iterations
  than it was allowed has converged;
- **with a validation split**, skorch's ``EarlyStopping`` stops when the
  validation loss has not improved by a relative ``tol`` for ``patience``
  epochs, and restores the weights of the best epoch;
- **without one**, the training loss plays that role
  (:class:`ConvergenceMonitor`).

``max_epochs`` is only a cap. A fit that reaches it before any rule fired
has not converged, and :func:`warn_if_not_converged` says so with a
``ConvergenceWarning``. ``tol=None`` asks for exactly ``max_epochs`` epochs
(a fixed protocol such as the paper's), with the best validation epoch
restored when there is a validation split, and no warning.
"""

import warnings

from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, EarlyStopping


class ConvergenceMonitor(Callback):
    """Stop when an L-BFGS epoch converges, or the training loss plateaus.

    Parameters
    ----------
    rule : {"lbfgs", "train_loss"}
        ``"lbfgs"``: stop after an epoch in which L-BFGS took fewer
        iterations than its ``max_iter`` allows (its tolerances were met).
        ``"train_loss"``: stop when the training loss has not improved by a
        relative ``tol`` for ``patience`` epochs.
    tol : float, default=1e-4
        Relative improvement that counts, for ``"train_loss"``.
    patience : int, default=10
        Epochs without improvement before stopping, for ``"train_loss"``.

    Attributes
    ----------
    converged_ : bool
        Whether the rule fired in the last fit.
    """

    def __init__(self, rule, tol=1e-4, patience=10):
        self.rule = rule
        self.tol = tol
        self.patience = patience

    def on_train_begin(self, net, **kwargs):
        self.converged_ = False
        self.best_loss_ = float("inf")
        self.misses_ = 0
        self.iterations_ = net.lbfgs_iterations()

    def on_epoch_end(self, net, **kwargs):
        if self.rule == "lbfgs":
            iterations = net.lbfgs_iterations()
            taken, self.iterations_ = iterations - self.iterations_, iterations
            allowed = net.optimizer_.param_groups[0]["max_iter"]
            self.converged_ = taken < allowed
        else:
            loss = net.history[-1, "train_loss"]
            if loss < self.best_loss_ - self.tol * abs(self.best_loss_):
                self.best_loss_, self.misses_ = loss, 0
            else:
                self.misses_ += 1
            self.converged_ = self.misses_ >= self.patience
        if self.converged_:
            # skorch's own way to end training from a callback.
            raise KeyboardInterrupt


class _BestEpoch(EarlyStopping):
    """skorch's ``EarlyStopping``, also recording whether it fired."""

    def on_train_begin(self, net, **kwargs):
        self.converged_ = False
        super().on_train_begin(net, **kwargs)

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            self.converged_ = True
            raise


def stopping_callbacks(
    *,
    solver,
    validation,
    tol,
    patience,
    max_epochs,
    monitor="valid_loss",
    lower_is_better=True,
):
    """The callbacks implementing the stopping rule for one fit.

    Parameters
    ----------
    solver : {"lbfgs", "adamw", "sgd"}
        The optimizer.
    validation : bool
        Whether the fit holds out a validation split.
    tol : float or None
        Relative improvement that counts; None trains exactly
        ``max_epochs`` epochs.
    patience : int
        Epochs without improvement before stopping.
    max_epochs : int
        The cap on epochs.
    monitor : str, default="valid_loss"
        History key watched with a validation split (for example
        ``"valid_accuracy"``, recorded by :func:`validation_score`).
    lower_is_better : bool, default=True
        Whether a lower ``monitor`` is an improvement.

    Returns
    -------
    list of (str, skorch.callbacks.Callback)
        Named callbacks; the one called ``"stopping"`` has ``converged_``
        after the fit and, with a validation split, ``best_epoch_``.

    Examples
    --------
    >>> from sklearn_subspace.training import stopping_callbacks
    >>> [name for name, _ in stopping_callbacks(
    ...     solver="adamw", validation=True, tol=1e-4, patience=10,
    ...     max_epochs=200)]
    ['stopping']
    """
    if validation:
        if tol is None:
            # Never stops early; only restores the best validation epoch.
            return [
                (
                    "stopping",
                    _BestEpoch(
                        monitor=monitor,
                        patience=max_epochs + 1,
                        threshold=0.0,
                        lower_is_better=lower_is_better,
                        load_best=True,
                    ),
                )
            ]
        return [
            (
                "stopping",
                _BestEpoch(
                    monitor=monitor,
                    patience=patience,
                    threshold=tol,
                    threshold_mode="rel",
                    lower_is_better=lower_is_better,
                    load_best=True,
                ),
            )
        ]
    if tol is None and solver != "lbfgs":
        return []
    rule = "lbfgs" if solver == "lbfgs" else "train_loss"
    return [("stopping", ConvergenceMonitor(rule, tol=tol, patience=patience))]


def warn_if_not_converged(net, *, tol, max_epochs, estimator):
    """Warn with a ``ConvergenceWarning`` when the fit hit ``max_epochs``.

    Parameters
    ----------
    net : TrainingNet
        The fitted net, with the callbacks of :func:`stopping_callbacks`.
    tol : float or None
        None means a fixed number of epochs was asked for: no warning.
    max_epochs : int
        The cap on epochs.
    estimator : str
        Name used in the message.

    Returns
    -------
    bool
        Whether the fit converged (True when ``tol`` is None).
    """
    if tol is None:
        return True
    stopping = dict(net.callbacks_).get("stopping")
    if stopping is not None and stopping.converged_:
        return True
    warnings.warn(
        f"{estimator} stopped at max_epochs={max_epochs} before converging "
        f"(no stopping rule fired with tol={tol}). Increase max_epochs, "
        "raise lr, or standardise the features.",
        ConvergenceWarning,
        stacklevel=3,
    )
    return False
