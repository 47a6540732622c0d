"""The distillation experiment: subspace-native students against the baselines.

:func:`distillation_comparison` trains the same student architecture, with the
same settings (optimizer, learning rate, epoch cap, batch size) and stopping
rule, on the same training split and batch order, through the library's one
training engine (see :mod:`._training`), in four ways:

- ``"scratch"``: cross-entropy on the labels;
- ``"kd"``: Hinton et al.'s knowledge distillation on the teacher's logits;
- ``"fitnets"``: FitNets-style regression of the full teacher features;
- ``"subspace"``: subspace-native distillation (:class:`SubspaceDistiller`),

and reports the test accuracy over several seeds, the size of the deployed
model and the training time.
"""

import numbers
import time

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
)
from torch import nn

from .._device import resolve_device
from .._param_checks import check_real
from .._seeds import check_seeds
from ..head import SubspaceHeadClassifier
from ..projection import PROJECTION_FAMILIES
from ._distiller import SubspaceDistiller, check_student, student_kwargs
from ._result import METHODS, DistillationComparison
from ._students import StudentMLP
from ._training import (
    OPTIMIZERS,
    TargetScale,
    build_module,
    check_option,
    check_positive_int,
    check_sample_weight,
    cross_entropy_loss,
    fit_student,
    kd_loss,
    logits_accuracy,
    mse_loss,
    predict_outputs,
    split_rows,
    student_seeds,
    target_statistics,
    validation_split,
)

# Teacher logits are computed in chunks of this many samples.
_TEACHER_BATCH_SIZE = 512


def _check_alpha(alpha):
    alpha = check_real("alpha", alpha, low=0.0)
    if alpha > 1.0:
        raise ValueError(
            f"alpha must be in [0, 1] (the weight of the soft-target term), got {alpha}."
        )
    return alpha


def _check_methods(methods):
    if isinstance(methods, str):
        methods = [methods]
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(
            f"Unknown methods {unknown!r}. Valid methods: "
            f"{', '.join(repr(m) for m in METHODS)}."
        )
    return [m for m in METHODS if m in methods]


def _check_ks(n_components, n_features):
    if isinstance(n_components, numbers.Integral) and not isinstance(
        n_components, bool
    ):
        n_components = [n_components]
    ks = [check_positive_int("n_components", k) for k in n_components]
    if not ks:
        raise ValueError("n_components is empty; pass at least one k.")
    too_big = [k for k in ks if k > n_features]
    if too_big:
        raise ValueError(
            f"n_components {too_big} exceed the teacher feature dimension "
            f"d={n_features}; a projection can only compress. Use k <= {n_features}."
        )
    return sorted(set(ks))


def _features(F, name, n_samples):
    F = check_array(F, dtype=np.float32, ensure_all_finite=True, input_name=name)
    if F.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {F.shape[0]} rows but the matching X has {n_samples} "
            "samples. Pass one row of teacher features per sample, in the same order."
        )
    return np.ascontiguousarray(F)


def _teacher_features(teacher, X_train, X_test, F_train, F_test):
    """Training and test teacher features, and the seconds it took."""
    start = time.perf_counter()
    if teacher is not None:
        if F_train is not None or F_test is not None:
            raise ValueError(
                "Pass either a teacher or precomputed teacher features, not both."
            )
        try:
            check_is_fitted(teacher)
        except NotFittedError:
            teacher = clone(teacher)
            F_train = teacher.fit_transform(X_train)
        else:
            F_train = teacher.transform(X_train)
        F_test = teacher.transform(X_test)
    elif F_train is None:
        raise ValueError(
            "distillation_comparison needs the teacher: pass teacher= (a "
            "TorchFeatureExtractor) or teacher_features= (features of X_train)."
        )
    F_train = _features(F_train, "teacher_features", len(X_train))
    if F_test is not None:
        F_test = _features(F_test, "teacher_features_test", len(X_test))
        if F_test.shape[1] != F_train.shape[1]:
            raise ValueError(
                f"teacher_features_test has {F_test.shape[1]} columns but "
                f"teacher_features has {F_train.shape[1]}; both must come from "
                "the same teacher layer."
            )
    return F_train, F_test, time.perf_counter() - start


def _module_logits(module, X):
    """Logits of a teacher module on ``X``, on the module's device."""
    params = list(module.parameters()) if isinstance(module, nn.Module) else []
    device = params[0].device if params else torch.device("cpu")
    was_training = getattr(module, "training", False)
    if isinstance(module, nn.Module):
        module.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(X), _TEACHER_BATCH_SIZE):
            batch = torch.as_tensor(
                X[start : start + _TEACHER_BATCH_SIZE], device=device
            )
            outputs.append(torch.as_tensor(module(batch)).float().cpu())
    if isinstance(module, nn.Module):
        module.train(was_training)
    return torch.cat(outputs).numpy()


def _head_logits(head, F):
    scores = np.asarray(head.decision_function(F), dtype=np.float32)
    if scores.ndim == 1:  # binary: the log-odds of classes_[1]
        scores = np.stack([-scores / 2, scores / 2], axis=1)
    return scores


def _n_params(module):
    return int(sum(p.numel() for p in module.parameters()))


def _head_params(head, n_inputs, n_classes):
    module = getattr(getattr(head, "net_", None), "module_", None)
    if isinstance(module, nn.Module):
        return _n_params(module)
    return n_inputs * n_classes + n_classes  # a linear head


class _Run:
    """Everything one seed's students share: data, split, seeds, settings."""

    def __init__(self, seed, X, y_idx, weights, settings, device, student):
        self.seed = seed
        self.seeds = student_seeds(seed)
        self.settings = settings
        self.device = device
        self.student = student
        self.X = X
        self.y_idx = y_idx
        self.weights = weights
        self.split = validation_split(
            y_idx, settings["validation_fraction"], self.seeds["split"]
        )
        self.train_idx, self.valid_idx = split_rows(self.split, y_idx)

    def build(self, n_outputs, X):
        kwargs = student_kwargs(
            self.student, self.settings["student_params"], n_outputs
        )
        module, output = build_module(
            self.student, kwargs, self.seeds["init"], torch.as_tensor(X[:1])
        )
        if tuple(output.shape) != (1, n_outputs):
            raise ValueError(
                f"The student built with n_outputs={n_outputs} gives outputs of "
                f"shape {tuple(output.shape)} for one sample. The comparison needs "
                "a student whose output width follows its n_outputs argument, "
                "as StudentMLP's does."
            )
        return module.to(self.device)

    def head_fit_params(self):
        """``sample_weight`` of the training part for a head's ``fit``."""
        if self.weights is None:
            return {}
        return {"sample_weight": self.weights[self.train_idx]}

    def train(self, module, targets, loss_fn, score_fn, name):
        """Train ``module`` on ``(labels, *targets[, weights])``."""
        s = self.settings
        weights = () if self.weights is None else (self.weights,)
        history, best, _ = fit_student(
            module,
            self.X,
            (self.y_idx, *targets, *weights),
            loss_fn,
            settings={**s, "verbose": max(0, s["verbose"] - 1)},
            seeds=self.seeds,
            split=self.split,
            score_fn=score_fn,
            device=self.device,
            name=name,
        )
        return history, best


def distillation_comparison(
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    teacher=None,
    teacher_features=None,
    teacher_features_test=None,
    teacher_logits=None,
    student=StudentMLP,
    student_params=None,
    n_components=(16, 64, 256),
    methods=METHODS,
    seeds=3,
    projection="gaussian",
    head=None,
    optimizer="adamw",
    lr=1e-3,
    weight_decay=1e-4,
    max_epochs=200,
    batch_size=128,
    validation_fraction=0.1,
    tol=1e-4,
    patience=10,
    temperature=4.0,
    alpha=0.9,
    sample_weight=None,
    class_weight=None,
    callbacks=None,
    device="auto",
    random_state=0,
    verbose=0,
):
    """Compare subspace-native distillation with three ways to train a student.

    The same student architecture is trained with the same settings
    (``optimizer``, ``lr``, ``weight_decay``, ``batch_size``) and the same
    stopping rule, on the same training part, batch order and initial body
    weights for a given seed, through the library's one training engine
    (:mod:`sklearn_subspace.training`). Each student stops once its
    accuracy on a validation part carved from the training data has not
    improved for ``patience`` epochs (at most ``max_epochs``), and the epoch
    with the best validation accuracy is kept; ``tol=None`` gives every
    student exactly ``max_epochs`` epochs instead. The test set is scored
    once per student. Methods:

    - ``"scratch"``: the student with ``n_classes`` outputs, trained with
      cross-entropy on the labels.
    - ``"kd"``: the same student trained on Hinton et al.'s loss
      ``alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) *
      CE(s, y)`` with the teacher's logits ``t`` (see ``teacher_logits`` for
      where they come from).
    - ``"fitnets"`` (for each ``k``): the student with ``k`` outputs followed
      by a learned linear regressor ``k -> d`` is trained to regress the full
      teacher features (MSE); the head trained on the full teacher features
      then classifies the regressor's outputs. Deployed, regressor and head
      fold into one ``k -> n_classes`` linear map, so the deployed size equals
      the subspace student's.
    - ``"subspace"`` (for each ``k``): :class:`SubspaceDistiller` -- the
      student with ``k`` outputs regresses the JL-projected teacher features
      and the head trained on those classifies its outputs.

    Parameters
    ----------
    X_train, X_test : array-like of shape (n_samples, ...)
        Student inputs (numeric; images may keep their shape).
    y_train, y_test : array-like of shape (n_samples,)
        Class labels.
    teacher : TorchFeatureExtractor or None, default=None
        Computes the teacher features of ``X_train`` and ``X_test`` (fitted on
        ``X_train`` when not fitted). Or pass ``teacher_features``.
    teacher_features : array-like of shape (n_train, d), default=None
        Precomputed teacher features of ``X_train``.
    teacher_features_test : array-like of shape (n_test, d), default=None
        Precomputed teacher features of ``X_test``; they only feed the
        ``teacher_feature_accuracy`` column and the teacher reference row.
    teacher_logits : torch.nn.Module, callable, array-like or None, default=None
        The logits Hinton KD distils:

        - a module or callable mapping a float32 batch of ``X`` to logits --
          the teacher network's own classifier output (the recommended
          choice when the teacher has one);
        - an array of shape (n_train, n_classes) of precomputed logits;
        - ``None``: the decision function of the head trained on the full
          teacher features (a linear head by default), fitted per seed on
          the training part.

        ``DistillationComparison.teacher_logits_source`` records which.
    student : nn.Module subclass or callable, default=StudentMLP
        Builds the student; must take ``n_outputs`` (the output width), as
        :class:`StudentMLP` does.
    student_params : dict or None, default=None
        Other keyword arguments for ``student``.
    n_components : int or list of int, default=(16, 64, 256)
        Values of ``k`` for the FitNets and subspace students.
    methods : list of str, default=("scratch", "kd", "fitnets", "subspace")
        Methods to run.
    seeds : int or list of int, default=3
        Number of repeats (seeds ``random_state``, ``random_state + 1``, ...)
        or the seeds themselves. Each seed changes the split, initial
        weights, batch order, projection and heads.
    projection : str, default="gaussian"
        Projection family of the subspace students.
    head : classifier or None, default=None
        Template of the heads trained on teacher features (the subspace
        heads and the full-d head); ``None`` uses
        ``SubspaceHeadClassifier(device=device)``.
    optimizer : {"adamw", "sgd"}, default="adamw"
        Student optimizer.
    lr, weight_decay : float, default=1e-3, 1e-4
        Student optimizer settings.
    max_epochs, batch_size : int, default=200, 128
        Cap on each student's epochs, and the mini-batch size. A student
        that reaches the cap before its stopping rule fired warns with a
        ``ConvergenceWarning``.
    validation_fraction : float, default=0.1
        Share of the training data held out (stratified) to stop and to
        select the best epoch; the same rows for every method of a seed.
    tol : float or None, default=1e-4
        Relative improvement of the validation accuracy that counts. ``None``
        trains every student for exactly ``max_epochs`` epochs (the best
        validation epoch is still kept): a fixed, equal budget.
    patience : int, default=10
        Epochs without an improvement before a student stops.
    temperature, alpha : float, default=4.0, 0.9
        Hinton KD temperature and weight of the soft-target term.
    sample_weight : array-like of shape (n_train,) or None, default=None
        Weights of the training samples. They weigh every student's loss
        (a weighted mean over each batch) and are passed as
        ``sample_weight`` to every head fitted on teacher features (the
        full-d head and the subspace heads). Validation and test
        accuracies are unweighted.
    class_weight : dict, "balanced" or None, default=None
        Class weights as in scikit-learn, multiplied into ``sample_weight``
        (so they reach the students and the heads alike). Leave the head
        template's own ``class_weight`` unset, or classes are weighted
        twice.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks for every student's training net, run after
        the library's own; the same instances serve every student in turn.
    device : str or torch.device, default="auto"
        Where students train.
    random_state : int, default=0
        Base seed.
    verbose : int, default=0
        1 prints one line per trained student; 2 also each epoch.

    Returns
    -------
    DistillationComparison
        Per-run table, summary, markdown table and learning curves.

    See Also
    --------
    SubspaceDistiller : The subspace-native student on its own.

    References
    ----------
    .. [1] G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a
       Neural Network", 2015.
    .. [2] A. Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_subspace.distill import distillation_comparison
    >>> from sklearn_subspace.head import SubspaceHeadClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X.astype(np.float32) / 16
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> # A stand-in "teacher": fixed random ReLU features of the pixels.
    >>> W = np.random.default_rng(0).standard_normal((64, 256)).astype(np.float32)
    >>> result = distillation_comparison(
    ...     X_train[:300], y_train[:300], X_test, y_test,
    ...     teacher_features=np.maximum(X_train[:300] @ W, 0),
    ...     n_components=[16], methods=["scratch", "subspace"], seeds=2,
    ...     max_epochs=3, head=SubspaceHeadClassifier(max_epochs=3),
    ...     device="cpu")
    >>> result.summary()[["method", "n_components", "n_seeds"]]
         method  n_components  n_seeds
    0   scratch             NaN        2
    1  subspace            16.0        2
    """
    # The teacher reads the inputs as given (e.g. uint8 images get its own
    # preprocessing); the students read float32 copies.
    X_train_raw, X_test_raw = X_train, X_test
    X_train = check_array(
        X_train,
        dtype=np.float32,
        allow_nd=True,
        ensure_all_finite=True,
        input_name="X_train",
    )
    X_test = check_array(
        X_test,
        dtype=np.float32,
        allow_nd=True,
        ensure_all_finite=True,
        input_name="X_test",
    )
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test)
    check_consistent_length(X_train, y_train)
    check_consistent_length(X_test, y_test)
    check_classification_targets(y_train)
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"X_train samples have shape {X_train.shape[1:]} but X_test samples "
            f"have shape {X_test.shape[1:]}; they must match."
        )
    methods = _check_methods(methods)
    seed_list = check_seeds(seeds, random_state)
    check_student(student, student_params)
    if not _accepts_n_outputs(student, student_params):
        raise TypeError(
            "distillation_comparison builds the student with several output "
            "widths, so the student must take an n_outputs argument (as "
            "StudentMLP does)."
        )
    check_option("projection", projection, PROJECTION_FAMILIES)
    check_option("optimizer", optimizer, OPTIMIZERS)
    settings = {
        "optimizer": optimizer,
        "lr": check_real("lr", lr, low=0.0, low_inclusive=False),
        "weight_decay": check_real("weight_decay", weight_decay, low=0.0),
        "max_epochs": check_positive_int("max_epochs", max_epochs),
        "batch_size": check_positive_int("batch_size", batch_size),
        "validation_fraction": check_real(
            "validation_fraction",
            validation_fraction,
            low=0.0,
            high=1.0,
            low_inclusive=False,
        ),
        "tol": None if tol is None else check_real("tol", tol, low=0.0),
        "patience": check_positive_int("patience", patience),
        "callbacks": _check_callbacks(callbacks),
        "temperature": check_real(
            "temperature", temperature, low=0.0, low_inclusive=False
        ),
        "alpha": _check_alpha(alpha),
        "student_params": dict(student_params or {}),
        "verbose": int(verbose),
    }
    device = resolve_device(device)
    head = SubspaceHeadClassifier(device=str(device)) if head is None else head
    classes, y_idx = np.unique(y_train, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("y_train must hold at least 2 classes.")
    weights = _training_weights(sample_weight, class_weight, y_train)

    F_train, F_test, teacher_time = _teacher_features(
        teacher, X_train_raw, X_test_raw, teacher_features, teacher_features_test
    )
    ks = (
        _check_ks(n_components, F_train.shape[1])
        if ({"fitnets", "subspace"} & set(methods))
        else []
    )
    logits_train, logits_test, logits_source = _teacher_logits(
        teacher_logits, X_train, X_test, len(classes)
    )

    rows, histories = [], {}
    wall_start = time.perf_counter()

    def record(
        method,
        k,
        seed,
        accuracy,
        n_params,
        train_time,
        history,
        best_epoch,
        ceiling=np.nan,
    ):
        rows.append(
            {
                "method": method,
                "n_components": np.nan if k is None else int(k),
                "seed": int(seed),
                "test_accuracy": float(accuracy),
                "teacher_feature_accuracy": float(ceiling),
                "deployed_params": int(n_params),
                "train_time": float(train_time),
                "best_epoch": int(best_epoch),
                "n_epochs": len(history["epoch"]) if history else 0,
            }
        )
        if history:
            histories[(method, k, int(seed))] = history
        if verbose > 0:
            label = method if k is None else f"{method} k={k}"
            print(
                f"seed {seed}  {label:<16} test accuracy {accuracy:.4f}  "
                f"({train_time:.1f} s)",
                flush=True,
            )

    def accuracy(y_pred):
        return float(np.mean(np.asarray(y_pred) == y_test))

    teacher_module = (
        teacher_logits if logits_source == "teacher network output" else None
    )
    for seed in seed_list:
        run = _Run(seed, X_train, y_idx, weights, settings, device, student)
        tr = run.train_idx

        # The head on the full d-dim teacher features: FitNets' classifier,
        # the teacher reference, and KD's logits when none are given.
        full_head, full_head_time = None, 0.0
        needs_full_head = (
            "fitnets" in methods
            or ("kd" in methods and logits_train is None)
            or (teacher_module is None and F_test is not None)  # the reference
        )
        if needs_full_head:
            start = time.perf_counter()
            full_head = _seeded_clone(head, run.seeds["head"]).fit(
                F_train[tr], y_train[tr], **run.head_fit_params()
            )
            full_head_time = time.perf_counter() - start
        reference = np.nan
        if teacher_module is not None:
            reference = accuracy(classes[logits_test.argmax(axis=1)])
        elif full_head is not None and F_test is not None:
            reference = accuracy(full_head.predict(F_test))
        if not np.isnan(reference):
            n_params = (
                _n_params(teacher_module)
                if isinstance(teacher_module, nn.Module)
                else np.nan
            )
            rows.append(
                {
                    "method": "teacher",
                    "n_components": np.nan,
                    "seed": int(seed),
                    "test_accuracy": reference,
                    "teacher_feature_accuracy": np.nan,
                    "deployed_params": n_params,
                    "train_time": np.nan,
                    "best_epoch": 0,
                    "n_epochs": 0,
                }
            )

        if "scratch" in methods:
            start = time.perf_counter()
            module = run.build(len(classes), X_train)
            history, best = run.train(
                module, (), cross_entropy_loss, logits_accuracy, "scratch student"
            )
            y_pred = classes[predict_outputs(module, X_test).argmax(1).cpu().numpy()]
            record(
                "scratch",
                None,
                seed,
                accuracy(y_pred),
                _n_params(module),
                time.perf_counter() - start,
                history,
                best,
            )

        if "kd" in methods:
            start = time.perf_counter()
            extra = 0.0
            if logits_train is None:
                logits = _head_logits(full_head, F_train)
                extra = full_head_time
            else:
                logits = logits_train
            module = run.build(len(classes), X_train)
            history, best = run.train(
                module,
                (logits,),
                kd_loss(settings["temperature"], settings["alpha"]),
                logits_accuracy,
                "KD student",
            )
            y_pred = classes[predict_outputs(module, X_test).argmax(1).cpu().numpy()]
            record(
                "kd",
                None,
                seed,
                accuracy(y_pred),
                _n_params(module),
                time.perf_counter() - start + extra,
                history,
                best,
            )

        for k in ks if "fitnets" in methods else []:
            start = time.perf_counter()
            body = run.build(k, X_train)
            regressor, _ = build_module(
                nn.Linear,
                {"in_features": k, "out_features": F_train.shape[1]},
                run.seeds["init"] + 1,
                torch.zeros(1, k),
            )
            network = nn.Sequential(body, regressor.to(device))
            # Standardized targets, as for the subspace student (see TargetScale).
            mean, scale = target_statistics(F_train[tr])
            module = TargetScale(network, mean, scale).to(device)

            def score(outputs, y_true, head=full_head, module=module):
                d_features = module.restore(outputs).cpu().numpy()
                labels = classes[y_true[0].cpu().numpy()]
                return float(np.mean(head.predict(d_features) == labels))

            history, best = run.train(
                network,
                ((F_train - mean) / scale,),
                mse_loss,
                score,
                f"FitNets student k={k}",
            )
            outputs = predict_outputs(module, X_test).cpu().numpy()
            ceiling = (
                accuracy(full_head.predict(F_test)) if F_test is not None else np.nan
            )
            n_params = _n_params(body) + k * len(classes) + len(classes)
            record(
                "fitnets",
                k,
                seed,
                accuracy(full_head.predict(outputs)),
                n_params,
                time.perf_counter() - start + full_head_time,
                history,
                best,
                ceiling,
            )

        for k in ks if "subspace" in methods else []:
            distiller = SubspaceDistiller(
                student,
                n_components=k,
                projection=projection,
                loss="mse",
                optimizer=optimizer,
                lr=settings["lr"],
                max_epochs=settings["max_epochs"],
                batch_size=settings["batch_size"],
                device=device,
                random_state=seed,
                verbose=max(0, verbose - 1),
                student_params=student_params,
                head=head,
                weight_decay=settings["weight_decay"],
                validation_fraction=settings["validation_fraction"],
                tol=settings["tol"],
                patience=settings["patience"],
                callbacks=settings["callbacks"],
            ).fit(X_train, y_train, teacher_features=F_train, sample_weight=weights)
            ceiling = np.nan
            if F_test is not None:
                Z_test = distiller.projection_.transform(F_test)
                ceiling = accuracy(distiller.head_.predict(Z_test))
            n_params = _n_params(distiller.student_) + _head_params(
                distiller.head_, k, len(classes)
            )
            record(
                "subspace",
                k,
                seed,
                accuracy(distiller.predict(X_test)),
                n_params,
                distiller.head_train_time_ + distiller.student_train_time_,
                distiller.history_,
                distiller.best_epoch_,
                ceiling,
            )

    return DistillationComparison(
        rows,
        histories,
        teacher_logits_source=logits_source if "kd" in methods else None,
        n_features=int(F_train.shape[1]),
        n_classes=len(classes),
        settings={
            **settings,
            "temperature": temperature,
            "alpha": alpha,
            "projection": projection,
            "seeds": seed_list,
        },
        teacher_time=teacher_time,
        wall_time=time.perf_counter() - wall_start,
    )


def _check_callbacks(callbacks):
    if callbacks is not None and not isinstance(callbacks, list):
        raise TypeError(
            "callbacks must be a list of skorch callbacks (or (name, callback) "
            f"pairs) or None; got {type(callbacks).__name__}."
        )
    return callbacks


def _training_weights(sample_weight, class_weight, y):
    """Per-sample training weights: ``sample_weight`` times ``class_weight``."""
    weights = check_sample_weight(sample_weight, len(y))
    if class_weight is not None:
        by_class = compute_sample_weight(class_weight, y).astype(np.float32)
        weights = by_class if weights is None else weights * by_class
    return weights


def _seeded_clone(head, seed):
    head = clone(head)
    if "random_state" in head.get_params():
        head.set_params(random_state=seed)
    return head


def _accepts_n_outputs(student, student_params):
    if "n_outputs" in (student_params or {}):
        return False  # fixed by the user: the widths cannot vary
    return "n_outputs" in student_kwargs(student, None, 1)


def _teacher_logits(teacher_logits, X_train, X_test, n_classes):
    """Training and test logits for KD, and where they came from."""
    if teacher_logits is None:
        return None, None, "linear head on full teacher features"
    if callable(teacher_logits):
        train = _module_logits(teacher_logits, X_train)
        test = _module_logits(teacher_logits, X_test)
        source = "teacher network output"
    else:
        train = check_array(
            teacher_logits, dtype=np.float32, input_name="teacher_logits"
        )
        test = None
        source = "given logits"
    if train.shape != (len(X_train), n_classes):
        raise ValueError(
            f"teacher_logits give an array of shape {train.shape} for X_train, "
            f"expected ({len(X_train)}, {n_classes}): one logit per class "
            "(in sorted label order) per training sample."
        )
    return train, test, source
