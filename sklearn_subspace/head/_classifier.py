"""`SubspaceHeadClassifier`: the small torch head, as a scikit-learn classifier."""

import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._device import resolve_device
from .._frames import check_numeric_columns
from .._param_validation import Interval, StrOptions, _fit_context
from ..training import (
    HoldoutSplit,
    TrainingNet,
    WeightedCrossEntropy,
    draw_seeds,
    n_validation,
    stopping_callbacks,
    stratify_problem,
    threads_for_step,
    warn_if_not_converged,
)
from ..training._net import optimizer_settings
from ._modules import SubspaceHead, check_module_size
from ._presets import preset_params

# Rows per forward pass at validation and prediction time: no gradients are
# kept, so batches can be much larger than training batches.
_PREDICT_BATCH_SIZE = 8192

# With ``max_epochs="auto"``: at least this many epochs, and at least this
# many optimizer steps (see the ``max_epochs`` parameter).
_AUTO_MIN_EPOCHS = 200
_AUTO_MIN_STEPS = 10_000

# The full-batch solver holds a few (n_samples, n_classes) float32 tensors
# (logits, their softmax and gradient). Past this many entries per tensor
# (512 MiB) ``optimizer="auto"`` trains the linear head with AdamW on
# mini-batches instead.
_FULL_BATCH_MAX_ENTRIES = 2**27


def _check_hidden_layer_sizes(hidden_layer_sizes):
    # An int means one hidden layer, as in sklearn's MLPClassifier.
    sizes = hidden_layer_sizes
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    if isinstance(sizes, str) or not hasattr(sizes, "__iter__"):
        raise TypeError(
            "hidden_layer_sizes must be a tuple of positive ints, e.g. () for a "
            f"linear head or (256,) for one hidden layer; got {hidden_layer_sizes!r}."
        )
    sizes = tuple(sizes)
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(
                "hidden_layer_sizes must contain only positive ints; got "
                f"{hidden_layer_sizes!r}."
            )
        if size < 1:
            raise ValueError(
                "hidden_layer_sizes must contain only positive ints; got "
                f"{hidden_layer_sizes!r}."
            )
    return tuple(int(size) for size in sizes)


def _check_labels(y):
    """Refuse label arrays that cannot be sorted into classes, naming why."""
    if y.dtype != object:
        return
    if any(label is None for label in y):
        raise ValueError(
            "y holds None, which is not a class label. Drop those samples or "
            "give them a label."
        )
    kinds = {"str" if isinstance(label, str) else type(label).__name__ for label in y}
    if "str" in kinds and len(kinds) > 1:
        raise TypeError(
            f"y mixes label types ({', '.join(sorted(kinds))}), which cannot be "
            "sorted into classes. Convert the labels to one type first, e.g. "
            "y.astype(str)."
        )


def _sample_weights(sample_weight, class_weight, y, n_samples):
    """Per-sample weights from ``sample_weight`` times ``class_weight``, or None."""
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim == 0:
            weights = np.full(n_samples, float(weights))
        if weights.shape != (n_samples,):
            raise ValueError(
                f"sample_weight has shape {weights.shape}, expected "
                f"({n_samples},): one weight per sample."
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                "sample_weight must be finite and non-negative; got "
                "NaN, inf or negative values."
            )
    if class_weight is not None:
        by_class = compute_sample_weight(class_weight, y)
        weights = by_class if weights is None else weights * by_class
    if weights is not None and not weights.sum() > 0:
        raise ValueError(
            "sample_weight sums to zero: at least one sample needs a positive weight."
        )
    return None if weights is None else weights.astype(np.float32)


class SubspaceHeadClassifier(ClassifierMixin, BaseEstimator):
    """Small torch classification head, trained with skorch.

    The head the compression study trains on projected features: by default
    the paper's linear head (softmax regression), optionally a small ReLU
    MLP, optionally behind a learned bias-free bottleneck (the "learned
    projection" baseline that random projections are compared against).
    It behaves as a plain scikit-learn classifier: any label type,
    ``predict`` returns the original labels, ``sample_weight`` and
    ``class_weight`` work as in ``LogisticRegression``.

    With its defaults the head is trained to convergence, as
    ``LogisticRegression`` and ``MLPClassifier`` are, so that the accuracy
    of a subspace measures the subspace rather than the optimiser:

    - the **linear head** is a convex problem and is solved by full-batch
      L-BFGS on all training data with an L2 penalty, until L-BFGS's own
      tolerances are met: every subspace gets its true optimum;
    - **MLP and bottleneck heads** are trained with AdamW on mini-batches,
      and stop when the loss on a held-out validation split has stopped
      improving, keeping the weights of the best epoch.

    A fit that reaches ``max_epochs`` first warns with a
    ``ConvergenceWarning``. ``from_preset`` gives the paper's fixed-epoch
    protocols instead.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=()
        Widths of the hidden ReLU layers. ``()`` is a linear head, as in the
        paper; an int means one hidden layer.
    bottleneck : int or None, default=None
        When an int ``k``, a learned bias-free linear map ``d -> k`` is
        placed before the head. Must not exceed the number of features.
    optimizer : {"auto", "lbfgs", "adamw", "sgd"}, default="auto"
        ``"lbfgs"``: full-batch L-BFGS (SciPy's L-BFGS-B, as
        ``LogisticRegression`` uses, on gradients computed by torch); ``"adamw"``: ``torch.optim.AdamW`` on mini-batches;
        ``"sgd"``: ``torch.optim.SGD`` with ``momentum``. ``"auto"`` takes
        L-BFGS for the linear head (unless ``n_samples * n_classes``
        exceeds 2**27, where the full batch would not fit comfortably in
        memory) and AdamW otherwise.
    lr : float or None, default=None
        Learning rate of AdamW and SGD; None means 1e-3 for AdamW and 1e-2
        for SGD. L-BFGS ignores it: its line search picks every step.
    weight_decay : float or None, default=None
        L2 strength: ``0.5 * weight_decay * ||W||^2`` added to the mean loss
        for L-BFGS (biases not penalised), decoupled weight decay for
        AdamW, the L2 gradient term for SGD. None means 1e-3 for L-BFGS and
        1e-4 otherwise.
    momentum : float, default=0.9
        SGD momentum; ignored by the other optimizers.
    max_epochs : int or "auto", default="auto"
        Cap on the number of epochs. An epoch is one pass over the training
        data for the mini-batch optimizers and up to 100 L-BFGS iterations
        for the full-batch solver. Training normally stops earlier, by the
        rules below; reaching the cap warns. ``"auto"`` allows 200 epochs,
        or as many as 10,000 optimizer steps take when that is more: on
        small data an epoch is only a few steps, and a budget in epochs
        alone would stop a mini-batch optimizer long before it converges.
    batch_size : int, default=256
        Mini-batch size of AdamW and SGD; L-BFGS uses the full batch.
    early_stopping : bool, default=True
        For AdamW and SGD: hold out a stratified ``validation_fraction`` of
        the training data, stop when its loss has not improved by a
        relative ``tol`` for ``patience`` epochs, and restore the weights of
        the best epoch. When ``False`` (or when the split is impossible, see
        below), stop when the training loss plateaus by the same rule.
        L-BFGS solves the convex linear problem on all the data and ignores
        it.

        The split is stratified and keeps every class on both sides, so the
        validation part holds at least one sample per class even when
        ``validation_fraction`` asks for fewer. When a class has a single
        sample, or the training part would have fewer samples than there
        are classes, the fit warns and trains on all data.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping, rounded up
        to whole samples and to at least one sample per class.
    patience : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float or None, default=1e-4
        Relative improvement of the monitored loss that counts, for AdamW
        and SGD. ``None`` trains exactly ``max_epochs`` epochs (restoring
        the best validation epoch when ``early_stopping``) and never warns:
        the fixed protocol of the presets. L-BFGS always runs to its own
        tolerance (largest gradient entry of the mean loss below 1e-4,
        ``LogisticRegression``'s default ``tol``).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in ``LogisticRegression``:
        ``"balanced"`` weighs each class by ``n_samples / (n_classes *
        count)``. Multiplied with ``sample_weight``.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (instances, or ``(name, callback)`` pairs).
        They run before the stopping rule, so they see every epoch; the
        name ``"stopping"`` is taken.
    warm_start : bool, default=False
        When True, a second ``fit`` continues from the fitted weights (and
        optimizer state) instead of starting anew, through skorch's
        ``partial_fit``. The classes and the number of features must not
        change.
    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available (then MPS), else on CPU.
        Asking for ``"cuda"`` without CUDA raises a ``ValueError``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and the validation split,
        through local generators (torch's global random state is left
        alone). An int gives identical predictions across fits on CPU.
    verbose : int, default=0
        When positive, skorch prints a table of losses per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.
    net_ : skorch.NeuralNet
        The fitted skorch net; ``net_.module_`` is the torch head and
        ``net_.history`` holds per-epoch ``train_loss`` and, with a
        validation split, ``valid_loss``.
    optimizer_ : str
        The optimizer used, ``"auto"`` resolved.
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights the head holds: the best validation
        loss with a validation split, else the last epoch.
    converged_ : bool
        Whether a stopping rule fired before ``max_epochs`` (True when
        ``tol=None``).
    validation_size_ : int
        Number of training samples held out for early stopping; 0 when no
        validation split was made.
    device_ : str
        Device the head was trained on.

    See Also
    --------
    export_torch : Export a fitted head (or projection + head pipeline) as
        one small ``torch.nn.Module``.
    sklearn.linear_model.LogisticRegression : The same linear model,
        trained by scikit-learn in float64.
    sklearn.neural_network.MLPClassifier : scikit-learn's own MLP.

    Notes
    -----
    Probabilities are the softmax of the logits. For two classes,
    ``decision_function`` returns ``logit[1] - logit[0]``, the log-odds of
    ``classes_[1]``; with more classes it returns the logits.

    The loss is the sample-weighted mean cross-entropy,
    ``sum(w_i * loss_i) / sum(w_i)``. Training goes through skorch's loop,
    callbacks and history (see :mod:`sklearn_subspace.training`), fed with
    batches sliced from in-memory tensors. ``benchmarks/bench_head.py``
    compares fit times and accuracies with ``LogisticRegression`` and a
    hand-written torch loop.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_subspace.head import SubspaceHeadClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = SubspaceHeadClassifier(device="cpu", random_state=0)
    >>> clf = clf.fit(X_train, y_train)
    >>> clf.optimizer_, clf.converged_
    ('lbfgs', True)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    >>> bool(clf.score(X_test, y_test) > 0.95)
    True

    The paper's head settings are available by teacher name:

    >>> SubspaceHeadClassifier.from_preset("resnet50")
    SubspaceHeadClassifier(batch_size=128, lr=0.01, max_epochs=5, optimizer='sgd',
                           tol=None, weight_decay=0.0005)
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "bottleneck": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "optimizer": [StrOptions({"auto", "lbfgs", "adamw", "sgd"})],
        "lr": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left"), None],
        "momentum": [Interval(numbers.Real, 0, 1, closed="left")],
        "max_epochs": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(),
        *,
        bottleneck=None,
        optimizer="auto",
        lr=None,
        weight_decay=None,
        momentum=0.9,
        max_epochs="auto",
        batch_size=256,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        tol=1e-4,
        class_weight=None,
        callbacks=None,
        warm_start=False,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.bottleneck = bottleneck
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def from_preset(cls, name, **params):
        """Build a head with the paper's training settings for one teacher.

        The preset trains for exactly the paper's number of epochs
        (``tol=None``), keeping the weights of the epoch with the best loss
        on a validation split carved from the training data (the paper
        picked its epoch on the test set).

        Parameters
        ----------
        name : {"resnet50", "vit_b_16", "bert-base-uncased"}
            The teacher whose head settings to use:

            - ``"resnet50"``: SGD, momentum 0.9, lr 1e-2, weight decay 5e-4,
              5 epochs, batch 128;
            - ``"vit_b_16"``: AdamW, lr 1e-3, weight decay 1e-4, 3 epochs,
              batch 32;
            - ``"bert-base-uncased"``: AdamW, lr 1e-3, weight decay 1e-2,
              3 epochs, batch 32.
        **params
            Any other constructor argument; these override the preset.

        Returns
        -------
        SubspaceHeadClassifier
            An unfitted head.

        See Also
        --------
        SubspaceHeadClassifier : The constructor arguments that can be set.

        Examples
        --------
        >>> from sklearn_subspace.head import SubspaceHeadClassifier
        >>> clf = SubspaceHeadClassifier.from_preset("vit_b_16", random_state=0)
        >>> clf.optimizer, clf.lr, clf.max_epochs, clf.batch_size, clf.tol
        ('adamw', 0.001, 3, 32, None)
        """
        return cls(**{**preset_params(name), **params})

    def _solver(self, n_samples, n_classes, hidden):
        """The optimizer name, with ``"auto"`` resolved."""
        if self.optimizer != "auto":
            return self.optimizer
        linear = not hidden and self.bottleneck is None
        if linear and n_samples * n_classes <= _FULL_BATCH_MAX_ENTRIES:
            return "lbfgs"
        return "adamw"

    def _seed_free(self, n_samples, n_classes):
        """Whether a fit on ``n_samples`` rows uses no randomness at all.

        True for the linear head solved by full-batch L-BFGS: it starts at
        zero, sees every row in every evaluation and holds out no
        validation split, so ``random_state`` changes nothing.
        """
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        return (
            not hidden
            and self.bottleneck is None
            and not self.warm_start
            and self._solver(n_samples, n_classes, hidden) == "lbfgs"
        )

    def _max_epochs(self, solver, n_train):
        """The epoch cap, with ``"auto"`` resolved for ``n_train`` rows."""
        if self.max_epochs != "auto":
            return self.max_epochs
        if solver == "lbfgs":
            return _AUTO_MIN_EPOCHS
        steps_per_epoch = math.ceil(n_train / self.batch_size)
        return max(_AUTO_MIN_EPOCHS, math.ceil(_AUTO_MIN_STEPS / steps_per_epoch))

    def _validation_split(self, y_idx, solver, split_seed):
        """The skorch ``train_split`` of this fit, or None (no validation)."""
        if solver == "lbfgs" or not self.early_stopping:
            return None
        problem = stratify_problem(y_idx, self.validation_fraction)
        if problem is not None:
            warnings.warn(
                "Early stopping was turned off for this fit: a stratified "
                "validation split needs every class on both sides, but "
                f"{problem}. Training on all {len(y_idx)} samples until the "
                "training loss stops improving. Pass more samples per class, "
                "or early_stopping=False to silence this warning.",
                UserWarning,
                stacklevel=3,
            )
            return None
        return HoldoutSplit(self.validation_fraction, split_seed)

    def _build_net(self, classes, hidden, solver, train_split, seeds, device, n_train):
        module_params = {
            "n_features": self.n_features_in_,
            "n_classes": len(classes),
            "hidden_layer_sizes": hidden,
            "bottleneck": self.bottleneck,
        }
        check_module_size(**module_params)
        linear = not hidden and self.bottleneck is None
        max_epochs = self._max_epochs(solver, n_train)
        n_rows = n_train if solver == "lbfgs" else min(n_train, self.batch_size)
        weight_decay = self.weight_decay
        if weight_decay is None:
            weight_decay = 1e-3 if solver == "lbfgs" else 1e-4
        settings = optimizer_settings(
            solver, lr=self.lr, weight_decay=weight_decay, device=device
        )
        if solver == "sgd":
            settings["optimizer__momentum"] = self.momentum
        callbacks = stopping_callbacks(
            solver=solver,
            validation=train_split is not None,
            tol=self.tol,
            patience=self.patience,
            max_epochs=max_epochs,
        )
        return TrainingNet(
            module=SubspaceHead,
            **{f"module__{key}": value for key, value in module_params.items()},
            # The convex linear problem starts at zero, as LogisticRegression
            # does: its solution then does not depend on the seed at all. (A
            # hidden layer or bottleneck would be stuck at zero: a saddle.)
            module__seed=None if solver == "lbfgs" and linear else seeds["init"],
            criterion=WeightedCrossEntropy,
            max_epochs=max_epochs,
            batch_size=-1 if solver == "lbfgs" else self.batch_size,
            iterator_train__shuffle=True,
            iterator_train__seed=seeds["shuffle"],
            iterator_valid__batch_size=_PREDICT_BATCH_SIZE,
            train_split=train_split,
            # User callbacks first: a stopping rule ends an epoch by raising,
            # and callbacks after it would miss that last epoch.
            callbacks=[*(self.callbacks or []), *callbacks],
            n_threads=threads_for_step(
                n_rows, self.n_features_in_, len(classes), device
            ),
            # The linear head's loss and gradients in closed form: the same
            # values as autograd at a fraction of the cost per L-BFGS
            # evaluation (see benchmarks/bench_head.py).
            linear_layer="layers.0" if linear else None,
            device=str(device),
            verbose=self.verbose,
            **settings,
        )

    def _check_warm_start(self, classes):
        """Whether this fit continues the previous one (``warm_start``)."""
        if not (self.warm_start and hasattr(self, "net_")):
            return False
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                "warm_start=True continues the previous fit, which had classes "
                f"{self.classes_.tolist()}; this y has {classes.tolist()}. "
                "Use the same classes, or warm_start=False to start anew."
            )
        return True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the head on features ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features; cast to float32. NaN and inf are rejected.
        y : array-like of shape (n_samples,)
            Class labels of any single type (ints, strings, ...). At least
            two classes are needed.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Per-sample weights of the loss (multiplied with
            ``class_weight``). A weight of 2 counts like a repeated sample.

        Returns
        -------
        self : SubspaceHeadClassifier
            The fitted head.
        """
        previous_features = getattr(self, "n_features_in_", None)
        check_numeric_columns(X, type(self).__name__)
        X, y = validate_data(self, X, y, dtype=np.float32, order="C")
        _check_labels(y)
        check_classification_targets(y)
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        if self.bottleneck is not None and self.bottleneck > self.n_features_in_:
            raise ValueError(
                f"bottleneck={self.bottleneck} is wider than the "
                f"{self.n_features_in_} input features, so it cannot compress "
                "them. Use bottleneck <= n_features or bottleneck=None."
            )
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "SubspaceHeadClassifier needs samples of at least 2 classes "
                f"in y; got only one class: {classes[0]!r}."
            )
        weights = _sample_weights(sample_weight, self.class_weight, y, len(y))
        targets = y_idx if weights is None else (y_idx, weights)
        if self._check_warm_start(classes):
            if previous_features != self.n_features_in_:
                raise ValueError(
                    "warm_start=True continues the previous fit, which had "
                    f"{previous_features} features; this X has "
                    f"{self.n_features_in_}."
                )
            self.net_.partial_fit(X, targets)
        else:
            device = resolve_device(self.device)
            seeds = draw_seeds(self.random_state)
            solver = self._solver(len(y_idx), len(classes), hidden)
            train_split = self._validation_split(y_idx, solver, seeds["split"])
            n_valid = (
                0
                if train_split is None
                else n_validation(y_idx, self.validation_fraction)
            )
            self.net_ = self._build_net(
                classes,
                hidden,
                solver,
                train_split,
                seeds,
                device,
                len(y_idx) - n_valid,
            )
            self.net_.fit(X, targets)
            self.optimizer_ = solver
            self.device_ = str(device)
            self.validation_size_ = n_valid
        self.classes_ = classes
        self._record_stopping()
        return self

    def _record_stopping(self):
        """Set ``n_iter_``, ``best_epoch_`` and ``converged_``; warn if needed."""
        self.n_iter_ = len(self.net_.history)
        stopping = dict(self.net_.callbacks_).get("stopping")
        best = getattr(stopping, "best_epoch_", None)
        self.best_epoch_ = int(best) if best is not None else self.n_iter_
        self.converged_ = warn_if_not_converged(
            self.net_,
            tol=self.tol,
            max_epochs=self.net_.max_epochs,
            estimator=type(self).__name__,
        )

    def _logits(self, X):
        """Float32 logits of shape (n_samples, n_classes), as a tensor."""
        check_is_fitted(self)
        check_numeric_columns(X, type(self).__name__)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C")
        logits = self.net_.forward(X)
        if not torch.isfinite(logits).all():
            # Finite features can still overflow float32 in W x + b; a NaN
            # probability would be silently wrong.
            rows = int((~torch.isfinite(logits).all(dim=1)).sum())
            raise ValueError(
                f"The head's logits overflowed float32 for {rows} sample(s): "
                f"their features are too large (largest |value| "
                f"{float(np.abs(X).max()):.3g}). Rescale the features, e.g. "
                "with StandardScaler, before the head."
            )
        return logits

    def decision_function(self, X):
        """Return the head's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, ``logit[1] - logit[0]`` (the log-odds of
            ``classes_[1]``); otherwise the logits, float32.
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return (logits[:, 1] - logits[:, 0]).numpy()
        return logits.numpy()

    def predict_proba(self, X):
        """Return class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Float32 probabilities in the order of ``classes_``; each row
            sums to 1.
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict_log_proba(self, X):
        """Return the log of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Float32 log-probabilities in the order of ``classes_``.
        """
        return torch.log_softmax(self._logits(X), dim=1).numpy()

    def predict(self, X):
        """Return the predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_`` (the original labels, not indices).
        """
        # Logits first: they check that the head is fitted.
        indices = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[indices]
