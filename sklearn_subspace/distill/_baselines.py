"""The distillation experiment: subspace-native students against the baselines.

:func:`distillation_comparison` trains the same student architecture, with the
same settings (optimizer, learning rate, epoch cap, batch size) and stopping
rule, on the same training split and batch order, through the library's one
training engine (see :mod:`._training`), in four ways:

- ``"scratch"``: cross-entropy on the labels;
- ``"kd"``: Hinton et al.'s knowledge distillation on the teacher's logits;
- ``"fitnets"``: FitNets-style regression of the full teacher features;
- ``"subspace"``: subspace-native distillation (:class:`SubspaceDistiller`),
  and, on request, its cosine and mixed loss variants,

and reports the test accuracy over several seeds, paired differences between
methods, the size of the deployed model and the training time. Each method
is a small class in :mod:`._methods`; each (method, k, seed) is one run of
the library's experiment runner (:mod:`sklearn_subspace._experiment`).
"""

import numbers
import os
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
from .._experiment import Experiment, Fingerprint, RowCheckpoint
from .._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
    validate_params,
)
from .._seeds import check_seeds
from ..head import SubspaceHeadClassifier
from ..projection import PROJECTION_FAMILIES
from ..training import fixed_threads
from ._distiller import check_student, student_kwargs
from ._methods import (
    ALL_METHODS,
    COMPARISON_ROWS,
    METHODS,
    REGISTRY,
    ComparisonData,
    RunConfig,
    fit_seed_work,
)
from ._methods import run_config as _run_config
from ._result import DistillationComparison
from ._students import StudentMLP
from ._training import OPTIMIZERS, SEED_NAMES, check_sample_weight

# Teacher logits are computed in chunks of this many samples.
_TEACHER_BATCH_SIZE = 512


def _check_methods(methods):
    if isinstance(methods, str):
        methods = [methods]
    methods = list(methods)
    unknown = [m for m in methods if m not in ALL_METHODS]
    if unknown or not methods:
        raise ValueError(
            f"Unknown methods {unknown!r}. Valid methods: "
            f"{', '.join(repr(m) for m in ALL_METHODS)}."
        )
    return [m for m in ALL_METHODS if m in methods]


def _check_ks(n_components, n_features):
    if isinstance(n_components, numbers.Integral):
        n_components = [n_components]
    ks = list(n_components)
    if not ks:
        raise ValueError("n_components is empty; pass at least one k.")
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, numbers.Integral)]
    if bad or min(ks) < 1:
        raise ValueError(
            f"n_components must hold ints >= 1 (the values of k), got {ks!r}."
        )
    too_big = [int(k) for k in ks if k > n_features]
    if too_big:
        raise ValueError(
            f"n_components {too_big} exceed the teacher feature dimension "
            f"d={n_features}; a projection can only compress. Use k <= {n_features}."
        )
    return sorted({int(k) for k in ks})


def _check_teacher(teacher):
    if isinstance(teacher, nn.Module):
        raise TypeError(
            f"teacher is a bare torch module ({type(teacher).__name__}), but the "
            "comparison needs the features of one of its layers. Wrap it: "
            "teacher=TorchFeatureExtractor(model=module, layer=...) chooses the "
            "layer the students distil; or compute the features yourself and "
            "pass teacher_features= (and teacher_features_test=). For Hinton "
            "KD, pass the module as teacher_logits= too."
        )


def _check_student(student, student_params):
    check_student(student, student_params)
    if "n_outputs" in (student_params or {}):
        raise ValueError(
            "student_params sets n_outputs, but the comparison sets it itself: "
            "n_classes outputs for the scratch and KD students, k for the "
            "FitNets and subspace students. Remove n_outputs from "
            "student_params."
        )
    if "n_outputs" not in student_kwargs(student, None, 1):
        raise TypeError(
            "distillation_comparison builds the student with several output "
            "widths, so the student must take an n_outputs argument (as "
            "StudentMLP does)."
        )


def _check_inputs(X_train, y_train, X_test, y_test):
    """Float32 copies of the inputs, the labels, the classes and their indices."""
    X_train, X_test = (
        check_array(X, dtype=np.float32, allow_nd=True, input_name=name)
        for X, name in ((X_train, "X_train"), (X_test, "X_test"))
    )
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    check_consistent_length(X_train, y_train)
    check_consistent_length(X_test, y_test)
    check_classification_targets(y_train)
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"X_train samples have shape {X_train.shape[1:]} but X_test samples "
            f"have shape {X_test.shape[1:]}; they must match."
        )
    classes, y_idx = np.unique(y_train, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("y_train must hold at least 2 classes.")
    return X_train, y_train, X_test, y_test, classes, y_idx


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


def _network_inputs(X):
    """What a plain module reads: uint8 scaled to [0, 1], else float32 as is."""
    X = np.asarray(X)
    if X.dtype == np.uint8:
        return X.astype(np.float32) / 255.0
    return check_array(X, dtype=np.float32, allow_nd=True, input_name="X")


def _module_logits(module, X):
    """Logits of a teacher module on ``X``, on the module's device."""
    params = list(module.parameters()) if isinstance(module, nn.Module) else []
    device = params[0].device if params else torch.device("cpu")
    was_training = getattr(module, "training", False)
    if isinstance(module, nn.Module):
        module.eval()
    outputs = []
    try:
        with torch.inference_mode():
            for start in range(0, len(X), _TEACHER_BATCH_SIZE):
                batch = X[start : start + _TEACHER_BATCH_SIZE]
                batch = torch.as_tensor(batch, device=device)
                outputs.append(torch.as_tensor(module(batch)).float().cpu())
    except (RuntimeError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(
            f"teacher_logits failed on the inputs: it is called on float32 "
            f"batches of X of shape (batch, {', '.join(map(str, X.shape[1:]))}) "
            "(uint8 images scaled to [0, 1], nothing else changed: no channel "
            f"axis added, no resizing), and raised {type(exc).__name__}: {exc} "
            "Pass a teacher_logits network that takes such batches (for "
            "grayscale images of shape (n, H, W), give X a channel axis, "
            "X[:, None]), or pass its logits as an array of shape "
            "(n_train, n_classes)."
        ) from exc
    finally:
        if isinstance(module, nn.Module):
            module.train(was_training)
    return torch.cat(outputs).numpy()


def _teacher_logits(teacher_logits, X_train, X_test, n_classes):
    """Training and test logits for KD, and where they came from."""
    if teacher_logits is None:
        return None, None, "linear head on full teacher features"
    if callable(teacher_logits):
        train = _module_logits(teacher_logits, _network_inputs(X_train))
        test = _module_logits(teacher_logits, _network_inputs(X_test))
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


def _training_weights(sample_weight, class_weight, y):
    """Per-sample training weights: ``sample_weight`` times ``class_weight``."""
    weights = check_sample_weight(sample_weight, len(y))
    if class_weight is not None:
        by_class = compute_sample_weight(class_weight, y).astype(np.float32)
        weights = by_class if weights is None else weights * by_class
    return weights


def _configurations(methods, ks, seeds, data):
    """Every (method, k, seed), in the table's order; the teacher row first."""
    reference = data.teacher_test_pred is not None or any(
        REGISTRY[m].needs_full_head(data) for m in ("teacher", *methods)
    )
    configs = []
    for seed in seeds:
        if reference:
            configs.append(RunConfig("teacher", None, seed))
        for method in methods:
            per_k = ks if REGISTRY[method].per_k else [None]
            configs += [RunConfig(method, k, seed) for k in per_k]
    return configs


def _with_seed_work(data, methods, todo, n_threads):
    """Fit each seed's full-d head once, for the seeds whose runs need it."""
    uses_head = {m for m in methods if REGISTRY[m].needs_full_head(data)}
    if uses_head or REGISTRY["teacher"].needs_full_head(data):
        uses_head.add("teacher")  # its row reports the head's fit time
    seeds = dict.fromkeys(c.seed for c in todo if c.method in uses_head)
    work = {}
    for seed in seeds:
        with fixed_threads(n_threads):
            work[seed] = fit_seed_work(data, seed)
    return data._replace(seed_work=work)


def _fingerprint(data, n_threads, logits_source):
    """Everything a run's result depends on besides its (method, k, seed)."""
    fingerprint = Fingerprint().add_text("distillation-comparison|")
    for a in (data.X_train, data.y_train, data.X_test, data.y_test, data.F_train):
        fingerprint.add_array(a)
    for value in (data.F_test, data.teacher_logits, data.teacher_test_pred):
        fingerprint.add_value(value)
    fingerprint.add_text(f"|{logits_source}|{SEED_NAMES}|")
    fingerprint.add_value(data.weights).add_value(data.student)
    fingerprint.add_value(data.head).add_value(data.teacher_params)
    # Printing changes no result.
    fingerprint.add_value({k: v for k, v in data.settings.items() if k != "verbose"})
    return fingerprint.add_environment(
        device=data.device, n_threads=n_threads
    ).hexdigest()


def _n_jobs(n_jobs, client, device):
    """``n_jobs``, except that a GPU run's default is one process."""
    if n_jobs is None and client is None and device.type != "cpu":
        return 1  # one GPU: students share it better in one process
    return n_jobs


def _announce(row):
    """The line ``verbose=1`` prints for a trained student."""
    if row["method"] == "teacher":
        return
    k = row["n_components"]
    label = row["method"] if k is None else f"{row['method']} k={k}"
    print(
        f"seed {row['seed']}  {label:<16} test accuracy "
        f"{row['test_accuracy']:.4f}  ({row['train_time']:.1f} s)",
        flush=True,
    )


def _describe(row):
    k = row["n_components"]
    return row["method"] if k is None else f"{row['method']} k={k}"


def _report(rows, data, methods, seeds, logits_source, times, checkpoint):
    histories = {
        (r["method"], r["n_components"], r["seed"]): r["history"]
        for r in rows
        if r["history"]
    }
    predictions = {
        (r["method"], r["n_components"], r["seed"]): data.classes[r["predictions"]]
        for r in rows
        if len(r["predictions"])
    }
    settings = {k: v for k, v in data.settings.items() if k != "callbacks"}
    return DistillationComparison(
        rows,
        histories,
        teacher_logits_source=logits_source if "kd" in methods else None,
        n_features=int(data.F_train.shape[1]),
        n_classes=len(data.classes),
        settings={**settings, "seeds": seeds},
        teacher_time=times[0],
        wall_time=time.perf_counter() - times[1],
        predictions=predictions,
        y_test=data.y_test,
        checkpoint_path=None if checkpoint is None else checkpoint.path,
    )


def _teacher_params(teacher_logits):
    """Parameters of a teacher network (its deployed size), else NaN."""
    if isinstance(teacher_logits, nn.Module):
        return float(sum(p.numel() for p in teacher_logits.parameters()))
    return float("nan")


def _comparison_data(
    arrays, *, teacher, weights, n_components, student, head, settings, device
):
    """Check the data, compute the teacher's features and logits once.

    Returns the :class:`ComparisonData` (without the per-seed work yet), the
    values of ``k``, where KD's logits come from and the seconds the teacher
    features took.
    """
    X_train, y_train, X_test, y_test = arrays
    teacher, F_train, F_test, teacher_logits = teacher
    # The teacher reads the inputs as given (e.g. uint8 images get its own
    # preprocessing); the students read float32 copies.
    X_tr, y_tr, X_te, y_te, classes, y_idx = _check_inputs(*arrays)
    sample_weight = _training_weights(*weights, y_tr)
    F_train, F_test, teacher_time = _teacher_features(
        teacher, X_train, X_test, F_train, F_test
    )
    ks = [] if n_components is None else _check_ks(n_components, F_train.shape[1])
    logits, logits_test, logits_source = _teacher_logits(
        teacher_logits, X_train, X_test, len(classes)
    )
    device = resolve_device(device)
    data = ComparisonData(
        X_train=X_tr,
        y_train=y_tr,
        y_idx=y_idx,
        classes=classes,
        weights=sample_weight,
        X_test=X_te,
        y_test=y_te,
        F_train=F_train,
        F_test=F_test,
        teacher_logits=logits,
        teacher_test_pred=None if logits_test is None else logits_test.argmax(1),
        teacher_params=_teacher_params(teacher_logits),
        seed_work={},
        student=student,
        head=SubspaceHeadClassifier(device=str(device)) if head is None else head,
        settings=settings,
        device=device,
    )
    return data, ks, logits_source, teacher_time


def _checkpoint(checkpoint_dir, data, n_threads, logits_source):
    if checkpoint_dir is None:
        return None
    fingerprint = _fingerprint(data, n_threads, logits_source)
    return RowCheckpoint(checkpoint_dir, fingerprint, COMPARISON_ROWS)


_POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")


@validate_params(
    {
        "X_train": ["array-like"],
        "y_train": ["array-like"],
        "X_test": ["array-like"],
        "y_test": ["array-like"],
        # A bare module passes here to be refused with the way to wrap it.
        "teacher": [HasMethods(["transform"]), None, Hidden(nn.Module)],
        "teacher_features": ["array-like", None],
        "teacher_features_test": ["array-like", None],
        "teacher_logits": [callable, "array-like", None],
        "student": [callable],
        "student_params": [dict, None],
        "n_components": [_POSITIVE_INT, "array-like"],
        "methods": [StrOptions(set(ALL_METHODS)), "array-like"],
        "seeds": [_POSITIVE_INT, "array-like"],
        "projection": [StrOptions(set(PROJECTION_FAMILIES))],
        "head": [HasMethods(["fit", "predict"]), None],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "max_epochs": [_POSITIVE_INT],
        "batch_size": [_POSITIVE_INT],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "tol": [Interval(numbers.Real, 0, None, closed="left"), None],
        "patience": [_POSITIVE_INT],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "mixed_alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "sample_weight": ["array-like", numbers.Real, None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "checkpoint_dir": [str, os.PathLike, None],
        "n_jobs": [numbers.Integral, None],
        "client": [HasMethods(["submit"]), None],
        "n_threads": [_POSITIVE_INT, None],
        "progress": ["boolean"],
    },
    # The head template and the distillers' settings are validated when fitted.
    prefer_skip_nested_validation=False,
)
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
    mixed_alpha=0.5,
    sample_weight=None,
    class_weight=None,
    callbacks=None,
    device="auto",
    random_state=0,
    verbose=0,
    checkpoint_dir=None,
    n_jobs=None,
    client=None,
    n_threads=1,
    progress=False,
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

    These four are :data:`METHODS`, the default. Two variants of the
    subspace student are opt-in through ``methods=``:
    ``"subspace-cosine"`` (``SubspaceDistiller(loss="cosine")``, directions
    only) and ``"subspace-mixed"`` (``SubspaceDistiller(loss="mixed",
    alpha=mixed_alpha)``, the head's cross-entropy plus the regression).

    Every (method, k, seed) is one run of the library's experiment runner:
    serially, in ``n_jobs`` worker processes or on a dask ``client``, each
    under ``n_threads`` CPU threads, and checkpointed with
    ``checkpoint_dir``. What the students of a seed share -- the head on the
    full teacher features and KD's logits from it -- is computed once per
    seed before the runs start. Every run keeps its test predictions, so
    that :meth:`DistillationComparison.paired_differences` compares methods
    seed by seed and sample by sample.

    Parameters
    ----------
    X_train, X_test : array-like of shape (n_samples, ...)
        Student inputs (numeric; images may keep their shape).
    y_train, y_test : array-like of shape (n_samples,)
        Class labels.
    teacher : TorchFeatureExtractor or None, default=None
        Computes the teacher features of ``X_train`` and ``X_test`` (fitted on
        ``X_train`` when not fitted). Or pass ``teacher_features``. A bare
        ``nn.Module`` is refused: wrap it in
        ``TorchFeatureExtractor(model=module)`` to say which layer's
        features the students distil.
    teacher_features : array-like of shape (n_train, d), default=None
        Precomputed teacher features of ``X_train``.
    teacher_features_test : array-like of shape (n_test, d), default=None
        Precomputed teacher features of ``X_test``; they only feed the
        ``teacher_feature_accuracy`` column and the teacher reference row.
    teacher_logits : torch.nn.Module, callable, array-like or None, default=None
        The logits Hinton KD distils:

        - a module or callable mapping a float32 batch of ``X`` to logits --
          the teacher network's own classifier output (the recommended
          choice when the teacher has one). It reads ``X`` as a plain module
          given to :class:`~sklearn_subspace.teachers.TorchFeatureExtractor`
          does: uint8 arrays scaled to [0, 1], other arrays as float32,
          shapes unchanged;
        - an array of shape (n_train, n_classes) of precomputed logits;
        - ``None``: the decision function of the head trained on the full
          teacher features (a linear head by default), fitted per seed on
          the training part.

        ``DistillationComparison.teacher_logits_source`` records which.
    student : nn.Module subclass or callable, default=StudentMLP
        Builds the student; must take ``n_outputs`` (the output width), as
        :class:`StudentMLP` does.
    student_params : dict or None, default=None
        Other keyword arguments for ``student``; not ``n_outputs``, which
        the comparison sets (``n_classes`` or ``k``).
    n_components : int or list of int, default=(16, 64, 256)
        Values of ``k`` for the FitNets and subspace students.
    methods : list of str, default=("scratch", "kd", "fitnets", "subspace")
        Methods to run: any of :data:`METHODS`, ``"subspace-cosine"`` and
        ``"subspace-mixed"``.
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
    mixed_alpha : float in [0, 1], default=0.5
        The ``alpha`` of ``"subspace-mixed"``: the weight of the head's
        cross-entropy against the regression loss.
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
        the library's own; the same instances serve every student in turn
        (in worker processes, copies of them).
    device : str or torch.device, default="auto"
        Where students train.
    random_state : int, RandomState instance or None, default=0
        Base seed (see ``seeds``).
    verbose : int, default=0
        1 prints one line per trained student; 2 also each epoch.
    checkpoint_dir : str or path-like, default=None
        When set, each finished run is appended to a CSV file in this folder
        (its test predictions to ``.npy`` files beside it), and a rerun with
        the same data, teacher features and logits, student, head and
        settings skips the runs already there: a comparison killed mid-way
        resumes where it stopped. The seeds must then be the same
        (``random_state`` an int, or ``seeds`` explicit).
    n_jobs : int, default=None
        Runs trained in parallel in joblib worker processes. ``None`` uses
        one worker per usable CPU core for students on the CPU, unless the
        comparison is small (fewer than 10^8 input values read in all,
        ``X_train.size * max_epochs * n_runs``), and 1 on a GPU. Results
        are identical to a serial run.
    client : dask.distributed.Client, default=None
        When given, the runs go to this dask cluster through joblib's dask
        backend.
    n_threads : int or None, default=1
        CPU threads (torch and BLAS) for each run and for each seed's full-d
        head: small students gain nothing from more, and a fixed count makes
        each result independent of where it runs. ``None`` keeps the
        current settings.
    progress : bool, default=False
        Whether to show a tqdm progress bar over the runs.

    Returns
    -------
    DistillationComparison
        Per-run table, summary, paired differences, markdown table and
        learning curves.

    Raises
    ------
    ValueError
        For an argument of the wrong type or out of range (scikit-learn's
        ``InvalidParameterError``, a ``TypeError`` too), unknown methods,
        ``k > d``, labels of one class, teacher features or logits of the
        wrong shape, ``n_outputs`` in ``student_params``, or a
        ``teacher_logits`` network that fails on the inputs.
    TypeError
        For a bare ``nn.Module`` as ``teacher``, or a student without an
        ``n_outputs`` argument.

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
    >>> result.paired_differences()[["baseline", "method", "n_seeds"]]
      baseline    method  n_seeds
    0  scratch  subspace        2
    """
    _check_teacher(teacher)
    _check_student(student, student_params)
    methods = _check_methods(methods)
    seed_list = check_seeds(seeds, random_state)
    settings = {
        "optimizer": optimizer,
        "lr": float(lr),
        "weight_decay": float(weight_decay),
        "max_epochs": int(max_epochs),
        "batch_size": int(batch_size),
        "validation_fraction": float(validation_fraction),
        "tol": tol,
        "patience": int(patience),
        "callbacks": callbacks,
        "temperature": temperature,
        "alpha": alpha,
        "mixed_alpha": mixed_alpha,
        "projection": projection,
        "student_params": dict(student_params or {}),
        "verbose": int(verbose),
    }
    data, ks, logits_source, teacher_time = _comparison_data(
        (X_train, y_train, X_test, y_test),
        teacher=(teacher, teacher_features, teacher_features_test, teacher_logits),
        weights=(sample_weight, class_weight),
        # k matters only to the methods that run once per k.
        n_components=(
            n_components if any(REGISTRY[m].per_k for m in methods) else None
        ),
        student=student,
        head=head,
        settings=settings,
        device=device,
    )

    start = time.perf_counter()
    checkpoint = _checkpoint(checkpoint_dir, data, n_threads, logits_source)
    configs = _configurations(methods, ks, seed_list, data)
    experiment = Experiment(configs, key=COMPARISON_ROWS.key, checkpoint=checkpoint)
    data = _with_seed_work(data, methods, experiment.todo, n_threads)
    rows = experiment.run(
        _run_config,
        data,
        n_jobs=_n_jobs(n_jobs, client, data.device),
        work_per_config=data.X_train.size * data.settings["max_epochs"],
        client=client,
        n_threads=n_threads,
        progress=progress,
        desc="distillation comparison",
        describe=_describe,
        on_row=_announce if verbose > 0 else None,
    )
    return _report(
        rows, data, methods, seed_list, logits_source, (teacher_time, start), checkpoint
    )
