"""Reading order of the example gallery, within each topic.

Examples listed in :data:`READING_ORDER` come first, in that order (a topic
shows the ones it holds); any other example follows, by file name.
"""

from pathlib import Path

#: Example file names in the order a reader should meet them.
READING_ORDER = (
    "plot_jl_distortion.py",
    "plot_projection_speed.py",
    "plot_gridsearch_k_projection.py",
    "plot_compression_study.py",
    "plot_export_small_head.py",
    "plot_subspace_distillation.py",
    "plot_dask_scaling.py",
)


class ReadingOrder:
    """Sort key for ``within_subsection_order`` in ``sphinx_gallery_conf``.

    Parameters
    ----------
    src_dir : str
        The folder being sorted (required by sphinx-gallery, unused).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in READING_ORDER:
            return (0, READING_ORDER.index(name), name)
        return (1, 0, name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
