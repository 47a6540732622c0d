"""Results of a compression study: table, summary, markdown and figure."""

import numpy as np
import pandas as pd

from .._experiment._results import ExperimentResult, markdown_table
from ._checkpoint import STUDY_ROWS

_BASELINE_ORDER = ("full",)
_TRAILING_METHODS = ("pca", "learned")
_METHOD_LABELS = {
    "full": "full d (frozen head)",
    "pca": "PCA",
    "learned": "learned bottleneck",
}

#: File names written by :meth:`StudyResult.save`.
OUTPUT_FILES = {
    "csv": "compression_study.csv",
    "markdown": "compression_study.md",
    "figure": "compression_study.png",
}


def _method_rank(methods):
    # full first, then the random projections in the order they were asked
    # for, then the data-dependent baselines.
    ordered = [m for m in _BASELINE_ORDER if m in methods]
    ordered += [m for m in methods if m not in _BASELINE_ORDER + _TRAILING_METHODS]
    ordered += [m for m in _TRAILING_METHODS if m in methods]
    return {m: i for i, m in enumerate(dict.fromkeys(ordered))}


def assemble_table(rows, configs, *, intrinsic_dimension=None):
    """Build the tidy result table from raw rows, in a canonical order.

    Parameters
    ----------
    rows : list of dict
        Raw rows (``teacher``, ``method``, ``n_components``, ``seed``,
        ``n_features``, ``test_accuracy``, ``fit_time``, ``n_epochs`` and
        optionally ``head_params``), in any order.
    configs : list of tuple
        The (teacher, method, k, seed) configurations of the study, in the
        order the table should list them; rows for other keys are ignored.
    intrinsic_dimension : float, default=None
        Added as a constant column when given.

    Returns
    -------
    pandas.DataFrame
        One row per configuration with ``compression_ratio = n_features / k``
        and ``delta = test_accuracy - mean(full test_accuracy)`` per teacher.

    Examples
    --------
    >>> from sklearn_subspace.study._report import assemble_table
    >>> base = dict(teacher="t", n_features=64, fit_time=0.1, n_epochs=3)
    >>> rows = [dict(base, method="gaussian", n_components=16, seed=0,
    ...              test_accuracy=0.7),
    ...         dict(base, method="full", n_components=64, seed=0,
    ...              test_accuracy=0.8)]
    >>> configs = [("t", "full", 64, 0), ("t", "gaussian", 16, 0)]
    >>> table = assemble_table(rows, configs)
    >>> table[["method", "compression_ratio", "test_accuracy", "delta"]]
         method  compression_ratio  test_accuracy  delta
    0      full                1.0            0.8    0.0
    1  gaussian                4.0            0.7   -0.1
    """
    by_key = {
        (r["teacher"], r["method"], int(r["n_components"]), int(r["seed"])): r
        for r in rows
    }
    ordered = [by_key[c] for c in configs if c in by_key]
    table = pd.DataFrame(ordered)
    if table.empty:
        table = pd.DataFrame(columns=list(STUDY_ROWS.columns))
    table["compression_ratio"] = table["n_features"].astype(float) / table[
        "n_components"
    ].astype(float)
    full_mean = (
        table[table["method"] == "full"].groupby("teacher")["test_accuracy"].mean()
    )
    table["delta"] = table["test_accuracy"] - table["teacher"].map(full_mean).astype(
        float
    )
    if intrinsic_dimension is not None:
        table["intrinsic_dimension"] = float(intrinsic_dimension)
    columns = [
        "teacher",
        "method",
        "n_components",
        "compression_ratio",
        "seed",
        "test_accuracy",
        "delta",
        "fit_time",
        "n_epochs",
        "n_features",
        "n_classes",
        "converged",
        "intrinsic_dimension",
        "head_params",
        "resumed",  # True: the row comes from a checkpoint, fit_time too
    ]
    table = table[[c for c in columns if c in table.columns]]
    for column in ("n_components", "seed", "n_epochs", "n_features", "n_classes"):
        if column in table:
            table[column] = table[column].astype("int64")
    for column in ("compression_ratio", "test_accuracy", "delta", "fit_time"):
        table[column] = table[column].astype("float64")
    return table.reset_index(drop=True)


def _format_ratio(ratio):
    return f"{ratio:.3g}x"


def _format_cell(mean, std, scale=100.0, digits=2):
    if np.isnan(mean):
        return "n/a"
    text = f"{mean * scale:.{digits}f}"
    if not np.isnan(std):
        text += f" ± {std * scale:.{digits}f}"
    return text


# Marks learned-bottleneck cells whose k can hold the whole linear head.
_EXACT_MARK = " †"


def _learned_is_exact(method, k, n_classes):
    """Whether a learned bottleneck of width ``k`` can equal the full head.

    A linear head ``W`` (``n_classes x d``) acts on the features only
    through the span of its rows; softmax ignores a shift common to all
    logits, so ``n_classes - 1`` directions hold all it computes. A learned
    ``d -> k`` map with ``k >= n_classes - 1`` can therefore reproduce the
    full head exactly: its accuracy says nothing about compressing the
    features.
    """
    return method == "learned" and n_classes is not None and k >= n_classes - 1


def _format_delta(delta):
    if np.isnan(delta):
        return ""
    # A true minus sign, as in the paper's tables.
    return f" ({delta * 100:+.2f})".replace("-", "−")


def _k_table(compressed, methods, n_classes):
    """One row per k, one column per method: ``mean ± std (Δ)`` in percent."""
    records = []
    for k in sorted(compressed["n_components"].unique(), reverse=True):
        at_k = compressed[compressed["n_components"] == k]
        cells = [str(int(k)), _format_ratio(at_k["compression_ratio"].iloc[0])]
        for method in methods:
            hit = at_k[at_k["method"] == method]
            if hit.empty:
                cells.append("")
                continue
            r = hit.iloc[0]
            exact = _learned_is_exact(method, k, n_classes)
            cells.append(
                _format_cell(r["test_accuracy_mean"], r["test_accuracy_std"])
                + _format_delta(r["delta_mean"])
                + (_EXACT_MARK if exact else "")
            )
        records.append(cells)
    header = ["k", "ratio", *[_METHOD_LABELS.get(m, m) for m in methods]]
    frame = pd.DataFrame(records, columns=header)
    return markdown_table(frame, ["right", "right", *["left"] * len(methods)])


class StudyResult(ExperimentResult):
    """The outcome of :func:`compression_study`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (teacher, method, k, seed), as built by the study.
    intrinsic_dimension : float, default=None
        TwoNN intrinsic dimension of the training features, when computed.
    n_train, n_test : int, default=None
        Number of training and test samples.
    wall_time : float, default=None
        Seconds the study took in this call. Rows resumed from a checkpoint
        (``resumed`` column True) were computed by an earlier call: their
        ``fit_time`` is from then, and is not part of ``wall_time``.
    checkpoint_path : pathlib.Path, default=None
        The CSV file that holds the study's partial results, when
        checkpointing was on.

    Attributes
    ----------
    table : pandas.DataFrame
        The tidy per-seed table. ``test_accuracy`` and ``delta`` are fractions
        (0.01 is one percentage point); ``delta`` is ``test_accuracy`` minus
        the mean test accuracy of the ``"full"`` head over its seeds.
    intrinsic_dimension : float or None
        As passed.
    n_train, n_test : int or None
        As passed.
    wall_time : float or None
        As passed.
    checkpoint_path : pathlib.Path or None
        As passed.

    See Also
    --------
    compression_study : Produces this result.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_subspace.study import StudyResult
    >>> table = pd.DataFrame({
    ...     "teacher": "t", "method": ["full", "full", "srht", "srht"],
    ...     "n_components": [64, 64, 16, 16], "compression_ratio": [1., 1., 4., 4.],
    ...     "seed": [0, 1, 0, 1], "test_accuracy": [0.90, 0.92, 0.88, 0.90],
    ...     "delta": [-0.01, 0.01, -0.03, -0.01], "fit_time": 0.1})
    >>> result = StudyResult(table)
    >>> result.baseline_accuracy()
    teacher
    t    0.91
    Name: test_accuracy, dtype: float64
    >>> print(result.to_markdown().splitlines()[-1])
    |  16 | 4x      | 89.00 ± 1.41 (−2.00) |
    """

    OUTPUT_FILES = OUTPUT_FILES
    _config_columns = ("teacher", "method", "n_components", "compression_ratio")
    _mean_std_columns = ("test_accuracy", "delta")
    _mean_columns = ("fit_time",)
    _first_columns = ("intrinsic_dimension",)

    def __init__(
        self,
        table,
        *,
        intrinsic_dimension=None,
        n_train=None,
        n_test=None,
        wall_time=None,
        checkpoint_path=None,
    ):
        super().__init__(table, wall_time=wall_time, checkpoint_path=checkpoint_path)
        self.intrinsic_dimension = intrinsic_dimension
        self.n_train = n_train
        self.n_test = n_test

    def __repr__(self):
        teachers = ", ".join(map(str, self.table["teacher"].unique()))
        return (
            f"StudyResult(teacher={teachers!r}, n_rows={len(self.table)}, "
            f"methods={list(self.table['method'].unique())})"
        )

    def baseline_accuracy(self):
        """Mean test accuracy of the full-d head per teacher (the Δ reference).

        Returns
        -------
        pandas.Series
            Indexed by teacher; empty when the study ran no ``"full"`` head.
        """
        full = self.table[self.table["method"] == "full"]
        return full.groupby("teacher")["test_accuracy"].mean()

    def summary(self):
        """Mean ± standard deviation over seeds, one row per (teacher, method, k).

        The standard deviation is the sample standard deviation (``ddof=1``);
        it is NaN when a configuration ran with a single seed.

        Returns
        -------
        pandas.DataFrame
            Columns ``teacher``, ``method``, ``n_components``,
            ``compression_ratio``, ``n_seeds``, ``test_accuracy_mean``,
            ``test_accuracy_std``, ``delta_mean``, ``delta_std``,
            ``fit_time_mean`` (and ``intrinsic_dimension`` when known), in
            the table's order.
        """
        return super().summary()

    def to_markdown(self):
        """Return the paper-style table: accuracy (%) ± std and Δ per k.

        One section per teacher. The full-d frozen head is reported first;
        below it, one row per ``k`` with one column per method holding
        ``mean ± std (Δ)`` in percent and percentage points.

        Returns
        -------
        str
            GitHub-flavoured markdown.
        """
        summary = self.summary()
        lines = []
        for teacher, part in summary.groupby("teacher", sort=False):
            n_features = int(
                round(part["n_components"].iloc[0] * part["compression_ratio"].iloc[0])
            )
            lines.append(f"### {teacher} (d = {n_features})")
            lines.append("")
            n_seeds = int(part["n_seeds"].max())
            notes = [
                f"Test accuracy (%) as mean ± std over {n_seeds} seed(s); "
                "Δ in parentheses, in percentage points, against the mean of "
                "the full-d frozen head."
            ]
            if self.n_train is not None and self.n_test is not None:
                notes.append(f"{self.n_train} training / {self.n_test} test samples.")
            if self.intrinsic_dimension is not None:
                notes.append(
                    "Intrinsic dimension of the training features (TwoNN): "
                    f"{self.intrinsic_dimension:.1f}."
                )
            lines.append(" ".join(notes))
            lines.append("")
            full = part[part["method"] == "full"]
            if len(full):
                row = full.iloc[0]
                lines.append(
                    "Full-d frozen head: "
                    f"{_format_cell(row['test_accuracy_mean'], row['test_accuracy_std'])}"
                )
                lines.append("")
            compressed = part[part["method"] != "full"]
            methods = list(dict.fromkeys(compressed["method"]))
            n_classes = self._n_classes(teacher)
            if not methods:
                lines.append("")
                continue
            lines.append(_k_table(compressed, methods, n_classes))
            lines.append("")
            if "learned" in methods and n_classes is not None:
                lines.append(
                    "† With k ≥ n_classes − 1 "
                    f"= {n_classes - 1}, a linear head behind a learned "
                    "bottleneck can compute exactly what the full head "
                    "computes: when the study runs the full head, these "
                    "cells are its rows (not trained), and they never "
                    "measure how far the features compress."
                )
                lines.append("")
            unconverged = self._unconverged(teacher)
            if unconverged:
                lines.append(
                    f"{unconverged} fit(s) stopped at max_epochs before "
                    "converging (`converged` column of the table)."
                )
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def _n_classes(self, teacher):
        if "n_classes" not in self.table:
            return None
        values = self.table.loc[self.table["teacher"] == teacher, "n_classes"]
        return int(values.max()) if len(values) else None

    def _unconverged(self, teacher):
        if "converged" not in self.table:
            return 0
        part = self.table[self.table["teacher"] == teacher]
        return int((~part["converged"].astype(bool)).sum())

    def plot(self, ax=None):
        """Plot test accuracy against compression ratio.

        One line per method with error bars (standard deviation over seeds),
        and the full-d frozen head drawn as a horizontal reference line with a
        band of ± one standard deviation. The x-axis (``d / k``) is
        logarithmic.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on. ``None`` creates a new figure (one panel per
            teacher).

        Returns
        -------
        matplotlib.figure.Figure
            The figure.
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter

        summary = self.summary()
        teachers = list(dict.fromkeys(summary["teacher"]))
        if ax is None:
            fig, axes = plt.subplots(
                1, len(teachers), figsize=(6.4 * len(teachers), 4.4), squeeze=False
            )
            axes = list(axes.ravel())
        else:
            fig, axes = ax.figure, [ax] * len(teachers)
        for axis, teacher in zip(axes, teachers):
            part = summary[summary["teacher"] == teacher]
            full = part[part["method"] == "full"]
            if len(full):
                mean = 100 * full["test_accuracy_mean"].iloc[0]
                std = 100 * np.nan_to_num(full["test_accuracy_std"].iloc[0])
                axis.axhline(
                    mean,
                    color="black",
                    linestyle="--",
                    linewidth=1.2,
                    label=_METHOD_LABELS["full"],
                )
                axis.axhspan(mean - std, mean + std, color="black", alpha=0.08)
            for method in dict.fromkeys(part["method"]):
                if method == "full":
                    continue
                line = part[part["method"] == method].sort_values("compression_ratio")
                axis.errorbar(
                    line["compression_ratio"],
                    100 * line["test_accuracy_mean"],
                    yerr=100 * np.nan_to_num(line["test_accuracy_std"].to_numpy()),
                    marker="o",
                    markersize=4,
                    capsize=3,
                    label=_METHOD_LABELS.get(method, method),
                )
            axis.set_xscale("log", base=2)
            ratios = sorted(
                part.loc[part["method"] != "full", "compression_ratio"].unique()
            )
            if ratios:
                axis.set_xticks(ratios)
            axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _format_ratio(v)))
            axis.xaxis.set_minor_formatter(NullFormatter())
            axis.set_xlabel("compression ratio d / k")
            axis.set_ylabel("test accuracy (%)")
            d = int(
                round(part["n_components"].iloc[0] * part["compression_ratio"].iloc[0])
            )
            axis.set_title(f"{teacher} (d = {d})")
            axis.grid(True, which="major", alpha=0.3)
            axis.legend(fontsize="small")
        fig.tight_layout()
        return fig

    def _figure(self):
        return self.plot()
