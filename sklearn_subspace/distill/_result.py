"""The outcome of a distillation comparison: table, summary, markdown, curves."""

import numpy as np
import pandas as pd

from .._experiment._paired import paired_comparison
from .._experiment._results import ExperimentResult, markdown_table
from ._methods import ALL_METHODS, METHODS, REGISTRY, TABLE_COLUMNS

__all__ = ["ALL_METHODS", "METHODS", "DistillationComparison"]

_LABELS = {name: method.label for name, method in REGISTRY.items()}
_ORDER = {name: i for i, name in enumerate(REGISTRY)}

# Line style and colour family of each method's learning curves.
_STYLES = {
    "scratch": (":", "Greys"),
    "kd": ("-.", "Oranges"),
    "fitnets": ("--", "Greens"),
    "subspace": ("-", "Blues"),
    "subspace-cosine": ("-", "Purples"),
    "subspace-mixed": ("-", "Reds"),
}

#: Methods the paired statistics compare against, when present.
PAIRED_BASELINES = ("scratch", "kd")

_COLUMNS = list(TABLE_COLUMNS)

#: File names written by :meth:`DistillationComparison.save`.
OUTPUT_FILES = {
    "csv": "distillation_comparison.csv",
    "markdown": "distillation_comparison.md",
    "figure": "distillation_learning_curves.png",
}


def _percent(mean, std):
    if np.isnan(mean):
        return ""
    text = f"{100 * mean:.2f}"
    if not np.isnan(std):
        text += f" ± {100 * std:.2f}"
    return text


def _points(value):
    # Percentage points with a sign and a true minus, as the study's Δ.
    return f"{100 * value:+.2f}".replace("-", "−")


def _k_cell(k):
    return "" if k is None or np.isnan(k) else str(int(k))


class DistillationComparison(ExperimentResult):
    """Results of :func:`distillation_comparison`.

    Parameters
    ----------
    rows : list of dict
        One dict per trained student (and per teacher reference), with the
        keys of :attr:`table`.
    histories : dict
        ``(method, k, seed) -> history`` (``k`` is None for ``"scratch"``
        and ``"kd"``); each history maps ``epoch``, ``train_loss``,
        ``valid_loss`` and ``valid_accuracy`` to per-epoch lists.
    teacher_logits_source : str or None, default=None
        Where Hinton KD's teacher logits came from.
    n_features : int, default=None
        Teacher feature dimension ``d``.
    n_classes : int, default=None
        Number of classes.
    settings : dict, default=None
        The shared training budget and the other settings.
    teacher_time : float, default=nan
        Seconds spent computing teacher features.
    wall_time : float, default=nan
        Seconds spent training and scoring the students.
    predictions : dict, default=None
        ``(method, k, seed) -> ndarray`` of the run's test predictions
        (labels of ``y_test``'s kind).
    y_test : array-like of shape (n_test,), default=None
        The test labels the predictions are scored against.
    checkpoint_path : pathlib.Path, default=None
        The CSV file of the comparison's partial results, when
        checkpointing was on.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per run: ``method``, ``n_components`` (``k``; NaN for methods
        without one), ``seed``, ``test_accuracy``,
        ``teacher_feature_accuracy`` (accuracy of the method's head on the
        teacher's own test features: the ceiling a perfect student would
        reach; NaN without test teacher features), ``deployed_params``
        (student plus the classifier that follows it), ``train_time``
        (seconds to train the student, and for the subspace methods their
        own ``k``-input head; teacher feature extraction excluded),
        ``head_time`` (on ``"teacher"`` rows only: seconds to fit the head
        on the full teacher features, which FitNets classifies with and
        whose logits KD distils when none are given; it is fitted once per
        seed, so no student row counts it), ``best_epoch``, ``n_epochs`` and
        ``resumed`` (True for a row read back from a checkpoint). Method
        ``"teacher"`` rows hold the teacher's own test accuracy for
        reference (NaN without test teacher features or a teacher network).
    histories : dict
        As the parameter.
    predictions : dict
        As the parameter.

    See Also
    --------
    distillation_comparison : Produces this object.

    Examples
    --------
    >>> from sklearn_subspace.distill import DistillationComparison
    >>> rows = [dict(method="scratch", n_components=float("nan"), seed=s,
    ...              test_accuracy=a, teacher_feature_accuracy=float("nan"),
    ...              deployed_params=100, train_time=1.0, best_epoch=3, n_epochs=5)
    ...         for s, a in [(0, 0.9), (1, 0.8)]]
    >>> result = DistillationComparison(rows, {})
    >>> result.summary()[["method", "test_accuracy_mean", "n_seeds"]]
        method  test_accuracy_mean  n_seeds
    0  scratch                0.85        2
    """

    OUTPUT_FILES = OUTPUT_FILES
    _config_columns = ("method", "n_components")
    _mean_std_columns = ("test_accuracy",)
    _mean_columns = (
        "teacher_feature_accuracy",
        "train_time",
        "head_time",
        "best_epoch",
    )
    _first_columns = ("deployed_params",)

    def __init__(
        self,
        rows,
        histories,
        *,
        teacher_logits_source=None,
        n_features=None,
        n_classes=None,
        settings=None,
        teacher_time=float("nan"),
        wall_time=float("nan"),
        predictions=None,
        y_test=None,
        checkpoint_path=None,
    ):
        table = pd.DataFrame(list(rows), columns=_COLUMNS)
        table["n_components"] = table["n_components"].astype("float64")
        super().__init__(table, wall_time=wall_time, checkpoint_path=checkpoint_path)
        self.histories = dict(histories)
        self.teacher_logits_source = teacher_logits_source
        self.n_features = n_features
        self.n_classes = n_classes
        self.settings = dict(settings or {})
        self.teacher_time = teacher_time
        self.predictions = dict(predictions or {})
        self.y_test = None if y_test is None else np.asarray(y_test)

    def __repr__(self):
        return (
            f"DistillationComparison({len(self.table)} runs, methods="
            f"{list(dict.fromkeys(self.table['method']))})"
        )

    def _ordered_table(self):
        # teacher, then the students in registry order, k ascending.
        order = self.table["method"].map(_ORDER).fillna(len(_ORDER))
        k = self.table["n_components"].fillna(-1)
        keys = pd.DataFrame({"order": order, "k": k})
        return self.table.loc[keys.sort_values(["order", "k"], kind="stable").index]

    def summary(self):
        """Mean ± std over seeds, one row per (method, k).

        Returns
        -------
        pandas.DataFrame
            Columns ``method``, ``n_components``, ``n_seeds``,
            ``test_accuracy_mean``, ``test_accuracy_std`` (sample std; NaN
            for one seed), ``teacher_feature_accuracy_mean``,
            ``train_time_mean``, ``head_time_mean``, ``best_epoch_mean`` and
            ``deployed_params``, in the order teacher, scratch, KD, FitNets,
            subspace (and its loss variants), with ``k`` ascending.
        """
        return super().summary()

    def paired_differences(self, baseline=None):
        """Each method against a baseline, paired by seed and by test sample.

        For every (method, k) and baseline run with the same seeds, the
        per-seed accuracy differences (method minus baseline), their mean
        with a 95 % t confidence interval over the seeds, and an exact
        McNemar test on the per-sample correctness pooled over all seeds:
        ``n_only_method`` test predictions right for the method only,
        ``n_only_baseline`` right for the baseline only, and the two-sided
        p-value ``scipy.stats.binomtest(n_only_method, n_only_method +
        n_only_baseline, 0.5).pvalue`` (1.0 when they never disagree).
        Pooled pairs of one test sample under several seeds are not
        independent: read the p-value as a screen, next to the interval.

        Parameters
        ----------
        baseline : str, list of str or None, default=None
            The methods to compare against; ``None`` uses those of
            ``"scratch"`` and ``"kd"`` that ran. With both, KD is compared
            with scratch once, under ``"scratch"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``baseline``, ``method``, ``n_components`` (NaN without
            ``k``), ``n_seeds``, ``differences`` (a tuple, seeds in
            increasing order), ``mean_difference``, ``ci_low``, ``ci_high``
            (fractions: 0.01 is one percentage point), ``n_only_method``,
            ``n_only_baseline`` and ``mcnemar_p``.

        Raises
        ------
        ValueError
            If a baseline did not run, or the predictions are missing.
        """
        if self.y_test is None or not self.predictions:
            raise ValueError(
                "This result holds no test predictions; paired differences need "
                "the per-sample predictions distillation_comparison records."
            )
        correct = {}
        for (method, k, seed), pred in self.predictions.items():
            if len(pred):
                correct.setdefault((method, k), {})[seed] = pred == self.y_test
        baselines = self._paired_baselines(baseline, correct)
        records = []
        for i, name in enumerate(baselines):
            for method, k in sorted(
                correct, key=lambda c: (_ORDER.get(c[0], len(_ORDER)), c[1] or 0)
            ):
                if method in ("teacher", *baselines[: i + 1]):
                    continue
                stats = paired_comparison(correct[(method, k)], correct[(name, None)])
                records.append(
                    {
                        "baseline": name,
                        "method": method,
                        "n_components": np.nan if k is None else float(k),
                        **stats,
                    }
                )
        columns = [
            "baseline",
            "method",
            "n_components",
            "n_seeds",
            "differences",
            "mean_difference",
            "ci_low",
            "ci_high",
            "n_only_method",
            "n_only_baseline",
            "mcnemar_p",
        ]
        return pd.DataFrame(records, columns=columns)

    def _paired_baselines(self, baseline, correct):
        ran = [m for m, k in correct if k is None and m != "teacher"]
        if baseline is None:
            return [b for b in PAIRED_BASELINES if b in ran]
        baselines = [baseline] if isinstance(baseline, str) else list(baseline)
        missing = [b for b in baselines if b not in ran]
        if missing:
            raise ValueError(
                f"No runs of baseline {missing[0]!r} to compare against. Baselines "
                f"that ran: {', '.join(map(repr, ran)) or 'none'}."
            )
        return baselines

    def to_markdown(self):
        """The comparison as Markdown: the table, the settings, the paired table.

        Returns
        -------
        str
            GitHub-flavoured markdown: test accuracy (%) mean ± std over
            seeds, the ceiling of each method's head on teacher features,
            the deployed size and the training time; the settings below it;
            then, when there are predictions and a scratch or KD baseline,
            the paired differences (see :meth:`paired_differences`).
        """
        summary = self.summary()
        records = [
            [
                _LABELS.get(row["method"], row["method"]),
                _k_cell(row["n_components"]),
                _percent(row["test_accuracy_mean"], row["test_accuracy_std"]),
                _percent(row["teacher_feature_accuracy_mean"], np.nan),
                ""
                if np.isnan(row["deployed_params"])
                else f"{row['deployed_params']:,.0f}",
                ""
                if np.isnan(row["train_time_mean"])
                else f"{row['train_time_mean']:.1f}",
            ]
            for _, row in summary.iterrows()
        ]
        header = [
            "method",
            "k",
            "test accuracy (%)",
            "head on teacher features (%)",
            "deployed params",
            "train time (s)",
        ]
        table = markdown_table(
            pd.DataFrame(records, columns=header), ["left", *["right"] * 5]
        )
        n_seeds = int(summary["n_seeds"].max()) if len(summary) else 0
        text = table + "\n\n" + " ".join(self._notes(n_seeds, summary)) + "\n"
        paired = self._paired_markdown()
        return text if paired is None else text + "\n" + paired

    def _notes(self, n_seeds, summary):
        notes = [f"Mean ± std over {n_seeds} seed(s)."]
        s = self.settings
        if s:
            if s.get("tol", None) is None:
                epochs = f"{s.get('max_epochs')} epochs"
            else:
                epochs = (
                    f"at most {s.get('max_epochs')} epochs, stopping "
                    f"{s.get('patience')} epochs after the validation accuracy "
                    "last improved"
                )
            notes.append(
                f"Same budget for every student: {s.get('optimizer')} lr "
                f"{s.get('lr')}, weight decay {s.get('weight_decay')}, "
                f"{epochs}, batch {s.get('batch_size')}; best "
                f"epoch on a {s.get('validation_fraction')} validation split of "
                "the training data."
            )
        if self.n_features is not None:
            notes.append(f"Teacher features: d = {self.n_features}.")
        if self.teacher_logits_source is not None:
            notes.append(
                f"KD: T = {s.get('temperature')}, alpha = {s.get('alpha')}, "
                f"logits from the {self.teacher_logits_source}."
            )
        if "subspace-mixed" in set(self.table["method"]):
            notes.append(f"Mixed loss: alpha = {s.get('mixed_alpha')}.")
        head_time = summary.loc[summary["method"] == "teacher", "head_time_mean"]
        if len(head_time) and not np.isnan(head_time.iloc[0]):
            notes.append(
                "The head on the full teacher features (FitNets' classifier, "
                "and KD's logits when none are given) is fitted once per seed, "
                f"in {head_time.iloc[0]:.1f} s on average, and counted in no "
                "student's train time."
            )
        return notes

    def _paired_markdown(self):
        if self.y_test is None or not self.predictions:
            return None
        paired = self.paired_differences()
        if paired.empty:
            return None
        records = [
            [
                _LABELS.get(row["method"], row["method"]),
                _k_cell(row["n_components"]),
                _LABELS.get(row["baseline"], row["baseline"]),
                _points(row["mean_difference"])
                + (
                    ""
                    if np.isnan(row["ci_low"])
                    else f" [{_points(row['ci_low'])}, {_points(row['ci_high'])}]"
                ),
                f"{row['n_only_method']} / {row['n_only_baseline']}",
                f"{row['mcnemar_p']:.3g}",
            ]
            for _, row in paired.iterrows()
        ]
        header = [
            "method",
            "k",
            "against",
            "Δ accuracy (pp), mean [95% CI]",
            "only method / only baseline right",
            "McNemar p",
        ]
        table = markdown_table(
            pd.DataFrame(records, columns=header),
            ["left", "right", "left", *["right"] * 3],
        )
        note = (
            "Paired over seeds (t interval of the per-seed differences) and "
            "over test samples (exact McNemar test on the discordant "
            "predictions, pooled over seeds)."
        )
        return table + "\n\n" + note + "\n"

    def learning_curves(self):
        """Validation accuracy per epoch, averaged over seeds.

        Returns
        -------
        pandas.DataFrame
            Columns ``method``, ``n_components``, ``epoch``,
            ``valid_accuracy_mean`` and ``valid_accuracy_std``.
        """
        records = [
            {
                "method": method,
                "n_components": np.nan if k is None else float(k),
                "seed": seed,
                "epoch": epoch,
                "valid_accuracy": acc,
            }
            for (method, k, seed), history in self.histories.items()
            for epoch, acc in zip(history["epoch"], history["valid_accuracy"])
        ]
        columns = ["method", "n_components", "epoch"]
        if not records:
            return pd.DataFrame(
                columns=[*columns, "valid_accuracy_mean", "valid_accuracy_std"]
            )
        frame = pd.DataFrame(records)
        frame["_k"] = frame["n_components"].fillna(-1)
        curves = frame.groupby(["method", "_k", "epoch"], sort=False).agg(
            n_components=("n_components", "first"),
            valid_accuracy_mean=("valid_accuracy", "mean"),
            valid_accuracy_std=("valid_accuracy", "std"),
        )
        curves = curves.reset_index().drop(columns="_k")
        return curves[[*columns, "valid_accuracy_mean", "valid_accuracy_std"]]

    def plot_learning_curves(self, ax=None):
        """Plot validation accuracy against epoch, one line per method and k.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; ``None`` creates a figure.

        Returns
        -------
        matplotlib.axes.Axes
            The axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        curves = self.learning_curves()
        # One colour family per method, darker for larger k.
        groups = list(
            curves.groupby(["method", curves["n_components"].fillna(-1)], sort=False)
        )
        for (method, k), part in groups:
            ks = sorted({kk for (m, kk), _ in groups if m == method})
            shade = 0.55 + 0.4 * (ks.index(k) + 1) / len(ks)
            style, family = _STYLES.get(method, ("-", "Blues"))
            color = plt.get_cmap(family)(shade)
            label = _LABELS.get(method, method)
            if k >= 0:
                label += f", k={int(k)}"
            ax.plot(
                part["epoch"],
                100 * part["valid_accuracy_mean"],
                linestyle=style,
                color=color,
                marker="o" if method.startswith("subspace") else None,
                markersize=3,
                label=label,
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title("Student learning curves (mean over seeds)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        return ax

    def _figure(self):
        return self.plot_learning_curves().figure
