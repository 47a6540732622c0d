"""`SubspaceHeadClassifier`: the small torch head, as a scikit-learn classifier."""

import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping

from .._device import resolve_device
from .._frames import check_numeric_columns
from .._param_checks import check_real as _check_real
from ._modules import SubspaceHead
from ._presets import preset_params
from ._training import (
    FastNet,
    SliceLoader,
    StratifiedHoldout,
    fused_optimizer_params,
    n_validation,
    stratify_problem,
)

_OPTIMIZERS = {"adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}

# Rows per forward pass at validation and prediction time: no gradients are
# kept, so batches can be much larger than training batches.
_PREDICT_BATCH_SIZE = 8192


def _draw_seeds(random_state):
    """Seeds for weight init, batch shuffling and the validation split."""
    rng = check_random_state(random_state)
    init_seed, shuffle_seed, split_seed = rng.randint(np.iinfo(np.int32).max, size=3)
    return int(init_seed), int(shuffle_seed), int(split_seed)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int >= {minimum}, got "
            f"{type(value).__name__}: {value!r}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


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


class SubspaceHeadClassifier(ClassifierMixin, BaseEstimator):
    """Small torch classification head, trained with skorch.

    The head the compression study trains on projected features: by default
    the paper's linear head (softmax regression), optionally a small ReLU
    MLP, optionally behind a learned bias-free bottleneck (the "learned
    projection" baseline that random projections are compared against).

    It is trained with a ``skorch`` net that slices in-memory tensors rather
    than going through a ``DataLoader``, and behaves as a plain scikit-learn
    classifier: any label type, ``predict`` returns the original labels.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=()
        Widths of the hidden ReLU layers. ``()`` is a linear head, as in the
        paper; an int means one hidden layer.
    bottleneck : int or None, default=None
        When an int ``k``, a learned bias-free linear map ``d -> k`` is
        placed before the head. Must not exceed the number of features.
    optimizer : {"adamw", "sgd"}, default="adamw"
        ``torch.optim.AdamW``, or ``torch.optim.SGD`` with ``momentum``.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=1e-4
        Weight decay (decoupled for AdamW, L2 for SGD).
    momentum : float, default=0.9
        SGD momentum; ignored by AdamW.
    max_epochs : int, default=20
        Maximum number of passes over the training data.
    batch_size : int, default=256
        Training mini-batch size.
    early_stopping : bool, default=True
        Whether to hold out a stratified ``validation_fraction`` of the
        training data, stop when its loss has not improved for ``patience``
        epochs, and restore the weights of the best epoch. When ``False``,
        all data is used for training, for ``max_epochs`` epochs.

        The split is stratified and keeps every class on both sides, so the
        validation part holds at least one sample per class even when
        ``validation_fraction`` asks for fewer. When a class has a single
        sample, or the training part would have fewer samples than there
        are classes, the fit warns and trains on all data for
        ``max_epochs`` epochs without early stopping.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping, rounded up
        to whole samples and to at least one sample per class. Only used
        when ``early_stopping=True``.
    patience : int, default=5
        Epochs without improvement of the validation loss before stopping.
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
        ``net_.history`` holds per-epoch ``train_loss``, ``valid_loss`` and
        ``valid_acc``.
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights the head holds: the best validation
        loss with early stopping, else the last epoch.
    validation_size_ : int
        Number of training samples held out for early stopping; 0 when no
        validation split was made.
    device_ : str
        Device the head was trained on.

    See Also
    --------
    export_torch : Export a fitted head (or projection + head pipeline) as
        one small ``torch.nn.Module``.
    sklearn.neural_network.MLPClassifier : scikit-learn's own MLP.

    Notes
    -----
    Probabilities are the softmax of the logits. For two classes,
    ``decision_function`` returns ``logit[1] - logit[0]``, the log-odds of
    ``classes_[1]``; with more classes it returns the logits.

    Training keeps skorch's loop, callbacks and history, but feeds it
    batches sliced from in-memory tensors, and the linear head
    (``hidden_layer_sizes=()`` without ``bottleneck``) takes its
    cross-entropy gradients in closed form rather than through autograd:
    the same values, at a fraction of the per-step cost. MLP and bottleneck
    heads are trained through autograd. ``benchmarks/bench_head.py``
    compares fit times with a hand-written torch loop and default skorch.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_subspace.head import SubspaceHeadClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = SubspaceHeadClassifier(lr=1e-2, device="cpu", random_state=0)
    >>> clf = clf.fit(X_train, y_train)
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    >>> bool(clf.score(X_test, y_test) > 0.9)
    True

    The paper's head settings are available by teacher name:

    >>> SubspaceHeadClassifier.from_preset("resnet50")
    SubspaceHeadClassifier(batch_size=128, lr=0.01, max_epochs=5, optimizer='sgd',
                           weight_decay=0.0005)
    """

    def __init__(
        self,
        hidden_layer_sizes=(),
        *,
        bottleneck=None,
        optimizer="adamw",
        lr=1e-3,
        weight_decay=1e-4,
        momentum=0.9,
        max_epochs=20,
        batch_size=256,
        early_stopping=True,
        validation_fraction=0.1,
        patience=5,
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
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def from_preset(cls, name, **params):
        """Build a head with the paper's training settings for one teacher.

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
        >>> clf.optimizer, clf.lr, clf.max_epochs, clf.batch_size
        ('adamw', 0.001, 3, 32)
        """
        return cls(**{**preset_params(name), **params})

    def _validated_params(self):
        """Check the hyper-parameters; return the derived values ``fit`` needs."""
        if not isinstance(self.optimizer, str) or self.optimizer not in _OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer {self.optimizer!r}. Valid options: "
                f"{', '.join(repr(k) for k in _OPTIMIZERS)}."
            )
        _check_real("lr", self.lr, low=0.0, low_inclusive=False)
        _check_real("weight_decay", self.weight_decay, low=0.0)
        _check_real("momentum", self.momentum, low=0.0, high=1.0)
        _check_int("max_epochs", self.max_epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("patience", self.patience, 1)
        if self.early_stopping:
            _check_real(
                "validation_fraction",
                self.validation_fraction,
                low=0.0,
                high=1.0,
                low_inclusive=False,
            )
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        if self.bottleneck is not None:
            _check_int("bottleneck", self.bottleneck, 1)
            if self.bottleneck > self.n_features_in_:
                raise ValueError(
                    f"bottleneck={self.bottleneck} is wider than the "
                    f"{self.n_features_in_} input features, so it cannot "
                    "compress them. Use bottleneck <= n_features or "
                    "bottleneck=None."
                )
        return hidden

    def fit(self, X, y):
        """Train the head on features ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features; cast to float32. NaN and inf are rejected.
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings, ...). At least two
            classes are needed.

        Returns
        -------
        self : SubspaceHeadClassifier
            The fitted head.
        """
        check_numeric_columns(X, type(self).__name__)
        X, y = validate_data(self, X, y, dtype=np.float32, order="C")
        check_classification_targets(y)
        hidden = self._validated_params()
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "SubspaceHeadClassifier needs samples of at least 2 classes "
                f"in y; got only one class: {classes[0]!r}."
            )
        device = resolve_device(self.device)
        init_seed, shuffle_seed, split_seed = _draw_seeds(self.random_state)

        early_stopping = bool(self.early_stopping)
        problem = (
            stratify_problem(y_idx, self.validation_fraction)
            if early_stopping
            else None
        )
        if problem is not None:
            warnings.warn(
                "Early stopping was turned off for this fit: a stratified "
                "validation split needs every class on both sides, but "
                f"{problem}. Training on all {len(y_idx)} samples for "
                f"max_epochs={self.max_epochs} epochs. Pass more samples per "
                "class, or early_stopping=False to silence this warning.",
                UserWarning,
                stacklevel=2,
            )
            early_stopping = False

        callbacks = []
        stopper = None
        if early_stopping:
            stopper = EarlyStopping(
                monitor="valid_loss", patience=self.patience, load_best=True
            )
            callbacks.append(("early_stopping", stopper))

        optimizer_cls = _OPTIMIZERS[self.optimizer]
        optimizer_params = {"optimizer__weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            optimizer_params["optimizer__momentum"] = self.momentum
        optimizer_params.update(fused_optimizer_params(optimizer_cls, device))

        net = FastNet(
            module=SubspaceHead,
            module__n_features=self.n_features_in_,
            module__n_classes=len(classes),
            module__hidden_layer_sizes=hidden,
            module__bottleneck=self.bottleneck,
            module__seed=init_seed,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=optimizer_cls,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=SliceLoader,
            iterator_train__shuffle=True,
            iterator_train__seed=shuffle_seed,
            iterator_valid=SliceLoader,
            iterator_valid__batch_size=_PREDICT_BATCH_SIZE,
            train_split=(
                StratifiedHoldout(self.validation_fraction, split_seed)
                if early_stopping
                else None
            ),
            callbacks=callbacks,
            device=str(device),
            verbose=self.verbose,
            **optimizer_params,
        )
        net.fit(X, y_idx)

        self.classes_ = classes
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.best_epoch_ = (
            int(stopper.best_epoch_) if stopper is not None else self.n_iter_
        )
        self.validation_size_ = (
            n_validation(y_idx, self.validation_fraction) if early_stopping else 0
        )
        self.device_ = str(device)
        return self

    def _logits(self, X):
        """Float32 logits of shape (n_samples, n_classes), as a tensor."""
        check_is_fitted(self)
        check_numeric_columns(X, type(self).__name__)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C")
        return self.net_.forward(X)

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
