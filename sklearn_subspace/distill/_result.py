"""The outcome of a distillation comparison: table, summary, markdown, curves."""

from pathlib import Path

import numpy as np
import pandas as pd

#: Student training methods of :func:`distillation_comparison`, in table order.
METHODS = ("scratch", "kd", "fitnets", "subspace")

_LABELS = {
    "teacher": "teacher (reference)",
    "scratch": "scratch (cross-entropy)",
    "kd": "Hinton KD",
    "fitnets": "FitNets (k -> d regressor)",
    "subspace": "subspace-native",
}

_COLUMNS = [
    "method",
    "n_components",
    "seed",
    "test_accuracy",
    "teacher_feature_accuracy",
    "deployed_params",
    "train_time",
    "best_epoch",
    "n_epochs",
]

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


class DistillationComparison:
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

    Attributes
    ----------
    table : pandas.DataFrame
        One row per run: ``method``, ``n_components`` (``k``; NaN for methods
        without one), ``seed``, ``test_accuracy``,
        ``teacher_feature_accuracy`` (accuracy of the method's head on the
        teacher's own test features: the ceiling a perfect student would
        reach; NaN without test teacher features), ``deployed_params``
        (student plus the classifier that follows it), ``train_time``
        (seconds, excluding teacher feature extraction), ``best_epoch`` and
        ``n_epochs``. Method ``"teacher"`` rows hold the teacher's own test
        accuracy for reference.
    histories : dict
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
    ):
        table = pd.DataFrame(list(rows), columns=_COLUMNS)
        table["n_components"] = table["n_components"].astype("float64")
        self.table = table
        self.histories = dict(histories)
        self.teacher_logits_source = teacher_logits_source
        self.n_features = n_features
        self.n_classes = n_classes
        self.settings = dict(settings or {})
        self.teacher_time = teacher_time
        self.wall_time = wall_time

    def __repr__(self):
        return (
            f"DistillationComparison({len(self.table)} runs, methods="
            f"{list(dict.fromkeys(self.table['method']))})"
        )

    def summary(self):
        """Mean ± std over seeds, one row per (method, k).

        Returns
        -------
        pandas.DataFrame
            Columns ``method``, ``n_components``, ``test_accuracy_mean``,
            ``test_accuracy_std`` (sample std; NaN for one seed),
            ``teacher_feature_accuracy_mean``, ``deployed_params``,
            ``train_time_mean``, ``best_epoch_mean`` and ``n_seeds``, in the
            order teacher, scratch, KD, FitNets, subspace, with ``k``
            ascending.
        """
        table = self.table.copy()
        order = {m: i for i, m in enumerate(("teacher", *METHODS))}
        table["_order"] = table["method"].map(order)
        table["_k"] = table["n_components"].fillna(-1)
        grouped = table.groupby(["_order", "_k"], sort=True)
        summary = grouped.agg(
            method=("method", "first"),
            n_components=("n_components", "first"),
            test_accuracy_mean=("test_accuracy", "mean"),
            test_accuracy_std=("test_accuracy", "std"),
            teacher_feature_accuracy_mean=("teacher_feature_accuracy", "mean"),
            deployed_params=("deployed_params", "first"),
            train_time_mean=("train_time", "mean"),
            best_epoch_mean=("best_epoch", "mean"),
            n_seeds=("seed", "nunique"),
        )
        return summary.reset_index(drop=True)

    def to_markdown(self):
        """The comparison as a markdown table, with the settings below it.

        Returns
        -------
        str
            GitHub-flavoured markdown: test accuracy (%) mean ± std over
            seeds, the ceiling of each method's head on teacher features,
            the deployed size and the training time.
        """
        summary = self.summary()
        header = (
            "| method | k | test accuracy (%) | head on teacher features (%) "
            "| deployed params | train time (s) |"
        )
        lines = [header, "|---|---:|---:|---:|---:|---:|"]
        for _, row in summary.iterrows():
            k = "" if np.isnan(row["n_components"]) else str(int(row["n_components"]))
            params = (
                ""
                if np.isnan(row["deployed_params"])
                else f"{row['deployed_params']:,.0f}"
            )
            time_cell = (
                ""
                if np.isnan(row["train_time_mean"])
                else f"{row['train_time_mean']:.1f}"
            )
            lines.append(
                f"| {_LABELS.get(row['method'], row['method'])} | {k} | "
                f"{_percent(row['test_accuracy_mean'], row['test_accuracy_std'])} | "
                f"{_percent(row['teacher_feature_accuracy_mean'], np.nan)} | "
                f"{params} | {time_cell} |"
            )
        notes = []
        n_seeds = int(summary["n_seeds"].max()) if len(summary) else 0
        notes.append(f"Mean ± std over {n_seeds} seed(s).")
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
        return "\n".join(lines) + "\n\n" + " ".join(notes) + "\n"

    def _repr_html_(self):
        """The comparison table as HTML, for notebooks and the example gallery."""
        from .._markdown_html import markdown_to_html

        return markdown_to_html(self.to_markdown())

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
        styles = {"scratch": ":", "kd": "-.", "fitnets": "--", "subspace": "-"}
        # One colour family per method, darker for larger k.
        families = {"scratch": "Greys", "kd": "Oranges", "fitnets": "Greens"}
        groups = list(
            curves.groupby(["method", curves["n_components"].fillna(-1)], sort=False)
        )
        for (method, k), part in groups:
            ks = sorted({kk for (m, kk), _ in groups if m == method})
            shade = 0.55 + 0.4 * (ks.index(k) + 1) / len(ks)
            color = plt.get_cmap(families.get(method, "Blues"))(shade)
            label = _LABELS.get(method, method)
            if k >= 0:
                label += f", k={int(k)}"
            ax.plot(
                part["epoch"],
                100 * part["valid_accuracy_mean"],
                linestyle=styles.get(method, "-"),
                color=color,
                marker="o" if method == "subspace" else None,
                markersize=3,
                label=label,
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title("Student learning curves (mean over seeds)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        return ax

    def save(self, out_dir):
        """Write the table (CSV), the markdown and the learning-curve figure.

        Parameters
        ----------
        out_dir : str or path-like
            Folder to write to; created when missing.

        Returns
        -------
        dict
            ``{"csv": path, "markdown": path, "figure": path}``.
        """
        import matplotlib.pyplot as plt

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {key: out / name for key, name in OUTPUT_FILES.items()}
        self.table.to_csv(paths["csv"], index=False)
        paths["markdown"].write_text(self.to_markdown(), encoding="utf-8")
        ax = self.plot_learning_curves()
        ax.figure.savefig(paths["figure"], dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        return paths
