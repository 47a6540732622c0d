"""`SubspaceDistiller`: a student that regresses the teacher's projected features."""

import copy
import inspect
import numbers
import time

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from torch import nn

from .._device import resolve_device
from .._frames import check_numeric_columns
from .._param_validation import HasMethods, Interval, StrOptions, _fit_context
from ..head import SubspaceHeadClassifier
from ..projection import PROJECTION_FAMILIES, JLSubspaceTransformer
from ._training import (
    OPTIMIZERS,
    TargetScale,
    build_module,
    check_sample_weight,
    cosine_loss,
    fit_student,
    mixed_loss,
    mse_loss,
    predict_outputs,
    split_rows,
    student_seeds,
    target_statistics,
    validation_split,
)

#: Student losses accepted by ``loss=``.
LOSSES = ("mse", "cosine", "mixed")

_LOSS_FUNCTIONS = {"mse": mse_loss, "cosine": cosine_loss}


def _accepts_keyword(factory, name):
    """Whether ``factory`` (a class or function) has a parameter called ``name``."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    parameter = parameters.get(name)
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def student_kwargs(student, student_params, n_outputs):
    """Keyword arguments for building ``student`` with output width ``n_outputs``.

    ``student_params`` are passed as given; ``n_outputs`` is added when the
    factory takes a parameter of that name and it was not given.
    """
    kwargs = dict(student_params or {})
    if "n_outputs" not in kwargs and _accepts_keyword(student, "n_outputs"):
        kwargs["n_outputs"] = n_outputs
    return kwargs


def check_student(student, student_params):
    """Raise a clear error unless ``student`` can build a module."""
    if isinstance(student, nn.Module):
        raise TypeError(
            f"student must be an nn.Module class or a function that builds one, "
            f"not a module instance ({type(student).__name__}). Pass the class "
            "(with its arguments in student_params), e.g. "
            "SubspaceDistiller(StudentMLP, student_params={'hidden_layer_sizes': "
            "(128,)}), so that every fit starts from a fresh, seeded student."
        )
    if not callable(student):
        raise TypeError(
            "student must be an nn.Module class or a function that builds one; "
            f"got {type(student).__name__}: {student!r}."
        )
    if student_params is not None and not isinstance(student_params, dict):
        raise TypeError(
            "student_params must be a dict of keyword arguments for the student "
            f"or None; got {type(student_params).__name__}."
        )


class SubspaceDistiller(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClassifierMixin, BaseEstimator
):
    """Subspace-native distillation: a student regresses projected teacher features.

    A fixed Johnson-Lindenstrauss projection ``R`` maps the teacher's
    features ``h(x)`` (dimension ``d``) to ``z(x) = R h(x) / sqrt(k)``; a head
    is trained on ``z`` with the labels; and a small student network ``g``
    is trained so that ``g(x)`` regresses ``z(x)``. Because the student's
    outputs live in the same ``k``-dimensional coordinates as ``z``, the head
    trained on the teacher's projected features classifies them directly, and
    the deployed model is only the student plus a ``k``-input head.

    ``fit(X, y)``:

    1. computes the teacher features once (``teacher.transform``, the
       ``teacher_features`` passed to ``fit``, or ``X`` itself);
    2. projects them with a :class:`~sklearn_subspace.JLSubspaceTransformer`;
    3. fits ``head`` on the projected features of the training part;
    4. trains the student on the regression target, scores the held-out
       validation part through the head after every epoch, stops once that
       accuracy has not improved for ``patience`` epochs (or after
       ``max_epochs``), and keeps the weights of the best epoch.

    The student trains through the library's one training engine
    (:mod:`sklearn_subspace.training`, a skorch net), with the same split,
    seeds, batch order and stopping rule as the baselines of
    :func:`distillation_comparison`.

    Parameters
    ----------
    student : nn.Module subclass or callable
        Builds the student: ``student(**student_params)`` must return an
        ``nn.Module`` that maps a batch of ``X`` (as a float32 tensor) to
        ``(batch, n_components)`` outputs. When the callable has a parameter
        called ``n_outputs`` that ``student_params`` does not set, it receives
        ``n_components`` (so :class:`StudentMLP` needs no arguments). The
        width is checked on one sample before any teacher feature is
        computed. Use a class or a module-level function (not a lambda) to
        keep the distiller picklable.
    teacher : TorchFeatureExtractor, transformer or None, default=None
        Where the teacher features come from. A fitted extractor (or any
        fitted transformer) is used as is; an unfitted one is cloned and
        fitted on ``X``. ``None``: the features are the ``teacher_features``
        given to :meth:`fit`, or, when none are given, ``X`` itself (the
        identity teacher: the student learns a random ``k``-dimensional
        sketch of tabular features).
    n_components : int, default=128
        Dimension ``k`` of the subspace, and the student's output width.
    projection : str, default="gaussian"
        Projection family, one of ``PROJECTION_FAMILIES``.
    loss : {"mse", "cosine", "mixed"}, default="mse"
        The student's loss. ``"mse"`` regresses the projected targets
        standardized by their per-dimension mean and one global scale (the
        same minimiser as the plain MSE; see Notes). With ``"cosine"`` only
        directions are learned; outputs are rescaled to the mean norm of the
        training targets, so that the head sees features on the teacher's
        scale. ``"mixed"`` adds the labels through the fitted head (see
        ``alpha``).
    alpha : float in [0, 1], default=0.5
        Weight of the cross-entropy in ``loss="mixed"``; ignored by the other
        losses. The student ``g`` (``student_``, its outputs in the
        projected coordinates) then minimises::

            alpha * CE(head(g(x)), y)
                + (1 - alpha) * ||g(x) - R h(x) / sqrt(k)||^2 / (k s^2)

        where ``head`` is ``head_``, fitted first on the teacher's projected
        features and then frozen: the cross-entropy flows through it to the
        student, but its weights do not change. The second term is the loss
        of ``loss="mse"`` (``s`` is the targets' global scale, see Notes), so
        ``alpha=0`` trains exactly as ``loss="mse"`` and ``alpha=1`` trains
        the student on the labels alone, through the teacher's head. It needs
        a :class:`~sklearn_subspace.head.SubspaceHeadClassifier` head (the
        default), whose torch module gives differentiable logits.
    optimizer : {"adamw", "sgd"}, default="adamw"
        ``torch.optim.AdamW``, or ``torch.optim.SGD`` with momentum 0.9.
    lr : float, default=1e-3
        Student learning rate.
    max_epochs : int, default=200
        Cap on the student's epochs. Training normally stops earlier, when
        the validation accuracy has stopped improving (see ``tol``);
        reaching the cap first warns with a ``ConvergenceWarning``.
    batch_size : int, default=128
        Student mini-batch size.
    device : str or torch.device, default="auto"
        Where the student trains: ``"auto"`` picks CUDA, then MPS, then CPU.
        ``"cuda"`` without a GPU raises a ``ValueError``.
    random_state : int, RandomState instance or None, default=None
        Seeds the student's initial weights, the batch order, the validation
        split, the projection and the head, through local generators (torch's
        global random state is left alone). An int gives identical results
        across fits on CPU.
    verbose : int, default=0
        When positive, print one line per student epoch.
    student_params : dict or None, default=None
        Keyword arguments for ``student``.
    head : classifier or None, default=None
        Template of the head fitted on the projected teacher features;
        cloned, with ``random_state`` set from this estimator's. ``None`` uses
        ``SubspaceHeadClassifier(device=device)``.
    weight_decay : float, default=1e-4
        Student weight decay.
    validation_fraction : float or None, default=0.1
        Share of the training data held out (stratified, with every class on
        both sides when possible) to stop and to pick the best student
        epoch; the head is not fitted on it either. ``None`` trains on all
        samples, stops when the training loss plateaus and keeps the last
        epoch.
    tol : float or None, default=1e-4
        Relative improvement of the validation accuracy (of the training
        loss without validation) that counts. ``None`` trains exactly
        ``max_epochs`` epochs, keeps the best validation epoch and never
        warns: a fixed budget, as in the comparison's fixed protocols.
    patience : int, default=10
        Epochs without an improvement before the student stops.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (instances, or ``(name, callback)`` pairs)
        for the student's training net, run after the library's own.

    Attributes
    ----------
    student_ : torch.nn.Module
        The deployable student, in eval mode (on CPU after unpickling): the
        trained network (``student_.module``) followed by the fixed map from
        its standardized outputs back to the projected-feature coordinates.
        ``student_(x)`` is what :meth:`transform` returns.
    projection_ : JLSubspaceTransformer
        The fitted projection of the teacher features.
    head_ : classifier
        The head fitted on the projected teacher features, reused unchanged
        on student outputs.
    teacher_ : transformer or None
        The fitted teacher, when ``teacher`` was given.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_components_ : int
        Output width ``k``.
    n_teacher_features_ : int
        Width ``d`` of the teacher features.
    n_features_in_ : int
        ``X.shape[1]`` seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.
    input_shape_ : tuple of int
        Shape of one sample of ``X`` (more than one dimension for images).
    history_ : dict of list
        Per student epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_accuracy`` (accuracy of the reused head on the student's
        outputs for the validation part; NaN without validation).
    best_epoch_ : int
        Epoch (1-based) whose weights the student holds: the first epoch
        with the best validation accuracy, or the last epoch without
        validation.
    n_iter_ : int
        Number of student epochs run.
    converged_ : bool
        Whether the student stopped before ``max_epochs`` (True when
        ``tol=None``).
    validation_size_ : int
        Number of training samples held out for validation.
    head_train_time_, student_train_time_ : float
        Seconds spent fitting the head and training the student.
    device_ : torch.device
        Where the student was trained.

    See Also
    --------
    distillation_comparison : Compare this student with cross-entropy,
        Hinton KD and FitNets students under the same budget.
    StudentMLP : A small default student.
    sklearn_subspace.JLSubspaceTransformer : The fixed projection.

    Notes
    -----
    The head is never retrained on student outputs: :meth:`predict`,
    :meth:`predict_proba` and :meth:`score` give ``head_`` the student's
    outputs ``transform(X)`` exactly as if they were projected teacher
    features. How far the student's accuracy falls below the head's accuracy
    on the teacher's own projected features measures the distillation gap.

    With ``loss="mse"`` the network regresses ``(z - mean) / scale``, with
    ``mean`` the per-dimension mean and ``scale`` the root mean square
    deviation of the training targets, and ``student_`` maps its outputs back
    with ``* scale + mean``. Teacher features are often far from unit scale
    (e.g. ReLU features with norms in the tens); without this a freshly
    initialised student spends most of a short budget growing its outputs.

    ``sample_weight`` given to :meth:`fit` weighs the training samples
    twice: in the head's fit (its ``sample_weight``) and in the student's
    regression loss (a weighted mean over each batch). Class weights belong
    to the head: pass ``head=SubspaceHeadClassifier(class_weight=...)``.

    ``teacher_features`` given to :meth:`fit` are sliced with ``X`` by
    scikit-learn's cross-validation tools (``cross_validate(...,
    params={"teacher_features": F})``), since they hold one row per sample.

    Examples
    --------
    A student MLP that learns to output a 16-dimensional sketch of a teacher's
    features (here the teacher is the identity on the digits pixels):

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_subspace.distill import StudentMLP, SubspaceDistiller
    >>> from sklearn_subspace.head import SubspaceHeadClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X.astype("float32") / 16, y, random_state=0)
    >>> distiller = SubspaceDistiller(
    ...     StudentMLP, n_components=16, device="cpu", random_state=0)
    >>> distiller = distiller.fit(X_train, y_train)
    >>> distiller.transform(X_test).shape
    (450, 16)
    >>> bool(distiller.score(X_test, y_test) > 0.8)
    True
    >>> distiller.converged_, distiller.best_epoch_ < distiller.n_iter_
    (True, True)

    With precomputed teacher features ``F_train`` (one row per sample of
    ``X_train``), pass them to ``fit``:

    >>> distiller.fit(X_train, y_train, teacher_features=F_train)
    ... # doctest: +SKIP
    """

    _parameter_constraints = {
        "student": [callable],
        "teacher": [HasMethods(["transform"]), None],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "projection": [StrOptions(set(PROJECTION_FAMILIES))],
        "loss": [StrOptions(set(LOSSES))],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "student_params": [dict, None],
        "head": [HasMethods(["fit", "predict"]), None],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "tol": [Interval(numbers.Real, 0, None, closed="left"), None],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        student,
        *,
        teacher=None,
        n_components=128,
        projection="gaussian",
        loss="mse",
        alpha=0.5,
        optimizer="adamw",
        lr=1e-3,
        max_epochs=200,
        batch_size=128,
        device="auto",
        random_state=None,
        verbose=0,
        student_params=None,
        head=None,
        weight_decay=1e-4,
        validation_fraction=0.1,
        tol=1e-4,
        patience=10,
        callbacks=None,
    ):
        self.student = student
        self.teacher = teacher
        self.n_components = n_components
        self.projection = projection
        self.loss = loss
        self.alpha = alpha
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.student_params = student_params
        self.head = head
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.tol = tol
        self.patience = patience
        self.callbacks = callbacks

    def _check_mixed_head(self):
        """Refuse a head without a torch module when the loss needs its logits."""
        if self.loss != "mixed" or self.head is None:
            return
        if not isinstance(self.head, SubspaceHeadClassifier):
            raise TypeError(
                "loss='mixed' trains the student through the head's logits, so "
                "the head must be a SubspaceHeadClassifier (a torch module); got "
                f"{type(self.head).__name__}. Use head=None or a "
                "SubspaceHeadClassifier, or loss='mse' to keep this head."
            )

    def _build_student(self, X, init_seed, device):
        """Build the seeded student and check its output width on one sample."""
        k = int(self.n_components)
        kwargs = student_kwargs(self.student, self.student_params, k)
        # Built and probed on the CPU, so that the initial weights (lazy
        # layers included) do not depend on the device.
        probe = torch.as_tensor(X[:1])
        try:
            student, output = build_module(self.student, kwargs, init_seed, probe)
        except (TypeError, ValueError, RuntimeError) as exc:
            if isinstance(exc, TypeError) and "student factory" in str(exc):
                raise
            raise type(exc)(
                f"Could not build the student or run it on one sample of X "
                f"(shape {tuple(X.shape[1:])}): {exc}. The student must accept a "
                "float32 tensor shaped like a batch of X."
            ) from exc
        if not isinstance(output, torch.Tensor) or output.shape != (1, k):
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else output
            raise ValueError(
                f"The student's output must have width n_components={k}, but one "
                f"sample gives output of shape {shape}. Make its last layer output "
                f"{k} values per sample (e.g. set n_outputs={k} in student_params) "
                "or change n_components."
            )
        return student.to(device)

    def _teacher_features(self, X, X_teacher, teacher_features):
        n_samples = X.shape[0]
        if teacher_features is not None:
            if self.teacher is not None:
                raise ValueError(
                    "Both a teacher and teacher_features were given. Pass "
                    "teacher_features only with teacher=None, or drop them to "
                    "let the teacher compute the features."
                )
            self.teacher_ = None
            F = check_array(
                teacher_features,
                dtype=np.float32,
                ensure_all_finite=True,
                input_name="teacher_features",
            )
        elif self.teacher is not None:
            teacher = self.teacher
            try:
                check_is_fitted(teacher)
            except NotFittedError:
                # Fit a copy: the user's teacher is left as it was given.
                teacher = clone(teacher)
                F = teacher.fit_transform(X_teacher)
            else:
                F = teacher.transform(X_teacher)
            self.teacher_ = teacher
            F = np.asarray(F, dtype=np.float32)
            if F.ndim != 2 or not np.isfinite(F).all():
                raise ValueError(
                    "The teacher returned features that are not a finite 2-D "
                    f"array (shape {F.shape}). Check the teacher and its inputs."
                )
        else:
            # The identity teacher: the features are X itself.
            self.teacher_ = None
            F = X.reshape(n_samples, -1)
        if F.shape[0] != n_samples:
            raise ValueError(
                f"teacher_features has {F.shape[0]} rows but X has {n_samples} "
                "samples. Pass one row of teacher features per sample of X, in "
                "the same order."
            )
        return np.ascontiguousarray(F, dtype=np.float32)

    # -- fitting ------------------------------------------------------------
    # Not skipped: the head and teacher templates are validated when fitted.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, teacher_features=None, sample_weight=None):
        """Project the teacher features, fit the head, train the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Student inputs: a numeric array with one sample per row (any
            sample shape the student accepts, e.g. ``(n, 1, 8, 8)`` images),
            cast to float32. NaN and inf are rejected.
        y : array-like of shape (n_samples,)
            Class labels of any type; at least two classes.
        teacher_features : array-like of shape (n_samples, d), default=None
            Precomputed teacher features of ``X``, row by row. Only with
            ``teacher=None``; see ``teacher``.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Weights of the training samples, passed to the head's ``fit``
            (for the training part) and used in the student's loss. The
            validation accuracy that picks the best epoch is unweighted.

        Returns
        -------
        self : SubspaceDistiller
            The fitted distiller.
        """
        # A module instance is callable, so the constraints let it through.
        check_student(self.student, self.student_params)
        self._check_mixed_head()
        # The teacher reads the inputs as given: e.g. uint8 images get the
        # teacher's own preprocessing, float32 copies would not.
        X_teacher = X
        check_numeric_columns(X, type(self).__name__)
        X, y = validate_data(
            self, X, y, dtype=np.float32, allow_nd=True, ensure_min_samples=2
        )
        X = np.ascontiguousarray(X)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "SubspaceDistiller needs samples of at least 2 classes in y; got "
                f"only one class: {classes[0]!r}."
            )
        weights = check_sample_weight(sample_weight, len(y))
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        device = resolve_device(self.device)
        seeds = student_seeds(self.random_state)

        # The width check comes first: a wrong student fails before the
        # (possibly expensive) teacher runs.
        student = self._build_student(X, seeds["init"], device)
        F = self._teacher_features(X, X_teacher, teacher_features)
        split = validation_split(y_idx, self.validation_fraction, seeds["split"])
        train_idx, valid_idx = split_rows(split, y_idx)

        start = time.perf_counter()
        Z = self._fit_head(F, y, train_idx, weights, seeds)
        self.head_train_time_ = time.perf_counter() - start
        self.classes_ = self.head_.classes_
        self.n_components_ = int(self.n_components)
        self.n_teacher_features_ = int(F.shape[1])

        start = time.perf_counter()
        self._train_student(
            student, X, classes, y_idx, Z, weights, split, seeds, device
        )
        self.student_train_time_ = time.perf_counter() - start
        self.validation_size_ = len(valid_idx)
        self.device_ = device
        return self

    def _fit_head(self, F, y, train_idx, weights, seeds):
        """Fit the projection and the head; return the projected features."""
        # The projection is data-independent; fitting only reads the width d.
        self.projection_ = JLSubspaceTransformer(
            n_components=int(self.n_components),
            projection=self.projection,
            random_state=seeds["projection"],
        ).fit(F[:1])
        Z = self.projection_.transform(F)
        head = (
            clone(self.head)
            if self.head is not None
            else SubspaceHeadClassifier(device=self.device)
        )
        if "random_state" in head.get_params():
            head.set_params(random_state=seeds["head"])
        fit_params = {} if weights is None else {"sample_weight": weights[train_idx]}
        self.head_ = head.fit(Z[train_idx], y[train_idx], **fit_params)
        return Z

    def _train_student(
        self, student, X, classes, y_idx, Z, weights, split, seeds, device
    ):
        """Train the student on the standardized targets through the engine."""
        train_idx, _ = split_rows(split, y_idx)
        if self.loss in ("mse", "mixed"):
            mean, scale = target_statistics(Z[train_idx])
            targets = (Z - mean) / scale
            self.student_ = TargetScale(student, mean, scale)
        else:
            norm = float(np.linalg.norm(Z[train_idx], axis=1).mean())
            targets = Z
            self.student_ = TargetScale(
                student, np.zeros(Z.shape[1], np.float32), norm, normalize=True
            )
        self.student_.to(device)

        def score(outputs, y_valid):
            Z_valid = self.student_.restore(outputs).cpu().numpy()
            labels = classes[y_valid]
            return float(np.mean(self.head_.predict(Z_valid) == labels))

        self.history_, self.best_epoch_, self.converged_ = fit_student(
            student,
            X,
            (y_idx, targets) + (() if weights is None else (weights,)),
            self._loss_function(classes, device),
            settings=self._student_settings(),
            seeds=seeds,
            split=split,
            score_fn=score,
            device=device,
            name="subspace student",
        )
        self.student_.eval()
        self.n_iter_ = len(self.history_["epoch"])

    def _loss_function(self, classes, device):
        """The student's loss; for ``"mixed"``, through a frozen copy of the head."""
        if self.loss != "mixed":
            return _LOSS_FUNCTIONS[self.loss]
        # A copy, so that the fitted head_ is left exactly as it was trained
        # (no gradients accumulate on it); ``net_.module_`` is skorch's fitted
        # module, which maps projected features to logits.
        head = copy.deepcopy(self.head_.net_.module_).to(device).eval()
        head.requires_grad_(False)
        label_map = None
        if not np.array_equal(self.head_.classes_, classes):
            # A class held out entirely for validation has no logit: ignored.
            columns = {label: i for i, label in enumerate(self.head_.classes_)}
            label_map = torch.tensor([columns.get(c, -100) for c in classes])
        return mixed_loss(
            head, self.student_.restore, float(self.alpha), label_map=label_map
        )

    def _student_settings(self):
        return {
            "optimizer": self.optimizer,
            "lr": float(self.lr),
            "weight_decay": float(self.weight_decay),
            "max_epochs": int(self.max_epochs),
            "batch_size": int(self.batch_size),
            "tol": self.tol,
            "patience": int(self.patience),
            "verbose": int(self.verbose),
            "callbacks": self.callbacks,
        }

    # -- inference ----------------------------------------------------------
    def transform(self, X):
        """Return the student's ``k``-dimensional outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Student inputs, shaped like those seen in ``fit``.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components_), float32
            The student's estimate of the projected teacher features.
        """
        check_is_fitted(self)
        check_numeric_columns(X, type(self).__name__)
        X = validate_data(self, X, reset=False, dtype=np.float32, allow_nd=True)
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but the distiller "
                f"was fitted on samples of shape {self.input_shape_}. Pass inputs "
                "shaped like the training data."
            )
        return predict_outputs(self.student_, X).cpu().numpy()

    def predict(self, X):
        """Predict labels with the teacher-subspace head on student outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Student inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        Z = self.transform(X)
        return self.head_.predict(Z)

    def predict_proba(self, X):
        """Class probabilities from the reused head on student outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Student inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        Z = self.transform(X)
        return self.head_.predict_proba(Z)

    def decision_function(self, X):
        """Decision scores (logits) of the reused head on student outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Student inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As the head's ``decision_function``.
        """
        Z = self.transform(X)
        return self.head_.decision_function(Z)

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # Student outputs are float32 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def __getstate__(self):
        # The student travels on CPU, so a distiller trained on a GPU loads
        # (and predicts) on any machine.
        state = self.__dict__.copy()
        if "student_" in state:
            student = state["student_"]
            on_cpu = all(p.device.type == "cpu" for p in student.parameters())
            state["student_"] = student if on_cpu else copy.deepcopy(student).cpu()
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state):
        if "device_" in state:
            state["device_"] = torch.device(state["device_"])
        self.__dict__.update(state)
