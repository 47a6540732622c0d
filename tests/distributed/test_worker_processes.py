"""Studies and comparisons on joblib's worker processes equal their serial runs.

Both run through the one experiment runner. Their tests share this file so
that they share joblib's pool of worker processes, each of which imports
torch once: under pytest-xdist a file's tests stay on one worker.
"""

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from sklearn_subspace.study import compression_study
from tests.distill.test_comparison_runs import _small
from tests.distill.test_comparison_runs import _without_times as _comparison_rows
from tests.study.test_study import STUDY
from tests.study.test_study import _without_times as _study_rows

# Each test starts (or reuses) two worker processes that import torch: slow.
pytestmark = pytest.mark.slow


def test_a_study_on_worker_processes_equals_the_serial_study(features, fast_head):
    # Two configurations, two worker processes: the cost is the workers' start.
    study = {**STUDY, "n_components": [8], "projections": ["gaussian"], "baselines": []}
    serial = compression_study(*features, head=fast_head, **study)
    parallel = compression_study(*features, head=fast_head, n_jobs=2, **study)
    assert_frame_equal(_study_rows(parallel.table), _study_rows(serial.table))


def test_a_comparison_on_worker_processes_equals_the_serial_runs(problem):
    serial = _small(problem, methods=["kd", "fitnets"])
    parallel = _small(problem, methods=["kd", "fitnets"], n_jobs=2)
    assert_frame_equal(_comparison_rows(parallel), _comparison_rows(serial))
    assert parallel.histories == serial.histories
    for key, predicted in serial.predictions.items():
        np.testing.assert_array_equal(parallel.predictions[key], predicted)
