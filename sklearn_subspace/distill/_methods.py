"""The students of the distillation comparison, one small class per method.

Every run of the comparison is one :class:`RunConfig`, ``(method, k, seed)``,
and runs through :func:`run_config` in the library's one experiment runner.
A method only says how its student is trained and scored
(:meth:`Method.train`); what all students of a seed share -- the split, the
seeds, the training settings (:class:`SeedRun`) and the head on the full
teacher features (:class:`SeedWork`, fitted once per seed before the runs
are dispatched) -- is built here once.

A new method is one subclass of :class:`Method` and one entry of
:data:`REGISTRY`.
"""

import time
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import clone
from torch import nn

from .._experiment import RowSchema
from ._distiller import SubspaceDistiller, student_kwargs
from ._training import (
    TargetScale,
    build_module,
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

_NAN = float("nan")


class RunConfig(NamedTuple):
    """One run of the comparison: a row of its table.

    ``n_components`` is ``None`` for the methods without a ``k`` (the
    teacher reference, scratch and KD).
    """

    method: str
    n_components: int | None
    seed: int


class SeedWork(NamedTuple):
    """The head on the full teacher features, fitted once per seed."""

    full_head: object
    head_time: float
    kd_logits: np.ndarray  # its logits on the training features (KD's default)
    test_pred: np.ndarray | None  # its class indices on the test features


class ComparisonData(NamedTuple):
    """Everything the runs read; ``seed_work`` maps a seed to its :class:`SeedWork`."""

    X_train: np.ndarray
    y_train: np.ndarray
    y_idx: np.ndarray
    classes: np.ndarray
    weights: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    F_train: np.ndarray
    F_test: np.ndarray | None
    teacher_logits: np.ndarray | None  # given, or from the teacher network
    teacher_test_pred: np.ndarray | None  # the teacher network's test classes
    teacher_params: float
    seed_work: dict
    student: object
    head: object
    settings: dict
    device: object


class Outcome(NamedTuple):
    """What a method's training gives: test classes, size and history."""

    predictions: np.ndarray | None
    n_params: float
    history: dict | None = None
    best_epoch: int = 0
    ceiling: float = _NAN
    train_time: float | None = None  # None: the wall time of Method.train


def _n_params(module):
    return int(sum(p.numel() for p in module.parameters()))


def _head_params(head, n_inputs, n_classes):
    module = getattr(getattr(head, "net_", None), "module_", None)
    if isinstance(module, nn.Module):
        return _n_params(module)
    return n_inputs * n_classes + n_classes  # a linear head


def _class_indices(classes, labels):
    """Positions of predicted ``labels`` in the sorted ``classes``."""
    return np.searchsorted(classes, np.asarray(labels)).astype(np.int64)


def _seeded_clone(head, seed):
    head = clone(head)
    if "random_state" in head.get_params():
        head.set_params(random_state=seed)
    return head


def _head_logits(head, F):
    scores = np.asarray(head.decision_function(F), dtype=np.float32)
    if scores.ndim == 1:  # binary: the log-odds of classes_[1]
        scores = np.stack([-scores / 2, scores / 2], axis=1)
    return scores


class SeedRun:
    """What every student of one seed shares: split, seeds and settings."""

    def __init__(self, data, seed):
        self.data = data
        self.seed = seed
        self.seeds = student_seeds(seed)
        self.split = validation_split(
            data.y_idx, data.settings["validation_fraction"], self.seeds["split"]
        )
        self.train_idx, self.valid_idx = split_rows(self.split, data.y_idx)

    def build(self, n_outputs):
        """The seeded student with ``n_outputs`` outputs, on the device."""
        d = self.data
        kwargs = student_kwargs(d.student, d.settings["student_params"], n_outputs)
        # A copy: in a worker process X_train is a read-only memory map.
        probe = torch.tensor(d.X_train[:1])
        module, output = build_module(d.student, kwargs, self.seeds["init"], probe)
        if tuple(output.shape) != (1, n_outputs):
            raise ValueError(
                f"The student built with n_outputs={n_outputs} gives outputs of "
                f"shape {tuple(output.shape)} for one sample. The comparison needs "
                "a student whose output width follows its n_outputs argument, "
                "as StudentMLP's does."
            )
        return module.to(d.device)

    def head_fit_params(self):
        """``sample_weight`` of the training part for a head's ``fit``."""
        if self.data.weights is None:
            return {}
        return {"sample_weight": self.data.weights[self.train_idx]}

    def train(self, module, targets, loss_fn, score_fn, name):
        """Train ``module`` on ``(labels, *targets[, weights])``."""
        d = self.data
        s = d.settings
        weights = () if d.weights is None else (d.weights,)
        history, best, _ = fit_student(
            module,
            d.X_train,
            (d.y_idx, *targets, *weights),
            loss_fn,
            settings={**s, "verbose": max(0, s["verbose"] - 1)},
            seeds=self.seeds,
            split=self.split,
            score_fn=score_fn,
            device=d.device,
            name=name,
        )
        return history, best

    def logits_classes(self, module):
        """Class indices of a logits student on the test inputs."""
        return predict_outputs(module, self.data.X_test).argmax(1).cpu().numpy()


def fit_seed_work(data, seed):
    """Fit the head on the full teacher features of one seed's training part.

    FitNets classifies with it, KD distils its logits when no teacher logits
    are given, and it is the teacher reference without a teacher network.
    """
    run = SeedRun(data, seed)
    tr = run.train_idx
    start = time.perf_counter()
    head = _seeded_clone(data.head, run.seeds["head"]).fit(
        data.F_train[tr], data.y_train[tr], **run.head_fit_params()
    )
    head_time = time.perf_counter() - start
    test_pred = None
    if data.F_test is not None:
        test_pred = _class_indices(data.classes, head.predict(data.F_test))
    return SeedWork(head, head_time, _head_logits(head, data.F_train), test_pred)


class Method:
    """One way to train the student; a subclass per method.

    Attributes
    ----------
    name : str
        The method's name in ``methods=`` and in the table.
    label : str
        Its name in the Markdown table and the figure.
    per_k : bool
        Whether it runs once per ``k`` (else once per seed).
    """

    name = ""
    label = ""
    per_k = False

    def needs_full_head(self, data):
        """Whether its runs read the seed's :class:`SeedWork`."""
        return False

    def train(self, config, data, run):
        """Train and score one student; return an :class:`Outcome`."""
        raise NotImplementedError


class TeacherReference(Method):
    """The teacher's own test accuracy: its network, or the full-d head."""

    name = "teacher"
    label = "teacher (reference)"

    def needs_full_head(self, data):
        return data.teacher_test_pred is None and data.F_test is not None

    def train(self, config, data, run):
        if data.teacher_test_pred is not None:
            return Outcome(data.teacher_test_pred, data.teacher_params, train_time=_NAN)
        work = data.seed_work.get(config.seed)
        predictions = None if work is None else work.test_pred
        return Outcome(predictions, _NAN, train_time=_NAN)


class Scratch(Method):
    """Cross-entropy on the labels, ``n_classes`` outputs."""

    name = "scratch"
    label = "scratch (cross-entropy)"

    def train(self, config, data, run):
        module = run.build(len(data.classes))
        history, best = run.train(
            module, (), cross_entropy_loss, logits_accuracy, "scratch student"
        )
        return Outcome(run.logits_classes(module), _n_params(module), history, best)


class KnowledgeDistillation(Method):
    """Hinton et al.'s loss on the teacher's logits and the labels."""

    name = "kd"
    label = "Hinton KD"

    def needs_full_head(self, data):
        return data.teacher_logits is None

    def train(self, config, data, run):
        s = data.settings
        logits = data.teacher_logits
        if logits is None:
            logits = data.seed_work[config.seed].kd_logits
        module = run.build(len(data.classes))
        history, best = run.train(
            module,
            (logits,),
            kd_loss(s["temperature"], s["alpha"]),
            logits_accuracy,
            "KD student",
        )
        return Outcome(run.logits_classes(module), _n_params(module), history, best)


class FitNets(Method):
    """``k`` outputs and a learned ``k -> d`` regressor of the teacher features.

    The full-d head classifies the regressor's outputs; deployed, regressor
    and head fold into one ``k -> n_classes`` linear map.
    """

    name = "fitnets"
    label = "FitNets (k -> d regressor)"
    per_k = True

    def needs_full_head(self, data):
        return True

    def train(self, config, data, run):
        k, classes = config.n_components, data.classes
        work = data.seed_work[config.seed]
        body = run.build(k)
        regressor, _ = build_module(
            nn.Linear,
            {"in_features": k, "out_features": data.F_train.shape[1]},
            run.seeds["init"] + 1,
            torch.zeros(1, k),
        )
        network = nn.Sequential(body, regressor.to(data.device))
        # Standardized targets, as for the subspace student (see TargetScale).
        mean, scale = target_statistics(data.F_train[run.train_idx])
        module = TargetScale(network, mean, scale).to(data.device)
        head = work.full_head

        def score(outputs, y_valid):
            d_features = module.restore(outputs).cpu().numpy()
            labels = classes[y_valid]
            return float(np.mean(head.predict(d_features) == labels))

        history, best = run.train(
            network,
            ((data.F_train - mean) / scale,),
            mse_loss,
            score,
            f"FitNets student k={k}",
        )
        outputs = predict_outputs(module, data.X_test).cpu().numpy()
        n_params = _n_params(body) + k * len(classes) + len(classes)
        ceiling = _NAN
        if work.test_pred is not None:
            ceiling = float(np.mean(classes[work.test_pred] == data.y_test))
        predictions = _class_indices(classes, head.predict(outputs))
        return Outcome(predictions, n_params, history, best, ceiling)


class Subspace(Method):
    """:class:`SubspaceDistiller` with one of its regression losses."""

    per_k = True

    def __init__(self, name, loss, label):
        self.name = name
        self.loss = loss
        self.label = label

    def train(self, config, data, run):
        s, k = data.settings, config.n_components
        loss = {"loss": self.loss}
        if self.loss == "mixed":
            loss["alpha"] = s["mixed_alpha"]
        distiller = SubspaceDistiller(
            data.student,
            n_components=k,
            projection=s["projection"],
            optimizer=s["optimizer"],
            lr=s["lr"],
            max_epochs=s["max_epochs"],
            batch_size=s["batch_size"],
            device=data.device,
            random_state=config.seed,
            verbose=max(0, s["verbose"] - 1),
            student_params=s["student_params"],
            head=data.head,
            weight_decay=s["weight_decay"],
            validation_fraction=s["validation_fraction"],
            tol=s["tol"],
            patience=s["patience"],
            callbacks=s["callbacks"],
            **loss,
        ).fit(
            data.X_train,
            data.y_train,
            teacher_features=data.F_train,
            sample_weight=data.weights,
        )
        ceiling = _NAN
        if data.F_test is not None:
            Z_test = distiller.projection_.transform(data.F_test)
            ceiling = float(np.mean(distiller.head_.predict(Z_test) == data.y_test))
        n_params = _n_params(distiller.student_) + _head_params(
            distiller.head_, k, len(data.classes)
        )
        return Outcome(
            _class_indices(data.classes, distiller.predict(data.X_test)),
            n_params,
            distiller.history_,
            distiller.best_epoch_,
            ceiling,
            # Its own k-input head is part of the method's cost.
            train_time=distiller.head_train_time_ + distiller.student_train_time_,
        )


#: Every method of the comparison, by name, in table order.
REGISTRY = {
    method.name: method
    for method in (
        TeacherReference(),
        Scratch(),
        KnowledgeDistillation(),
        FitNets(),
        Subspace("subspace", "mse", "subspace-native"),
        Subspace("subspace-cosine", "cosine", "subspace-native (cosine loss)"),
        Subspace("subspace-mixed", "mixed", "subspace-native (mixed loss)"),
    )
}

#: Student training methods run by default, in table order.
METHODS = ("scratch", "kd", "fitnets", "subspace")

#: Every student method ``methods=`` accepts: the defaults and the subspace
#: loss variants.
ALL_METHODS = tuple(name for name in REGISTRY if name != "teacher")


def _optional_k(text):
    return None if text in ("", "None") else int(text)


#: The columns and parsers of a comparison checkpoint; histories as JSON,
#: test predictions (class indices) in ``.npy`` files.
COMPARISON_ROWS = RowSchema(
    prefix="distill-rows",
    columns=(
        "method",
        "n_components",
        "seed",
        "test_accuracy",
        "teacher_feature_accuracy",
        "deployed_params",
        "train_time",
        "head_time",
        "best_epoch",
        "n_epochs",
        "history",
    ),
    parsers={
        "method": str,
        "n_components": _optional_k,
        "seed": int,
        "test_accuracy": float,
        "teacher_feature_accuracy": float,
        "deployed_params": float,
        "train_time": float,
        "head_time": float,
        "best_epoch": int,
        "n_epochs": int,
    },
    key=lambda row: RunConfig(row["method"], row["n_components"], int(row["seed"])),
    json_columns=("history",),
    arrays=("predictions",),
)


#: The columns of the comparison's table, in order.
TABLE_COLUMNS = (
    *(c for c in COMPARISON_ROWS.columns if c not in COMPARISON_ROWS.json_columns),
    "resumed",
)


def run_config(config, data):
    """Train and score one (method, k, seed) run; return its table row."""
    method = REGISTRY[config.method]
    run = SeedRun(data, config.seed)
    start = time.perf_counter()
    outcome = method.train(config, data, run)
    train_time = outcome.train_time
    if train_time is None:
        train_time = time.perf_counter() - start
    work = data.seed_work.get(config.seed)
    predictions = outcome.predictions
    accuracy = _NAN
    if predictions is not None:
        accuracy = float(np.mean(data.classes[predictions] == data.y_test))
    history = outcome.history or {}
    return {
        "method": config.method,
        "n_components": config.n_components,
        "seed": int(config.seed),
        "test_accuracy": accuracy,
        "teacher_feature_accuracy": float(outcome.ceiling),
        "deployed_params": float(outcome.n_params),
        "train_time": float(train_time),
        # The full-d head's time, reported once per seed, on the reference.
        "head_time": work.head_time if work and method.name == "teacher" else _NAN,
        "best_epoch": int(outcome.best_epoch),
        "n_epochs": len(history.get("epoch", ())),
        "history": history,
        "predictions": (
            np.empty(0, np.int64) if predictions is None else np.asarray(predictions)
        ),
    }
