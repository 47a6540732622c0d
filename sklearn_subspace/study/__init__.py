"""The compression study: the paper's Table 2 as one call and one command.

:func:`compression_study` extracts teacher features once, then trains a head
on every (method, k, seed) configuration: each random projection family, the
PCA and learned-bottleneck baselines and the full-d frozen head, over several
seeds, with model selection on training data only. It returns a
:class:`StudyResult` with a tidy table, a mean ± std summary, a paper-style
markdown table and a figure. :func:`load_embedded_task` provides the
always-available digits task with a small locally trained CNN teacher.
"""

from ..datasets import DatasetUnavailableError, load_embedded_task
from ._report import StudyResult
from ._study import compression_study

__all__ = [
    "DatasetUnavailableError",
    "StudyResult",
    "compression_study",
    "load_embedded_task",
]
