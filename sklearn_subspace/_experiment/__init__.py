"""The one experiment runner below the study and the distillation comparison.

An experiment is a list of configurations (named records, such as
``(method, k, seed)``) and one picklable function that runs a configuration
on shared data and returns its row. :mod:`._runner` runs them serially, in
joblib worker processes or on a dask cluster, each under a fixed number of
threads, with a progress bar and a clean stop on SIGTERM; :mod:`._checkpoint`
keeps finished rows (and their per-sample arrays) on disk so that a killed
experiment resumes; :mod:`._results` is the base of the result classes and
:mod:`._paired` the paired statistics between methods.

:mod:`sklearn_subspace.study` and :mod:`sklearn_subspace.distill` import
from here; nothing here imports from them.
"""

from ._checkpoint import Fingerprint, RowCheckpoint, RowSchema, library_versions
from ._runner import Experiment, default_n_jobs, workers_stop_on_sigterm

__all__ = [
    "Experiment",
    "Fingerprint",
    "RowCheckpoint",
    "RowSchema",
    "default_n_jobs",
    "library_versions",
    "workers_stop_on_sigterm",
]
