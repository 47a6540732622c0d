"""An interrupted study resumes: finished rows are kept, only missing ones run."""

import pytest
from pandas.testing import assert_frame_equal
from sklearn.base import clone

from sklearn_subspace.study import _study, compression_study
from sklearn_subspace.study._checkpoint import StudyCheckpoint

STUDY = dict(
    n_components=[8, 4],
    projections=["gaussian"],
    baselines=["full", "pca"],
    seeds=2,
    intrinsic_dimension=False,
    progress=False,
)
N_CONFIGS = 2 + 2 * 2 * 2
_REAL_RUN_CONFIG = _study._run_config


def _without_times(table):
    # fit_time is measured, and resumed says which run measured it.
    return table.drop(columns=["fit_time", "resumed"])


class SimulatedCrash(Exception):
    """Stands in for the process dying between two configurations."""


class CountingRunner:
    """Wraps the per-configuration runner, counting calls; may fail after some."""

    def __init__(self, fail_after=None, error=SimulatedCrash):
        self.calls = 0
        self.fail_after = fail_after
        self.error = error

    def __call__(self, *args, **kwargs):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise self.error("simulated interruption")
        self.calls += 1
        return _REAL_RUN_CONFIG(*args, **kwargs)


@pytest.fixture
def fast_head(fast_head):
    # An AdamW head uses its seed, so every configuration runs: none is a
    # copy of another seed's (see test_study.py for those).
    return clone(fast_head).set_params(optimizer="adamw")


@pytest.fixture
def fresh(features, fast_head):
    return compression_study(*features, head=fast_head, **STUDY)


def test_rerun_skips_every_finished_configuration(
    features, fast_head, tmp_path, monkeypatch
):
    first = compression_study(
        *features, head=fast_head, checkpoint_dir=tmp_path, **STUDY
    )
    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    second = compression_study(
        *features, head=fast_head, checkpoint_dir=tmp_path, **STUDY
    )
    assert runner.calls == 0
    # Even the fit times come back: the rows are read, not recomputed.
    assert_frame_equal(
        second.table.drop(columns="resumed"), first.table.drop(columns="resumed")
    )
    assert second.table["resumed"].all() and not first.table["resumed"].any()
    assert second.checkpoint_path == first.checkpoint_path
    assert second.checkpoint_path.parent == tmp_path


def test_interrupted_study_resumes_and_equals_an_uninterrupted_one(
    features, fast_head, fresh, tmp_path, monkeypatch
):
    interrupted = CountingRunner(fail_after=3)
    monkeypatch.setattr(_study, "_run_config", interrupted)
    with pytest.raises(SimulatedCrash):
        compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    (path,) = tmp_path.glob("*.csv")
    assert len(_checkpoint_at(path).load()) == 3

    resumed_runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", resumed_runner)
    resumed = compression_study(
        *features, head=fast_head, checkpoint_dir=tmp_path, **STUDY
    )
    assert resumed_runner.calls == N_CONFIGS - 3
    assert_frame_equal(_without_times(resumed.table), _without_times(fresh.table))


def _checkpoint_at(path):
    checkpoint = StudyCheckpoint(path.parent, "x")
    checkpoint.path = path
    return checkpoint


def test_truncated_last_line_is_dropped_and_recomputed(
    features, fast_head, fresh, tmp_path, monkeypatch
):
    compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    (path,) = tmp_path.glob("*.csv")
    text = path.read_text()
    # A process killed mid-write leaves the last line without its newline.
    path.write_text(text[: len(text) - 9])

    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    resumed = compression_study(
        *features, head=fast_head, checkpoint_dir=tmp_path, **STUDY
    )
    assert runner.calls == 1
    assert_frame_equal(_without_times(resumed.table), _without_times(fresh.table))
    # The file is clean again: one header and one line per configuration.
    assert path.read_text().count("\n") == 1 + N_CONFIGS


def test_garbled_line_is_dropped_not_trusted(
    features, fast_head, tmp_path, monkeypatch
):
    compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    (path,) = tmp_path.glob("*.csv")
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = "features,gaussian,not-a-number\n"
    path.write_text("".join(lines))
    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    assert runner.calls == 1


def test_larger_grid_reuses_the_rows_it_shares(
    features, fast_head, tmp_path, monkeypatch
):
    compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    bigger = {**STUDY, "n_components": [16, 8, 4]}
    result = compression_study(
        *features, head=fast_head, checkpoint_dir=tmp_path, **bigger
    )
    assert runner.calls == 2 * 2  # k=16 for gaussian and pca, two seeds each
    assert len(result.table) == 2 + 2 * 3 * 2


def test_different_head_settings_do_not_reuse_rows(
    features, fast_head, tmp_path, monkeypatch
):
    compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    other_head = clone(fast_head).set_params(max_epochs=3)
    compression_study(*features, head=other_head, checkpoint_dir=tmp_path, **STUDY)
    assert runner.calls == N_CONFIGS
    assert len(list(tmp_path.glob("*.csv"))) == 2


def test_different_features_do_not_reuse_rows(
    features, fast_head, tmp_path, monkeypatch
):
    compression_study(*features, head=fast_head, checkpoint_dir=tmp_path, **STUDY)
    X_train, y_train, X_test, y_test = features
    runner = CountingRunner()
    monkeypatch.setattr(_study, "_run_config", runner)
    compression_study(
        X_train * 2,
        y_train,
        X_test,
        y_test,
        head=fast_head,
        checkpoint_dir=tmp_path,
        **STUDY,
    )
    assert runner.calls == N_CONFIGS


def test_checkpoint_rows_round_trip_exactly(tmp_path):
    row = dict(
        teacher="t,with comma",
        method="srht",
        n_components=8,
        seed=3,
        n_features=64,
        test_accuracy=0.1 + 0.2,
        fit_time=1e-7,
        n_epochs=12,
    )
    StudyCheckpoint(tmp_path, "abc").append(row)
    StudyCheckpoint(tmp_path, "abc").append({**row, "seed": 4})
    checkpoint = StudyCheckpoint(tmp_path, "abc")
    rows = checkpoint.load()
    assert rows == [row, {**row, "seed": 4}]
    assert checkpoint.key(rows[1]) == ("t,with comma", "srht", 8, 4)


def test_a_file_with_only_a_partial_header_is_discarded(tmp_path):
    checkpoint = StudyCheckpoint(tmp_path, "abc")
    checkpoint.path.write_text("teacher,meth")
    assert checkpoint.load() == []
    assert not checkpoint.path.exists()


def test_learned_head_settings_split_the_checkpoint_but_its_k_does_not(features):
    from sklearn_subspace.head import SubspaceHeadClassifier
    from sklearn_subspace.study._checkpoint import study_fingerprint

    head = SubspaceHeadClassifier(lr=1e-2)
    args = ("t", *features, head, None, None)
    plain = study_fingerprint(*args)
    learned = study_fingerprint(*args, SubspaceHeadClassifier(lr=1e-3))
    assert learned != plain
    assert learned != study_fingerprint(*args, SubspaceHeadClassifier(lr=3e-3))
    same_but_k_and_seed = SubspaceHeadClassifier(lr=1e-3, bottleneck=8, random_state=5)
    assert study_fingerprint(*args, same_but_k_and_seed) == learned
