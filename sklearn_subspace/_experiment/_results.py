"""The base of the experiments' result classes.

A result holds one row per (configuration, seed) in ``table``. The base
class writes, once for every experiment, what they share: the mean ± std
over seeds (:meth:`ExperimentResult.summary`), Markdown tables through
:meth:`pandas.DataFrame.to_markdown`, the HTML view for notebooks, and
:meth:`ExperimentResult.save`, which writes the CSV, the Markdown and the
figure (the subclass's plot hook) atomically.
"""

from pathlib import Path

from .._atomic import atomic_write_to_path


def summarize(table, keys, *, mean_std=(), mean=(), first=()):
    """Aggregate a per-seed table over seeds, one row per ``keys``.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per configuration and seed, with a ``seed`` column.
    keys : list of str
        Columns naming a configuration (NaN is a key value like any other).
    mean_std : sequence of str, default=()
        Columns reported as ``<name>_mean`` and ``<name>_std`` (sample
        standard deviation, ``ddof=1``; NaN for a single seed).
    mean : sequence of str, default=()
        Columns reported as ``<name>_mean`` only.
    first : sequence of str, default=()
        Columns constant within a configuration, reported as they are.

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``n_seeds`` and the aggregates, in the table's order.
        Columns missing from ``table`` are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_subspace._experiment._results import summarize
    >>> table = pd.DataFrame({"method": ["a", "a", "b"], "seed": [0, 1, 0],
    ...                       "accuracy": [0.5, 0.7, 0.9]})
    >>> summarize(table, ["method"], mean_std=["accuracy"])
      method  n_seeds  accuracy_mean  accuracy_std
    0      a        2            0.6      0.141421
    1      b        1            0.9           NaN
    """
    spec = {"n_seeds": ("seed", "nunique")}
    for column in mean_std:
        if column in table:
            spec[f"{column}_mean"] = (column, "mean")
            spec[f"{column}_std"] = (column, "std")
    for column in mean:
        if column in table:
            spec[f"{column}_mean"] = (column, "mean")
    for column in first:
        if column in table:
            spec[column] = (column, "first")
    grouped = table.groupby(list(keys), sort=False, dropna=False)
    return grouped.agg(**spec).reset_index()


def markdown_table(frame, align):
    """A pipe table of string cells, through :meth:`pandas.DataFrame.to_markdown`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The cells, already formatted as text.
    align : sequence of {"left", "right"}
        One alignment per column.

    Returns
    -------
    str
        GitHub-flavoured Markdown, without a trailing newline.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_subspace._experiment._results import markdown_table
    >>> print(markdown_table(pd.DataFrame({"k": ["8"], "acc": ["90.00"]}),
    ...                      ["right", "left"]))
    |   k | acc   |
    |----:|:------|
    |   8 | 90.00 |
    """
    # Cells are text already: no number parsing, which would reformat them.
    return frame.to_markdown(index=False, disable_numparse=True, colalign=align)


class ExperimentResult:
    """Base of the result classes: a per-seed table and what is made of it.

    Subclasses name their configuration columns and aggregates, and give
    :meth:`to_markdown` and the figure (:meth:`_figure`).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per configuration and seed.
    wall_time : float, default=None
        Seconds the run took in this call.
    checkpoint_path : pathlib.Path, default=None
        The CSV file of the run's partial results, when checkpointing was on.
    """

    #: File names written by :meth:`save`, under ``"csv"``, ``"markdown"``
    #: and ``"figure"``.
    OUTPUT_FILES = {}
    #: Columns that name a configuration (the summary's keys).
    _config_columns = ()
    #: Columns averaged over seeds, with their standard deviation.
    _mean_std_columns = ()
    #: Columns averaged over seeds.
    _mean_columns = ()
    #: Columns constant within a configuration.
    _first_columns = ()

    def __init__(self, table, *, wall_time=None, checkpoint_path=None):
        self.table = table
        self.wall_time = wall_time
        self.checkpoint_path = checkpoint_path

    def _ordered_table(self):
        """The table in the order the summary lists configurations."""
        return self.table

    def summary(self):
        """Mean ± standard deviation over seeds, one row per configuration.

        The standard deviation is the sample standard deviation (``ddof=1``);
        it is NaN when a configuration ran with a single seed.

        Returns
        -------
        pandas.DataFrame
            The configuration columns, ``n_seeds``, then ``<column>_mean``
            and ``<column>_std`` for the measured columns.
        """
        return summarize(
            self._ordered_table(),
            self._config_columns,
            mean_std=self._mean_std_columns,
            mean=self._mean_columns,
            first=self._first_columns,
        )

    def to_markdown(self):
        """The result as GitHub-flavoured Markdown."""
        raise NotImplementedError

    def _figure(self):
        """The figure :meth:`save` writes (the plot hook)."""
        raise NotImplementedError

    def _repr_html_(self):
        """The Markdown tables as HTML, for notebooks and the example gallery."""
        from .._markdown_html import markdown_to_html

        return markdown_to_html(self.to_markdown())

    def save(self, out_dir):
        """Write the table (CSV), the Markdown report and the figure (PNG).

        Each file is written to a temporary name and renamed, so an
        interrupted save never leaves a half-written file.

        Parameters
        ----------
        out_dir : str or path-like
            Folder to write to; created when missing.

        Returns
        -------
        dict
            Paths of the written files under the keys ``"csv"``,
            ``"markdown"`` and ``"figure"``.
        """
        import matplotlib.pyplot as plt

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {key: out / name for key, name in self.OUTPUT_FILES.items()}
        markdown = self.to_markdown()
        atomic_write_to_path(paths["csv"], lambda p: self.table.to_csv(p, index=False))
        atomic_write_to_path(
            paths["markdown"], lambda p: Path(p).write_text(markdown, encoding="utf-8")
        )
        fig = self._figure()
        try:
            atomic_write_to_path(
                paths["figure"],
                lambda p: fig.savefig(p, dpi=120, format="png", bbox_inches="tight"),
            )
        finally:
            plt.close(fig)
        return paths
