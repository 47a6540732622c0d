"""The compression study: extract once, sweep k x projection, baselines, seeds.

One configuration is a (method, k, seed) record, :class:`StudyConfig`.
``method`` is a projection family (a fixed random map, new for each seed),
``"pca"`` (PCA fitted on the training features), ``"learned"`` (a bias-free
bottleneck trained with the head) or ``"full"`` (the head on all ``d``
features, the paper's frozen baseline). Every configuration trains a fresh
head (new initialisation for each seed) on the training features only and
scores the test set once. The configurations run through the library's one
experiment runner (:mod:`sklearn_subspace._experiment`).
"""

import numbers
import os
import time
from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length

from .._device import resolve_device
from .._experiment import Experiment
from .._param_validation import HasMethods, Interval, validate_params
from .._seeds import check_seeds
from ..diagnostics import estimate_intrinsic_dimension
from ..head import SubspaceHeadClassifier
from ..projection import PROJECTION_FAMILIES, JLSubspaceTransformer
from ._checkpoint import STUDY_ROWS, StudyCheckpoint, study_fingerprint
from ._pca import TruncatedPCA, fit_shared_pca
from ._report import StudyResult, assemble_table

#: Baselines the study can run next to the random projections.
BASELINES = ("full", "pca", "learned")

#: Projection families the study sweeps by default.
DEFAULT_PROJECTIONS = ("gaussian", "sparse", "srht")


class StudyConfig(NamedTuple):
    """One configuration of the study: a row of its table."""

    teacher: str
    method: str
    n_components: int
    seed: int


class StudyData(NamedTuple):
    """What every configuration reads: the features, labels and heads."""

    F_train: np.ndarray
    y_train: np.ndarray
    F_test: np.ndarray
    y_test: np.ndarray
    head: object
    learned_head: object
    pca: object  # one PCA shared by every (k, seed), or None
    param_grid: dict | None
    cv: object


def default_n_components(n_features):
    """Default grid of ``k``: powers of two below ``d``, at most eight of them.

    For ``d = 2048`` this is the embedded grid 1024, 512, ..., 8; for
    ``d = 768`` it is 512, 256, ..., 8.

    Parameters
    ----------
    n_features : int
        The feature dimension ``d``.

    Returns
    -------
    list of int
        Decreasing values of ``k``.

    Examples
    --------
    >>> from sklearn_subspace.study._study import default_n_components
    >>> default_n_components(2048)
    [1024, 512, 256, 128, 64, 32, 16, 8]
    >>> default_n_components(768)
    [512, 256, 128, 64, 32, 16, 8]
    """
    ks = []
    k = 1 << int(np.floor(np.log2(max(n_features - 1, 1))))
    while k >= 8 and len(ks) < 8:
        ks.append(k)
        k //= 2
    return ks or [max(1, n_features // 2)]


def _check_names(name, values, valid):
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    unknown = [v for v in values if v not in valid]
    if unknown:
        raise ValueError(
            f"Unknown {name} {', '.join(map(repr, unknown))}. Valid {name}: "
            f"{', '.join(map(repr, valid))}."
        )
    # Keep the user's order but drop repeats.
    return tuple(dict.fromkeys(values))


def _check_n_components(n_components, n_features):
    if n_components is None:
        return default_n_components(n_features)
    if isinstance(n_components, numbers.Integral):
        n_components = (n_components,)
    ks = []
    for k in n_components:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(
                f"n_components must contain ints, got {type(k).__name__}: {k!r}."
            )
        if k < 1:
            raise ValueError(f"n_components must contain ints >= 1, got {k}.")
        if k > n_features:
            raise ValueError(
                f"n_components contains k={k}, which is larger than the feature "
                f"dimension d={n_features}: a projection can only compress. Use "
                f"values of k between 1 and {n_features}."
            )
        ks.append(int(k))
    if not ks:
        raise ValueError("n_components is empty; pass at least one k.")
    return sorted(set(ks), reverse=True)


def _check_methods(projections, baselines, head, learned_head):
    """The projection and baseline names, and the two heads to train."""
    projections = _check_names("projections", projections, PROJECTION_FAMILIES)
    baselines = _check_names("baselines", baselines, BASELINES)
    if not projections and not baselines:
        raise ValueError("Nothing to run: projections and baselines are both empty.")
    head = SubspaceHeadClassifier() if head is None else head
    bottleneck_head = head if learned_head is None else learned_head
    if "learned" in baselines and "bottleneck" not in bottleneck_head.get_params():
        raise ValueError(
            f"The 'learned' baseline needs a head with a 'bottleneck' parameter; "
            f"{type(bottleneck_head).__name__} has none. Use "
            "SubspaceHeadClassifier or drop 'learned' from baselines."
        )
    return projections, baselines, head, bottleneck_head


def _check_features(F, what):
    F = check_array(F, dtype=[np.float32, np.float64], ensure_all_finite=False)
    if not np.isfinite(F).all():
        raise ValueError(
            f"The {what} features contain NaN or infinity. Check the inputs and "
            "the teacher (e.g. a diverging model or fp16 overflow), or clean "
            "the features before running the study."
        )
    return F


def _extract(extractor, X_train, y_train, X_test, y_test):
    """Check the labels and extract the features once; return all four arrays."""
    check_consistent_length(X_train, y_train)
    check_consistent_length(X_test, y_test)
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test)
    check_classification_targets(y_train)
    # Extract once: every configuration reuses these two arrays.
    if extractor is not None:
        extractor = clone(extractor)
        # fit_transform, not fit + transform: fit alone runs a probe sample.
        F_train = extractor.fit_transform(X_train, y_train)
        F_test = extractor.transform(X_test)
    else:
        F_train, F_test = X_train, X_test
    F_train = _check_features(F_train, "training")
    F_test = _check_features(F_test, "test")
    if F_test.shape[1] != F_train.shape[1]:
        raise ValueError(
            f"The test features have {F_test.shape[1]} columns but the training "
            f"features have {F_train.shape[1]}; both must come from the same "
            "teacher."
        )
    return F_train, y_train, F_test, y_test


def _check_pca(baselines, ks, F_train):
    if "pca" in baselines and ks[0] > min(F_train.shape):
        raise ValueError(
            f"The 'pca' baseline cannot keep k={ks[0]} components from "
            f"{F_train.shape[0]} training samples of dimension "
            f"{F_train.shape[1]} (PCA needs k <= min(n_samples, d) = "
            f"{min(F_train.shape)}). Use smaller k, more training samples, or "
            "drop 'pca' from baselines."
        )


def _teacher_name(teacher, extractor):
    if teacher is not None:
        return str(teacher)
    if extractor is None:
        return "features"
    model = extractor.get_params().get("model", None)
    return model if isinstance(model, str) else type(model).__name__


def _configurations(name, projections, baselines, ks, seeds, n_features):
    """Every (teacher, method, k, seed), in the table's order."""
    configs = [
        StudyConfig(name, "full", n_features, s) for s in seeds if "full" in baselines
    ]
    for method in (*projections, *(b for b in ("pca", "learned") if b in baselines)):
        configs += [StudyConfig(name, method, k, s) for k in ks for s in seeds]
    return configs


def _learned_copies(configs, baselines, learned_head, n_classes, param_grid):
    """Learned-bottleneck configurations that are the full head exactly.

    A linear head acts on the features through at most ``n_classes - 1``
    directions (softmax ignores a shift common to all logits), so a linear
    head behind a learned ``d -> k`` bottleneck with ``k >= n_classes - 1``
    can compute exactly what the full-d linear head computes; and every
    local minimum of a deep linear network under a convex loss is a global
    one (Laurent & von Brecht, 2018), so training it reaches that optimum at
    best. Such a row is the full head of its seed, and is not trained: at
    ``d = 2048`` and ``k = 1024`` training it would cost more than the rest
    of the study. Only when the full head runs too, without ``param_grid``.

    Returns
    -------
    dict
        Each such configuration -> the ``"full"`` configuration of its seed.
    """
    hidden = learned_head.get_params().get("hidden_layer_sizes", ())
    if param_grid or "full" not in baselines or hidden:
        return {}
    full = {c.seed: c for c in configs if c.method == "full"}
    return {
        c: full[c.seed]
        for c in configs
        if c.method == "learned" and c.n_components >= n_classes - 1
    }


def _seed_copies(configs, head, n_samples, n_classes, param_grid):
    """Full and PCA configurations whose result no seed changes.

    The full head and the PCA heads see the same features for every seed
    (PCA is exact and fitted once). A head whose fit uses no randomness --
    the linear head solved by full-batch L-BFGS from zero -- then gives
    every seed the same result, so only the first seed is fitted.

    Returns
    -------
    dict
        Each repeated configuration -> the one of the first seed.
    """
    if param_grid or not (
        isinstance(head, SubspaceHeadClassifier)
        and head._seed_free(n_samples, n_classes)
    ):
        return {}
    first, copies = {}, {}
    for c in configs:
        if c.method in ("full", "pca"):
            source = first.setdefault((c.method, c.n_components), c)
            if source is not c:
                copies[c] = source
    return copies


def _rows_with_copies(configs, run, rows, copies):
    """The rows of all ``configs``: those ``run`` and copies of their sources."""
    by_config = dict(zip(run, rows))
    for c in configs:  # a source comes before its copies in this order
        if c in copies:
            row = by_config[copies[c]]
            by_config[c] = dict(
                row, method=c.method, n_components=c.n_components, seed=c.seed
            )
    return [by_config[c] for c in configs]


def _build_model(method, n_components, seed, head, learned_head=None, pca=None):
    if method == "learned" and learned_head is not None:
        head = learned_head
    head = clone(head).set_params(random_state=seed)
    if method == "full":
        reducer = "passthrough"
    elif method == "pca" and pca is not None:
        reducer = TruncatedPCA(pca, n_components)
    elif method == "pca":
        reducer = PCA(n_components=n_components, random_state=seed)
    elif method == "learned":
        reducer = "passthrough"
        head.set_params(bottleneck=n_components)
    else:
        reducer = JLSubspaceTransformer(
            n_components=n_components, projection=method, random_state=seed
        )
    return Pipeline([("reduce", reducer), ("head", head)])


def _run_config(config, data):
    """Fit one configuration on the training features, score the test set once."""
    teacher, method, n_components, seed = config
    model = _build_model(
        method, n_components, seed, data.head, data.learned_head, data.pca
    )
    if data.param_grid:
        # Hyper-parameters are chosen by cross-validation inside the training
        # features only; the test set is never looked at here.
        model = GridSearchCV(
            model, {f"head__{k}": v for k, v in data.param_grid.items()}, cv=data.cv
        )
    start = time.perf_counter()
    model.fit(data.F_train, data.y_train)
    fit_time = time.perf_counter() - start
    test_accuracy = float(np.mean(model.predict(data.F_test) == data.y_test))

    fitted = model.best_estimator_ if data.param_grid else model
    # Epochs for the torch head; sklearn solvers report iterations, maybe
    # per class, and some heads report nothing (-1).
    n_iter = getattr(fitted[-1], "n_iter_", None)
    row = {
        "teacher": teacher,
        "method": method,
        "n_components": int(n_components),
        "seed": int(seed),
        "n_features": int(data.F_train.shape[1]),
        "test_accuracy": test_accuracy,
        "fit_time": fit_time,
        "n_epochs": -1 if n_iter is None else int(np.max(n_iter)),
        "n_classes": int(len(np.unique(data.y_train))),
        # sklearn heads say nothing on success; the torch head records it.
        "converged": bool(getattr(fitted[-1], "converged_", True)),
    }
    if data.param_grid:
        best = sorted(model.best_params_.items())
        row["head_params"] = repr({k.removeprefix("head__"): v for k, v in best})
    return row


def _head_device(head):
    """The device a head trains on, for the checkpoint fingerprint."""
    device = head.get_params().get("device")
    if device is None:
        return None
    try:
        return str(resolve_device(device))
    except (TypeError, ValueError):
        return str(device)  # the head's own fit names the problem


def _checkpoint(checkpoint_dir, name, data, learned_head, n_threads):
    if checkpoint_dir is None:
        return None
    fingerprint = study_fingerprint(
        name,
        *data[:4],
        data.head,
        data.param_grid,
        data.cv,
        learned_head,
        device=_head_device(data.head),
        n_threads=n_threads,
    )
    return StudyCheckpoint(checkpoint_dir, fingerprint)


def _with_shared_pca(data, todo, ks):
    """One exact PCA at the largest k serves every (k, seed) left to run."""
    if any(c.method == "pca" for c in todo) and not data.param_grid:
        # Not under param_grid: there PCA must be refitted inside each fold.
        return data._replace(pca=fit_shared_pca(data.F_train, ks[0]))
    return data


def _describe(row):
    return f"{row['method']} k={row['n_components']}"


@validate_params(
    {
        "X_train": ["array-like"],
        "y_train": ["array-like"],
        "X_test": ["array-like"],
        "y_test": ["array-like"],
        "extractor": [HasMethods(["fit_transform", "transform"]), None],
        "n_components": [
            Interval(numbers.Integral, 1, None, closed="left"),
            "array-like",
            None,
        ],
        "projections": ["array-like", str],
        "baselines": ["array-like", str],
        "seeds": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "head": [HasMethods(["fit", "predict"]), None],
        "learned_head": [HasMethods(["fit", "predict"]), None],
        "param_grid": [dict, None],
        "cv": ["cv_object"],
        "teacher": [str, None],
        "intrinsic_dimension": ["boolean"],
        "checkpoint_dir": [str, os.PathLike, None],
        "n_jobs": [numbers.Integral, None],
        "client": [HasMethods(["submit"]), None],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "progress": ["boolean"],
    },
    # The head templates are validated when each configuration fits them.
    prefer_skip_nested_validation=False,
)
def compression_study(
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    extractor=None,
    n_components=None,
    projections=DEFAULT_PROJECTIONS,
    baselines=BASELINES,
    seeds=3,
    head=None,
    learned_head=None,
    param_grid=None,
    cv=None,
    teacher=None,
    intrinsic_dimension=True,
    checkpoint_dir=None,
    n_jobs=None,
    client=None,
    n_threads=1,
    random_state=0,
    progress=True,
):
    """Measure how test accuracy falls as teacher features are compressed.

    The teacher runs once per sample for the whole study: features are
    extracted once for the training and the test inputs, and every
    configuration then works on those features. For each ``k`` in
    ``n_components`` and each seed, the study fits

    - each random projection family in ``projections`` (a new fixed matrix per
      seed) followed by a fresh head,
    - ``"pca"``: the leading ``k`` components of one exact PCA fitted on the
      training features at the largest ``k`` (the same as ``PCA(k)`` with an
      exact solver, which no seed changes), followed by a fresh head; with
      ``param_grid``, ``PCA(k)`` is refitted inside every fold instead,
    - ``"learned"``: the head with a trained bias-free bottleneck
      ``d -> k`` (``head.set_params(bottleneck=k)``); for a linear head
      and ``k >= n_classes - 1`` (with ``"full"`` and no ``param_grid``)
      the bottleneck can compute exactly what the full head computes, so
      the row is the ``"full"`` row of its seed and is not trained,

    and, once per seed, ``"full"``: the head on all ``d`` features (the
    paper's frozen baseline). Each seed also gives the head a new
    initialisation.

    Model selection is honest: the head's early stopping uses a validation
    split carved from the training data, hyper-parameters in ``param_grid``
    are chosen by cross-validation on the training data, and the test set is
    scored exactly once per configuration.

    Parameters
    ----------
    X_train, X_test : array-like or list
        Teacher inputs (image arrays, image paths, texts, ...) when
        ``extractor`` is given; otherwise precomputed features of shape
        ``(n_samples, d)``.
    y_train, y_test : array-like of shape (n_samples,)
        Class labels.
    extractor : transformer, default=None
        Usually a :class:`~sklearn_subspace.teachers.TorchFeatureExtractor`.
        It is cloned, fitted on ``X_train`` and used to transform ``X_train``
        and ``X_test`` once. ``None`` means the inputs are already features.
    n_components : int or sequence of int, default=None
        The values of ``k``. Each must satisfy ``1 <= k <= d``. ``None`` uses
        up to eight powers of two below ``d`` (1024 ... 8 for ``d = 2048``).
    projections : sequence of str, default=("gaussian", "sparse", "srht")
        Random projection families to sweep; any of
        ``sklearn_subspace.projection.PROJECTION_FAMILIES``.
    baselines : sequence of str, default=("full", "pca", "learned")
        Baselines to run; any of ``"full"``, ``"pca"``, ``"learned"``.
    seeds : int or sequence of int, default=3
        An int ``n`` runs ``n`` repeats with seeds ``random_state``,
        ``random_state + 1``, ... (random seeds when ``random_state`` is not
        an int); a sequence gives the seeds explicitly. A seed sets both the
        projection matrix and the head's initialisation,
        batch order and validation split.
    head : classifier, default=None
        The head to train, cloned for every configuration; its
        ``random_state`` is set to the seed, and for ``"learned"`` (unless
        ``learned_head`` is given) its ``bottleneck`` to ``k``. ``None`` uses
        :class:`~sklearn_subspace.head.SubspaceHeadClassifier` with default
        settings.
    learned_head : classifier, default=None
        The head of the ``"learned"`` baseline, if it should differ from
        ``head``; cloned the same way, with ``bottleneck`` set to ``k``.
        ``None`` uses ``head``. A bottleneck makes the linear head a
        two-layer network, which often needs a smaller learning rate: with
        AdamW the bottleneck's update grows with its ``d * k`` weights.
    param_grid : dict, default=None
        Head hyper-parameters to choose per configuration, e.g.
        ``{"lr": [1e-3, 1e-2]}``. Chosen by ``GridSearchCV`` on the training
        features only, with ``cv`` folds.
    cv : int, cross-validation generator or iterable, default=None
        Cross-validation for ``param_grid`` (``None`` means 5-fold). Unused
        without ``param_grid``.
    teacher : str, default=None
        Name of the teacher in the table. ``None`` uses the extractor's model
        name (or its class name), or ``"features"`` without an extractor.
    intrinsic_dimension : bool, default=True
        Whether to estimate the training features' intrinsic dimension
        (TwoNN) and add it to the table and the report.
    checkpoint_dir : str or path-like, default=None
        When set, each finished configuration is appended to a CSV file in
        this folder, and a rerun with the same features, labels, head and
        teacher name skips the configurations already there. A study killed
        mid-way resumes where it stopped; ``random_state`` must then be an
        int (or ``seeds`` explicit) so that the seeds match.
    n_jobs : int, default=None
        Number of configurations fitted in parallel with joblib worker
        processes. ``None`` uses one worker per usable CPU core (as joblib
        counts them, honouring CPU affinity and container quotas), each fit
        on ``n_threads`` (one) threads, so the cores are busy and never
        oversubscribed; a small study (fewer than 10^8 feature values touched
        in all, i.e. ``n_train * d * n_configurations``) runs serially, since
        starting workers would cost more than it saves. 1 runs serially.
        Results are identical to a serial run.
    client : dask.distributed.Client, default=None
        When given, configurations run on this dask cluster through joblib's
        dask backend. Results are identical to a serial run.
    n_threads : int or None, default=1
        CPU threads (torch and BLAS) for each configuration's fit. Heads are
        small, so one thread per fit with one fit per core side by side uses
        the cores best (measured: ``benchmarks/bench_study.py``); a fixed
        count also makes every configuration's result independent of where
        it runs. ``None`` keeps the current
        settings (e.g. for large heads trained on the CPU).
    random_state : int, RandomState instance or None, default=0
        Seeds the repeats (see ``seeds``) and the intrinsic-dimension
        subsample.
    progress : bool, default=True
        Whether to show a tqdm progress bar over configurations.

    Returns
    -------
    result : StudyResult
        ``result.table`` has one row per (teacher, method, k, seed) with the
        columns ``teacher``, ``method``, ``n_components``,
        ``compression_ratio`` (``d / k``), ``seed``, ``test_accuracy`` (a
        fraction), ``delta`` (``test_accuracy`` minus the mean test accuracy
        of the ``"full"`` head over all seeds; NaN without the ``"full"``
        baseline), ``fit_time`` (seconds to fit reducer and head),
        ``n_epochs`` (epochs the head trained, after early stopping; -1 when
        the head does not say), ``n_features``, ``resumed`` (True for a row
        read back from ``checkpoint_dir``: its ``fit_time`` was measured by
        the earlier run, and ``result.wall_time`` counts this run only) and,
        when computed, ``intrinsic_dimension``.

    Raises
    ------
    ValueError
        For an argument of the wrong type or out of range, e.g. ``seeds=0``
        or a head without ``fit`` (scikit-learn's ``InvalidParameterError``,
        a ``TypeError`` too), ``k > d``, unknown projection or baseline
        names, NaN or inf features, mismatched lengths, or a PCA ``k`` above
        the number of training samples.

    See Also
    --------
    StudyResult : The returned table, summary, markdown report and figure.
    load_embedded_task : The digits task the command-line study runs by default.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_subspace.head import SubspaceHeadClassifier
    >>> from sklearn_subspace.study import compression_study
    >>> X, y = make_classification(400, n_features=64, n_informative=20,
    ...                            n_classes=3, random_state=0)
    >>> head = SubspaceHeadClassifier(max_epochs=5, device="cpu")
    >>> result = compression_study(
    ...     X[:300], y[:300], X[300:], y[300:], n_components=[32, 8],
    ...     projections=["gaussian"], baselines=["full"], seeds=2, head=head,
    ...     intrinsic_dimension=False, progress=False)
    >>> result.table[["method", "n_components", "compression_ratio", "seed"]]
         method  n_components  compression_ratio  seed
    0      full            64                1.0     0
    1      full            64                1.0     1
    2  gaussian            32                2.0     0
    3  gaussian            32                2.0     1
    4  gaussian             8                8.0     0
    5  gaussian             8                8.0     1
    """
    start = time.perf_counter()
    projections, baselines, head, bottleneck_head = _check_methods(
        projections, baselines, head, learned_head
    )
    seed_values = check_seeds(seeds, random_state)
    name = _teacher_name(teacher, extractor)
    arrays = _extract(extractor, X_train, y_train, X_test, y_test)
    data = StudyData(*arrays, head, bottleneck_head, None, param_grid, cv)
    ks = _check_n_components(n_components, data.F_train.shape[1])
    _check_pca(baselines, ks, data.F_train)

    configs = _configurations(
        name, projections, baselines, ks, seed_values, data.F_train.shape[1]
    )
    n_classes = len(np.unique(data.y_train))
    copies = {
        **_seed_copies(configs, head, len(data.y_train), n_classes, param_grid),
        **_learned_copies(configs, baselines, bottleneck_head, n_classes, param_grid),
    }
    run = [c for c in configs if c not in copies]
    checkpoint = _checkpoint(checkpoint_dir, name, data, learned_head, n_threads)
    experiment = Experiment(
        run,
        key=STUDY_ROWS.key,
        checkpoint=checkpoint,
    )
    data = _with_shared_pca(data, experiment.todo, ks)
    rows = experiment.run(
        _run_config,
        data,
        n_jobs=n_jobs,
        # A fit reads the training features about once per pass.
        work_per_config=data.F_train.size,
        client=client,
        n_threads=n_threads,
        progress=progress,
        desc=f"compression study ({name})",
        describe=_describe,
    )
    rows = _rows_with_copies(configs, run, rows, copies)

    id_estimate = None
    if intrinsic_dimension:
        id_estimate = float(
            estimate_intrinsic_dimension(
                data.F_train, method="twonn", random_state=random_state
            )
        )
    return StudyResult(
        assemble_table(rows, configs, intrinsic_dimension=id_estimate),
        intrinsic_dimension=id_estimate,
        n_train=len(data.y_train),
        n_test=len(data.y_test),
        wall_time=time.perf_counter() - start,
        checkpoint_path=None if checkpoint is None else checkpoint.path,
    )
