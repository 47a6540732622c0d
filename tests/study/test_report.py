"""`StudyResult`: summary statistics, the markdown table, the figure, saving."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sklearn_subspace.study import StudyResult
from sklearn_subspace.study._report import OUTPUT_FILES, assemble_table


def _rows():
    rows = []
    accuracies = {
        ("full", 64): [0.90, 0.92, 0.94],
        ("gaussian", 16): [0.88, 0.90, 0.86],
        ("gaussian", 4): [0.70, 0.74, 0.72],
        ("pca", 16): [0.91, 0.91, 0.91],
        ("pca", 4): [0.80, 0.82, 0.84],
    }
    for (method, k), values in accuracies.items():
        for seed, acc in enumerate(values):
            rows.append(
                dict(
                    teacher="toy",
                    method=method,
                    n_components=k,
                    seed=seed,
                    n_features=64,
                    test_accuracy=acc,
                    fit_time=0.5 + seed,
                    n_epochs=7,
                )
            )
    return rows


def _table_cells(markdown):
    """The cells of the Markdown pipe table, stripped, without the rule."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]


def _configs(rows):
    return [(r["teacher"], r["method"], r["n_components"], r["seed"]) for r in rows]


@pytest.fixture
def result():
    rows = _rows()
    table = assemble_table(rows[::-1], _configs(rows), intrinsic_dimension=5.25)
    return StudyResult(
        table, intrinsic_dimension=5.25, n_train=100, n_test=50, wall_time=3.0
    )


def test_assembled_table_follows_the_configuration_order(result):
    rows = _rows()
    assert list(zip(result.table["method"], result.table["seed"])) == [
        (r["method"], r["seed"]) for r in rows
    ]


def test_assembled_table_ignores_rows_outside_the_study():
    rows = _rows()
    configs = [c for c in _configs(rows) if c[1] != "pca"]
    table = assemble_table(rows, configs)
    assert "pca" not in set(table["method"])
    assert len(table) == 9


def test_summary_is_mean_and_sample_std_over_seeds(result):
    summary = result.summary()
    assert len(summary) == 5
    row = summary[
        (summary["method"] == "gaussian") & (summary["n_components"] == 4)
    ].iloc[0]
    assert row["n_seeds"] == 3
    assert row["test_accuracy_mean"] == pytest.approx(0.72)
    assert row["test_accuracy_std"] == pytest.approx(np.std([0.70, 0.74, 0.72], ddof=1))
    assert row["delta_mean"] == pytest.approx(0.72 - 0.92)
    assert row["compression_ratio"] == 16.0
    assert row["fit_time_mean"] == pytest.approx(1.5)
    assert row["intrinsic_dimension"] == 5.25


def test_summary_std_is_nan_for_a_single_seed():
    rows = [r for r in _rows() if r["seed"] == 0]
    summary = StudyResult(assemble_table(rows, _configs(rows))).summary()
    assert summary["test_accuracy_std"].isna().all()
    assert (summary["n_seeds"] == 1).all()


def test_markdown_reports_full_head_and_one_row_per_k_with_delta(result):
    text = result.to_markdown()
    assert "### toy (d = 64)" in text
    assert "Full-d frozen head: 92.00 ± 2.00" in text
    assert _table_cells(text) == [
        ["k", "ratio", "gaussian", "PCA"],
        ["16", "4x", "88.00 ± 2.00 (−4.00)", "91.00 ± 0.00 (−1.00)"],
        ["4", "16x", "72.00 ± 2.00 (−20.00)", "82.00 ± 2.00 (−10.00)"],
    ]
    # Numbers right-aligned, method cells left-aligned.
    assert "|----:|--------:|:----" in text
    assert "Intrinsic dimension of the training features (TwoNN): 5.2" in text
    assert "100 training / 50 test samples" in text


def test_markdown_shows_positive_delta_with_a_plus_sign():
    rows = _rows()
    for r in rows:
        if r["method"] == "pca" and r["n_components"] == 16:
            r["test_accuracy"] = 0.95
    text = StudyResult(assemble_table(rows, _configs(rows))).to_markdown()
    assert "95.00 ± 0.00 (+3.00)" in text


def test_plot_draws_one_errorbar_line_per_method_and_the_full_reference(result):
    fig = result.plot()
    try:
        (ax,) = fig.axes
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert labels == ["full d (frozen head)", "gaussian", "PCA"]
        assert len(ax.containers) == 2  # errorbar containers: gaussian, PCA
        reference = ax.get_lines()[0]
        assert reference.get_ydata()[0] == pytest.approx(92.0)
        gaussian = ax.containers[0].lines[0]
        np.testing.assert_allclose(np.asarray(gaussian.get_xdata(), float), [4, 16])
        np.testing.assert_allclose(np.asarray(gaussian.get_ydata(), float), [88, 72])
        bars = ax.containers[0].lines[2][0].get_segments()
        assert bars[0][1, 1] - bars[0][0, 1] == pytest.approx(2 * 2.0)
        assert ax.get_xscale() == "log"
        assert ax.get_ylabel() == "test accuracy (%)"
    finally:
        plt.close(fig)


def test_plot_draws_on_given_axes(result):
    fig, ax = plt.subplots()
    try:
        assert result.plot(ax=ax) is fig
        assert len(ax.containers) == 2
    finally:
        plt.close(fig)


def test_save_writes_csv_markdown_and_png(result, tmp_path):
    paths = result.save(tmp_path / "out")
    assert {p.name for p in paths.values()} == set(OUTPUT_FILES.values())
    assert_frame_equal(pd.read_csv(paths["csv"]), result.table, check_dtype=False)
    assert paths["markdown"].read_text(encoding="utf-8") == result.to_markdown()
    assert paths["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing temporary left behind.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        OUTPUT_FILES.values()
    )


def test_save_leaves_no_open_figures(result, tmp_path):
    before = plt.get_fignums()
    result.save(tmp_path)
    assert plt.get_fignums() == before


def test_repr_names_teacher_and_methods(result):
    assert repr(result) == (
        "StudyResult(teacher='toy', n_rows=15, methods=['full', 'gaussian', 'pca'])"
    )


def test_learned_cells_that_can_hold_the_full_head_are_marked():
    # With 4 classes a learned bottleneck of k >= 3 can reproduce the full
    # linear head exactly; k = 2 cannot.
    rows = []
    for method, k in [("full", 16), ("learned", 8), ("learned", 3), ("learned", 2)]:
        rows.append(
            dict(
                teacher="t",
                method=method,
                n_components=k,
                seed=0,
                n_features=16,
                test_accuracy=0.9,
                fit_time=0.1,
                n_epochs=3,
                n_classes=4,
                converged=method != "learned" or k != 2,
            )
        )
    configs = [(r["teacher"], r["method"], r["n_components"], r["seed"]) for r in rows]
    markdown = StudyResult(assemble_table(rows, configs)).to_markdown()
    by_k = {cells[0]: cells for cells in _table_cells(markdown)[1:]}
    assert by_k["8"][-1].endswith("†")
    assert by_k["3"][-1].endswith("†")
    assert "†" not in by_k["2"][-1]
    assert "k ≥ n_classes − 1 = 3, a linear head behind a learned" in markdown
    assert "1 fit(s) stopped at max_epochs before converging" in markdown
