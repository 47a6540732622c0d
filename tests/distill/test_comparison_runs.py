"""The comparison's runs: resume, threads, honest timing, paired statistics."""

import time

import numpy as np
import pytest
import torch
from pandas.testing import assert_frame_equal
from torch import nn

from sklearn_subspace.distill import (
    DistillationComparison,
    _baselines,
    distillation_comparison,
)
from sklearn_subspace.head import SubspaceHeadClassifier

STUDENT = {"hidden_layer_sizes": (16,)}
TIMES = ["train_time", "head_time", "resumed"]
_REAL_RUN_CONFIG = _baselines._run_config


def _small(problem, **kwargs):
    X, y, F, X_test, y_test, F_test = problem
    settings = dict(
        teacher_features=F,
        teacher_features_test=F_test,
        n_components=[4],
        seeds=2,
        max_epochs=2,
        tol=None,
        batch_size=32,
        student_params=STUDENT,
        head=SubspaceHeadClassifier(lr=1e-2, batch_size=32, max_epochs=5),
        device="cpu",
    )
    return distillation_comparison(X, y, X_test, y_test, **{**settings, **kwargs})


class SimulatedCrash(Exception):
    """Stands in for the process dying between two runs."""


class CountingRunner:
    """Wraps the per-run function, counting calls; may fail after some."""

    def __init__(self, fail_after=None):
        self.calls = []
        self.fail_after = fail_after

    def __call__(self, config, data):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise SimulatedCrash("simulated interruption")
        self.calls.append(config)
        return _REAL_RUN_CONFIG(config, data)


# -- resume ------------------------------------------------------------------------
N_RUNS = 2 * (1 + 4)  # per seed: the teacher reference and four students


@pytest.mark.slow  # runs the comparison four times
def test_interrupted_comparison_resumes_and_equals_an_uninterrupted_one(
    problem, tmp_path, monkeypatch
):
    fresh = _small(problem)
    monkeypatch.setattr(_baselines, "_run_config", CountingRunner(fail_after=3))
    with pytest.raises(SimulatedCrash):
        _small(problem, checkpoint_dir=tmp_path)
    (csv,) = tmp_path.glob("*.csv")
    assert csv.read_text().count("\n") == 1 + 3
    # The predictions of the three finished runs are on disk beside it.
    assert len(list(tmp_path.glob("*.arrays/*.npy"))) == 3

    resumed_runner = CountingRunner()
    monkeypatch.setattr(_baselines, "_run_config", resumed_runner)
    resumed = _small(problem, checkpoint_dir=tmp_path)
    assert len(resumed_runner.calls) == N_RUNS - 3
    assert resumed.table["resumed"].sum() == 3
    assert_frame_equal(
        resumed.table.drop(columns=TIMES), fresh.table.drop(columns=TIMES)
    )
    assert resumed.histories == fresh.histories
    assert resumed.predictions.keys() == fresh.predictions.keys()
    for key, predicted in fresh.predictions.items():
        np.testing.assert_array_equal(resumed.predictions[key], predicted)
    assert_frame_equal(resumed.paired_differences(), fresh.paired_differences())

    again = CountingRunner()
    monkeypatch.setattr(_baselines, "_run_config", again)
    _small(problem, checkpoint_dir=tmp_path)
    assert again.calls == []


@pytest.mark.parametrize(
    "change",
    [
        {"lr": 2e-3},
        {"temperature": 2.0},
        {"student_params": {"hidden_layer_sizes": (8,)}},
        {"head": SubspaceHeadClassifier(lr=1e-2, batch_size=32, max_epochs=4)},
        {"n_threads": 2},
    ],
    ids=["lr", "temperature", "student", "head", "threads"],
)
def test_other_settings_never_reuse_rows(problem, tmp_path, monkeypatch, change):
    _small(problem, methods=["scratch", "kd"], seeds=1, checkpoint_dir=tmp_path)
    runner = CountingRunner()
    monkeypatch.setattr(_baselines, "_run_config", runner)
    _small(
        problem, methods=["scratch", "kd"], seeds=1, checkpoint_dir=tmp_path, **change
    )
    assert len(runner.calls) == 3  # teacher, scratch and KD, all run again
    assert len(list(tmp_path.glob("*.csv"))) == 2


def test_other_teacher_features_never_reuse_rows(problem, tmp_path, monkeypatch):
    X, y, F, X_test, y_test, F_test = problem
    _small(problem, methods=["scratch"], seeds=1, checkpoint_dir=tmp_path)
    runner = CountingRunner()
    monkeypatch.setattr(_baselines, "_run_config", runner)
    _small(
        problem,
        methods=["scratch"],
        seeds=1,
        checkpoint_dir=tmp_path,
        teacher_features=F * 2,
    )
    assert len(runner.calls) == 2


# -- threads and timing -------------------------------------------------------------
class ThreadRecorder(nn.Module):
    """A student wide enough that the engine keeps the caller's thread count."""

    seen = []

    def __init__(self, n_outputs, width=4096):
        super().__init__()
        self.body = nn.Linear(12, width)
        self.out = nn.Linear(width, n_outputs)

    def forward(self, X):
        if self.training:
            ThreadRecorder.seen.append(torch.get_num_threads())
        return self.out(torch.relu(self.body(X)))


@pytest.mark.parametrize("n_threads, expected", [(2, 2), (None, 1)])
def test_students_train_under_n_threads(problem, n_threads, expected):
    # The folder's fixture runs tests on one thread; None keeps that.
    ThreadRecorder.seen = []
    _small(
        problem,
        student=ThreadRecorder,
        student_params=None,
        methods=["scratch"],
        seeds=1,
        max_epochs=1,
        batch_size=512,
        n_threads=n_threads,
    )
    assert ThreadRecorder.seen and set(ThreadRecorder.seen) == {expected}
    assert torch.get_num_threads() == 1  # put back afterwards


class SlowHead(SubspaceHeadClassifier):
    """A head whose every fit takes a second longer."""

    def fit(self, X, y, **kwargs):
        time.sleep(1.0)
        return super().fit(X, y, **kwargs)


@pytest.mark.slow  # its head sleeps a second, to be seen in the times
def test_fitnets_train_time_leaves_out_the_full_head_fit(problem):
    result = _small(
        problem,
        head=SlowHead(lr=1e-2, batch_size=32, max_epochs=5),
        methods=["kd", "fitnets"],
        seeds=1,
        max_epochs=1,
    )
    table = result.table.set_index("method")
    # The full-d head is fitted once per seed and reported once, there.
    assert table.loc["teacher", "head_time"] >= 1.0
    assert table.loc["fitnets", "train_time"] < 1.0
    assert table.loc["kd", "train_time"] < 1.0
    assert table.loc[["kd", "fitnets"], "head_time"].isna().all()


# -- external teachers ------------------------------------------------------------
def test_a_bare_module_as_teacher_says_how_to_wrap_it(problem):
    X, y, F, X_test, y_test, _ = problem
    with pytest.raises(TypeError, match=r"TorchFeatureExtractor\(model=module") as e:
        distillation_comparison(X, y, X_test, y_test, teacher=nn.Linear(12, 8))
    assert "teacher_features=" in str(e.value)
    assert "not an estimator" not in str(e.value)


class SmallConvNet(nn.Module):
    """Logits from (n, 1, 28, 28) images."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 5)
        self.out = nn.Linear(2 * 24 * 24, 3)

    def forward(self, X):
        return self.out(torch.flatten(self.conv(X), 1))


def _images(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def test_teacher_logits_network_that_fails_on_the_inputs_is_explained(problem):
    y, y_test = problem[1][:40], problem[4][:20]
    X, X_test = _images(40, 0), _images(20, 1)
    F = np.random.default_rng(0).random((40, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="teacher_logits failed on the inputs") as e:
        distillation_comparison(
            X,
            y,
            X_test,
            y_test,
            teacher_features=F,
            teacher_logits=SmallConvNet(),
            methods=["kd"],
            device="cpu",
        )
    message = str(e.value)
    assert "shape (batch, 28, 28)" in message
    assert "uint8 images scaled to [0, 1]" in message
    assert "X[:, None]" in message


def test_teacher_logits_network_reads_uint8_images_scaled(problem):
    y, y_test = problem[1][:60], problem[4][:30]
    X, X_test = _images(60, 0)[:, None], _images(30, 1)[:, None]
    F = np.random.default_rng(0).random((60, 8)).astype(np.float32)
    torch.manual_seed(0)
    network = SmallConvNet()
    result = distillation_comparison(
        X,
        y,
        X_test,
        y_test,
        teacher_features=F,
        teacher_logits=network,
        methods=["kd"],
        seeds=1,
        max_epochs=1,
        tol=None,
        device="cpu",
    )
    with torch.no_grad():
        logits = network(torch.as_tensor(X_test / np.float32(255)))
    np.testing.assert_array_equal(
        result.predictions[("teacher", None, 0)], logits.argmax(1).numpy()
    )


# -- variants and paired statistics -------------------------------------------------
def test_subspace_loss_variants_are_opt_in_runs(problem):
    result = _small(
        problem,
        methods=["subspace", "subspace-cosine", "subspace-mixed"],
        seeds=1,
        mixed_alpha=0.0,
    )
    table = result.table.set_index("method")
    assert list(table.index) == [
        "teacher",
        "subspace",
        "subspace-cosine",
        "subspace-mixed",
    ]
    # alpha=0 leaves only the regression: the mixed loss trains as mse.
    mixed = result.histories[("subspace-mixed", 4, 0)]
    mse = result.histories[("subspace", 4, 0)]
    np.testing.assert_allclose(mixed["train_loss"], mse["train_loss"], rtol=1e-5)
    assert mixed["valid_accuracy"] == mse["valid_accuracy"]
    assert "Mixed loss: alpha = 0.0." in result.to_markdown()


def test_every_run_keeps_its_test_predictions(problem):
    result = _small(problem, methods=["scratch", "subspace"])
    y_test = problem[4]
    for _, row in result.table.iterrows():
        k = None if np.isnan(row["n_components"]) else int(row["n_components"])
        predicted = result.predictions[(row["method"], k, row["seed"])]
        assert predicted.shape == y_test.shape
        assert np.mean(predicted == y_test) == row["test_accuracy"]


def _result_with(predictions, y_test):
    rows = [
        dict(method=m, n_components=k, seed=s, test_accuracy=np.mean(p == y_test))
        for (m, k, s), p in predictions.items()
    ]
    return DistillationComparison(rows, {}, predictions=predictions, y_test=y_test)


def test_mcnemar_p_value_matches_the_exact_binomial_by_hand():
    y_test = np.zeros(12, dtype=int)
    baseline = np.zeros(12, dtype=int)
    baseline[0] = 1  # wrong on sample 0 only
    method = np.ones(12, dtype=int)
    method[[0, 10, 11]] = 0  # right on 0, 10 and 11
    result = _result_with(
        {("scratch", None, 0): baseline, ("subspace", 4, 0): method}, y_test
    )
    (row,) = result.paired_differences().to_dict("records")
    # b = 1 (only the method right), c = 9 (only the baseline right):
    # p = 2 * (C(10, 0) + C(10, 1)) / 2**10.
    assert (row["n_only_method"], row["n_only_baseline"]) == (1, 9)
    assert row["mcnemar_p"] == 2 * (1 + 10) / 2**10 == 0.021484375
    assert row["differences"] == pytest.approx((3 / 12 - 11 / 12,))
    assert np.isnan(row["ci_low"])  # one seed: no interval


def test_paired_differences_pool_seeds_and_give_a_t_interval():
    y_test = np.array([0, 1, 1, 0])
    predictions = {
        ("scratch", None, 0): np.array([0, 0, 0, 0]),  # 2 / 4
        ("scratch", None, 1): np.array([0, 1, 0, 0]),  # 3 / 4
        ("kd", None, 0): np.array([0, 1, 1, 0]),  # 4 / 4
        ("kd", None, 1): np.array([0, 1, 0, 0]),  # 3 / 4
    }
    result = _result_with(predictions, y_test)
    (row,) = result.paired_differences("scratch").to_dict("records")
    assert row["differences"] == (0.5, 0.0)
    assert row["mean_difference"] == 0.25
    # mean +- t(0.975, 1) * sd / sqrt(2), sd = 0.5 / sqrt(2)
    half = 12.706204736174698 * 0.25
    assert row["ci_low"] == pytest.approx(0.25 - half)
    assert row["ci_high"] == pytest.approx(0.25 + half)
    assert (row["n_only_method"], row["n_only_baseline"], row["mcnemar_p"]) == (
        2,
        0,
        0.5,
    )
    # Against KD, scratch is the method.
    (flipped,) = result.paired_differences("kd").to_dict("records")
    assert flipped["method"] == "scratch" and flipped["mean_difference"] == -0.25
    with pytest.raises(ValueError, match="No runs of baseline 'fitnets'"):
        result.paired_differences("fitnets")


def test_markdown_holds_the_paired_table(problem):
    result = _small(problem, methods=["scratch", "kd", "subspace"])
    text = result.to_markdown()
    assert "McNemar p" in text
    paired = result.paired_differences()
    # KD and subspace against scratch, subspace against KD.
    assert list(zip(paired["baseline"], paired["method"])) == [
        ("scratch", "kd"),
        ("scratch", "subspace"),
        ("kd", "subspace"),
    ]
    assert (paired["n_seeds"] == 2).all()


# -- parallel runs ------------------------------------------------------------------
def _without_times(result):
    return result.table.drop(columns=TIMES)


@pytest.mark.slow  # starts a dask cluster
def test_dask_client_runs_equal_serial_runs(problem):
    distributed = pytest.importorskip("distributed")
    serial = _small(problem, methods=["scratch", "fitnets", "subspace"])
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"
    ) as client:
        parallel = _small(
            problem, methods=["scratch", "fitnets", "subspace"], client=client
        )
    assert_frame_equal(_without_times(parallel), _without_times(serial))
    assert parallel.histories == serial.histories
