import matplotlib
import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_sample_weight
from skorch.callbacks import Callback
from torch import nn

from sklearn_subspace.distill import (
    METHODS,
    DistillationComparison,
    StudentMLP,
    distillation_comparison,
)
from sklearn_subspace.distill._result import ALL_METHODS

matplotlib.use("Agg")

STUDENT = {"hidden_layer_sizes": (16,)}


@pytest.fixture(scope="module")
def comparison(problem):
    X, y, F, X_test, y_test, F_test = problem
    from sklearn_subspace.head import SubspaceHeadClassifier

    return distillation_comparison(
        X,
        y,
        X_test,
        y_test,
        teacher_features=F,
        teacher_features_test=F_test,
        student_params=STUDENT,
        n_components=[4, 8],
        seeds=3,
        head=SubspaceHeadClassifier(lr=1e-2, batch_size=32, max_epochs=10),
        max_epochs=4,
        tol=None,
        batch_size=32,
        lr=3e-3,
        device="cpu",
    )


def test_table_has_one_row_per_method_k_and_seed(comparison):
    table = comparison.table
    counts = table.groupby("method", sort=False).size().to_dict()
    # scratch and KD once per seed; FitNets and subspace once per k and seed;
    # the teacher reference (full-d head on teacher features) once per seed.
    assert counts == {"teacher": 3, "scratch": 3, "kd": 3, "fitnets": 6, "subspace": 6}
    assert sorted(table["seed"].unique()) == [0, 1, 2]
    assert table["test_accuracy"].between(0, 1).all()
    students = table[table["method"] != "teacher"]
    # The same budget: every student ran the same number of epochs.
    assert (students["n_epochs"] == 4).all()
    assert students["best_epoch"].between(1, 4).all()


def test_summary_reports_mean_and_std_over_seeds(comparison):
    summary = comparison.summary()
    assert list(summary["method"]) == [
        "teacher",
        "scratch",
        "kd",
        "fitnets",
        "fitnets",
        "subspace",
        "subspace",
    ]
    assert (summary["n_seeds"] == 3).all()
    table = comparison.table
    sub8 = table[(table["method"] == "subspace") & (table["n_components"] == 8)]
    row = summary[(summary["method"] == "subspace") & (summary["n_components"] == 8)]
    assert row["test_accuracy_mean"].item() == pytest.approx(
        sub8["test_accuracy"].mean()
    )
    assert row["test_accuracy_std"].item() == pytest.approx(sub8["test_accuracy"].std())


def test_deployed_sizes_follow_the_student_and_its_head(comparison):
    summary = comparison.summary().set_index(["method", "n_components"], drop=False)
    n_classes = 3
    scratch = StudentMLP(n_classes, **STUDENT, n_inputs=12)
    n_scratch = sum(p.numel() for p in scratch.parameters())
    assert summary.loc[("scratch", np.nan), "deployed_params"].item() == n_scratch
    assert summary.loc[("kd", np.nan), "deployed_params"].item() == n_scratch
    for k in (4, 8):
        body = StudentMLP(k, **STUDENT, n_inputs=12)
        expected = sum(p.numel() for p in body.parameters()) + k * n_classes + n_classes
        assert summary.loc[("subspace", k), "deployed_params"].item() == expected
        assert summary.loc[("fitnets", k), "deployed_params"].item() == expected


def test_teacher_feature_accuracy_is_the_heads_ceiling(comparison):
    summary = comparison.summary()
    students = summary[summary["method"].isin(["fitnets", "subspace"])]
    assert students["teacher_feature_accuracy_mean"].between(0.34, 1).all()
    others = summary[summary["method"].isin(["scratch", "kd"])]
    assert others["teacher_feature_accuracy_mean"].isna().all()


def test_kd_logits_default_to_the_full_feature_head(comparison):
    assert comparison.teacher_logits_source == "linear head on full teacher features"
    assert "logits from the linear head on full teacher features" in (
        comparison.to_markdown()
    )


def _table_cells(markdown):
    """Rows of cells (stripped) of every Markdown pipe table, rules left out."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]


def test_markdown_table_lists_every_method_with_mean_and_std(comparison):
    text = comparison.to_markdown()
    cells = _table_cells(text.split("\n\n")[0])  # the first table
    assert cells[0][:3] == ["method", "k", "test accuracy (%)"]
    assert [row[:2] for row in cells if row[0] == "subspace-native"] == [
        ["subspace-native", "4"],
        ["subspace-native", "8"],
    ]
    (scratch,) = [row for row in cells if row[0] == "scratch (cross-entropy)"]
    assert scratch[1] == "" and " ± " in scratch[2]
    assert "Mean ± std over 3 seed(s)" in text
    assert "4 epochs, batch 32; best epoch on a 0.1 validation split" in text
    # The full-d head's time is reported once, in a note, not per student.
    assert "fitted once per seed" in text


def test_learning_curves_average_the_validation_accuracy(comparison):
    curves = comparison.learning_curves()
    assert len(curves) == 4 * (
        2 + 2 + 2
    )  # epochs x (scratch, kd, 2 fitnets, 2 subspace)
    part = curves[(curves["method"] == "scratch")]
    histories = [comparison.histories[("scratch", None, s)] for s in range(3)]
    expected = np.mean([h["valid_accuracy"] for h in histories], axis=0)
    np.testing.assert_allclose(part["valid_accuracy_mean"], expected)

    ax = comparison.plot_learning_curves()
    assert len(ax.get_lines()) == 6
    assert ax.get_ylabel() == "validation accuracy (%)"


def test_save_writes_table_markdown_and_figure(comparison, tmp_path):
    paths = comparison.save(tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "distillation_comparison.csv",
        "distillation_comparison.md",
        "distillation_learning_curves.png",
    }
    assert all(p.stat().st_size > 0 for p in paths.values())


def test_same_seed_gives_the_same_split_and_initial_student_for_every_method(problem):
    # Same seed, same budget: a scratch and a KD student with alpha=0 (pure
    # cross-entropy) are the same training run.
    X, y, F, X_test, y_test, _ = problem
    result = distillation_comparison(
        X,
        y,
        X_test,
        y_test,
        teacher_features=F,
        methods=["scratch", "kd"],
        alpha=0.0,
        seeds=1,
        max_epochs=2,
        tol=None,
        student_params=STUDENT,
        device="cpu",
    )
    scratch = result.histories[("scratch", None, 0)]
    kd = result.histories[("kd", None, 0)]
    np.testing.assert_allclose(scratch["train_loss"], kd["train_loss"], rtol=1e-5)
    accuracy = result.table.set_index("method")["test_accuracy"]
    assert accuracy["scratch"] == accuracy["kd"]


def test_teacher_network_logits_are_used_for_kd(problem):
    X, y, F, X_test, y_test, _ = problem
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(12, 3))
    result = distillation_comparison(
        X,
        y,
        X_test,
        y_test,
        teacher_features=F,
        teacher_logits=teacher,
        methods=["kd"],
        seeds=1,
        max_epochs=1,
        tol=None,
        student_params=STUDENT,
        device="cpu",
    )
    assert result.teacher_logits_source == "teacher network output"
    reference = result.table[result.table["method"] == "teacher"]
    with torch.no_grad():
        expected = (teacher(torch.as_tensor(X_test)).argmax(1).numpy() == y_test).mean()
    assert reference["test_accuracy"].item() == pytest.approx(expected)
    assert reference["deployed_params"].item() == 12 * 3 + 3


def test_comparison_is_deterministic(problem):
    X, y, F, X_test, y_test, _ = problem
    kwargs = dict(
        teacher_features=F,
        n_components=[4],
        methods=["fitnets", "subspace"],
        seeds=1,
        max_epochs=2,
        tol=None,
        student_params=STUDENT,
        device="cpu",
        random_state=3,
    )
    first = distillation_comparison(X, y, X_test, y_test, **kwargs)
    second = distillation_comparison(X, y, X_test, y_test, **kwargs)
    columns = ["method", "n_components", "seed", "test_accuracy", "best_epoch"]
    assert first.table[columns].equals(second.table[columns])
    assert first.histories == second.histories


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"methods": ["scratch", "dark"]}, ValueError, r"Unknown methods \['dark'\]"),
        ({"n_components": [4, 100]}, ValueError, r"\[100\] exceed .* d=48"),
        ({"seeds": 0}, ValueError, "'seeds' parameter .* in the range \\[1, inf\\)"),
        ({"temperature": 0}, ValueError, "'temperature' parameter .* \\(0.0, inf\\)"),
        ({"projection": "dct"}, ValueError, "'projection' parameter .* Got 'dct'"),
        ({"mixed_alpha": 1.5}, ValueError, "'mixed_alpha' parameter .* \\[0.0, 1.0\\]"),
        ({"n_threads": 0}, ValueError, "'n_threads' parameter"),
        ({"methods": ["subspace-l1"]}, ValueError, "Unknown methods.*subspace-mixed"),
        (
            {"teacher_logits": np.zeros((5, 3)), "n_components": [4]},
            ValueError,
            r"shape \(5, 3\).*\(180, 3\)",
        ),
        (
            {"student_params": {"n_outputs": 4}},
            ValueError,
            "n_outputs, but the comparison sets it itself.*Remove n_outputs",
        ),
        ({"teacher_features": None}, ValueError, "needs the teacher"),
    ],
)
def test_bad_arguments_raise_clear_errors(problem, kwargs, error, match):
    X, y, F, X_test, y_test, _ = problem
    arguments = {
        "teacher_features": F,
        "seeds": 1,
        "max_epochs": 1,
        "tol": None,
        "device": "cpu",
    }
    with pytest.raises(error, match=match):
        distillation_comparison(X, y, X_test, y_test, **{**arguments, **kwargs})


def test_teacher_features_of_the_wrong_length_are_rejected(problem):
    X, y, F, X_test, y_test, _ = problem
    with pytest.raises(ValueError, match="teacher_features has 179 rows"):
        distillation_comparison(X, y, X_test, y_test, teacher_features=F[1:])


def test_methods_constant_lists_the_four_students():
    assert METHODS == ("scratch", "kd", "fitnets", "subspace")
    assert ALL_METHODS == (*METHODS, "subspace-cosine", "subspace-mixed")


def test_result_repr_names_its_methods(comparison):
    assert repr(comparison).startswith("DistillationComparison(21 runs")
    assert isinstance(comparison, DistillationComparison)


class _ValidationRows(Callback):
    """Records, per trained student, the inputs of its validation part."""

    def __init__(self):
        self.rows = []

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.rows.append(None)

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.rows[-1] = dataset_valid.X.numpy().copy()


def test_every_method_validates_on_the_same_rows_through_user_callbacks(problem):
    X, y, F, X_test, y_test, _ = problem
    recorder = _ValidationRows()
    distillation_comparison(
        X,
        y,
        X_test,
        y_test,
        teacher_features=F,
        n_components=[4],
        seeds=1,
        max_epochs=1,
        tol=None,
        student_params=STUDENT,
        callbacks=[recorder],
        device="cpu",
    )
    assert len(recorder.rows) == 4  # scratch, kd, fitnets, subspace
    first = recorder.rows[0]
    assert first.shape == (18, 12)  # 10 % of 180, every class on both sides
    for rows in recorder.rows[1:]:
        np.testing.assert_array_equal(rows, first)


def test_class_weight_is_the_matching_sample_weight_for_students_and_heads(
    problem,
):
    X, y, F, X_test, y_test, F_test = problem
    kwargs = dict(
        teacher_features=F,
        teacher_features_test=F_test,
        n_components=[4],
        methods=["scratch", "fitnets", "subspace"],
        seeds=1,
        max_epochs=2,
        tol=None,
        student_params=STUDENT,
        device="cpu",
    )
    # An unbalanced training set, so that balancing changes the weights.
    keep = (y != 2) | (np.arange(len(y)) % 3 == 0)
    X, y, F = X[keep], y[keep], F[keep]
    kwargs["teacher_features"] = F
    balanced = distillation_comparison(
        X, y, X_test, y_test, class_weight="balanced", **kwargs
    )
    weighted = distillation_comparison(
        X,
        y,
        X_test,
        y_test,
        sample_weight=compute_sample_weight("balanced", y),
        **kwargs,
    )
    plain = distillation_comparison(X, y, X_test, y_test, **kwargs)
    assert balanced.histories == weighted.histories
    columns = ["method", "n_components", "test_accuracy", "teacher_feature_accuracy"]
    assert balanced.table[columns].equals(weighted.table[columns])
    for key, history in plain.histories.items():
        assert history["train_loss"] != balanced.histories[key]["train_loss"]


def test_students_that_hit_max_epochs_warn(problem):
    X, y, F, X_test, y_test, _ = problem
    with pytest.warns(ConvergenceWarning, match="scratch student stopped at"):
        result = distillation_comparison(
            X,
            y,
            X_test,
            y_test,
            teacher_features=F,
            methods=["scratch"],
            seeds=1,
            max_epochs=2,
            student_params=STUDENT,
            device="cpu",
        )
    assert (
        "at most 2 epochs, stopping 10 epochs after the validation accuracy last "
        "improved" in result.to_markdown()
    )
