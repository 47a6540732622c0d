"""Sphinx configuration of the sklearn-subspace documentation.

Build with ``make -C docs html`` (warnings are errors). The example gallery
is executed on every build; ``make -C docs html-noplot`` skips running it.

Cross-references to scikit-learn, NumPy, PyTorch and skorch are resolved
through intersphinx when their inventories can be fetched. Offline, the
inventories are skipped with a note and the build still succeeds; set
``SKLEARN_SUBSPACE_DOCS_OFFLINE=1`` to not even try the network.

The examples train many small models. On a machine whose cores are shared
with other jobs, build with ``OMP_NUM_THREADS=1``: BLAS and torch threads
that wait for busy cores make small models many times slower.
"""

import logging
import os
import sys
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS_DIR.parent))
sys.path.insert(0, str(DOCS_DIR / "sphinxext"))

from subspace_api import API_SECTIONS, write_api_entries, write_cli_help

import sklearn_subspace

# -- Project ------------------------------------------------------------------
project = "sklearn-subspace"
author = "sklearn-subspace developers"
copyright = "sklearn-subspace developers"
release = sklearn_subspace.__version__
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    # MathJax served from _static: formulas render without a network.
    "offline_math",
    "subspace_api",
    "api_docstrings",
    "error_table",
]
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/**/*.ipynb",
    "auto_examples/**/*.py",
    # Read by autosummary to write the API pages, never rendered itself.
    "generated/api_entries.rst",
    # sphinx-gallery's timing page keeps entries of examples that were moved
    # or renamed until a full rebuild; the build log prints the same times.
    "sg_execution_times.rst",
    # Written by tests/reliability/make_bad_input_table.py for reviews; the
    # bad_input page runs the same cases when it is built.
    "bad_input_table.rst",
]
root_doc = "index"
default_role = "obj"
pygments_style = "sphinx"

# -- API reference ------------------------------------------------------------
# The API pages are generated from each subpackage's ``__all__`` (see
# sphinxext/subspace_api.py), so a new public name gets its page without
# editing the docs, and a subpackage that cannot be imported gets a note
# instead of breaking the build.
API_ENTRIES = write_api_entries(DOCS_DIR, API_SECTIONS)
write_cli_help(DOCS_DIR)
autosummary_generate = [API_ENTRIES]
autodoc_typehints = "none"
# "fit()" rather than "JLSubspaceTransformer.fit()" in the page contents.
toc_object_entries_show_parents = "hide"
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = True

# -- numpydoc -----------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Every documented parameter is checked: a public function whose docstring
# misses one fails the build (warnings are errors).
numpydoc_validation_checks = {"PR01"}
numpydoc_validation_exclude = {
    # Methods inherited from torch and from Python's exceptions follow their
    # own docstring conventions.
    r"\.forward$",
    r"\.extra_repr$",
    r"\.with_traceback$",
    r"\.add_note$",
}
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    # numpydoc's defaults point these at glossary terms and labels of the
    # Python and NumPy docs, which warn when those inventories are not
    # reachable; plain object references degrade silently instead.
    "array-like": ":obj:`array-like <numpy.typing.ArrayLike>`",
    "array_like": ":obj:`array_like <numpy.typing.ArrayLike>`",
    "bool": ":class:`python:bool`",
    "boolean": ":class:`python:bool`",
    "sequence": ":class:`python:collections.abc.Sequence`",
    "iterable": ":class:`python:collections.abc.Iterable`",
    "generator": ":class:`python:collections.abc.Generator`",
    "scalar": ":obj:`numpy.generic`",
    "estimator": "sklearn.base.BaseEstimator",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
    "RandomState": "numpy.random.RandomState",
    "ndarray": "numpy.ndarray",
    "dtype": "numpy.dtype",
    "Tensor": "torch.Tensor",
    "Module": "torch.nn.Module",
    "nn.Module": "torch.nn.Module",
    "JLSubspaceTransformer": "sklearn_subspace.projection.JLSubspaceTransformer",
    "SubspaceHeadClassifier": "sklearn_subspace.head.SubspaceHeadClassifier",
    "TorchFeatureExtractor": "sklearn_subspace.teachers.TorchFeatureExtractor",
    "StudyResult": "sklearn_subspace.study.StudyResult",
}
numpydoc_xref_ignore = {
    "type",
    "optional",
    "default",
    "of",
    "or",
    "and",
    "shape",
    "n_samples",
    "n_features",
    "n_components",
    "n_classes",
    "n_pairs",
    "k",
    "d",
    "m",
    "n",
    "instance",
    "like",
    "sparse",
    "matrix",
    "dask",
    "objects",
    "Ignored",
    "n_outputs",
    "n_features_new",
    "path",
    "str",
    "int",
    "float",
    "bool",
    "None",
}

# -- intersphinx --------------------------------------------------------------
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "pandas": ("https://pandas.pydata.org/docs", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
    "dask": ("https://docs.dask.org/en/stable", None),
}
if os.environ.get("SKLEARN_SUBSPACE_DOCS_OFFLINE", "").lower() in ("1", "true", "yes"):
    intersphinx_mapping = {}
intersphinx_timeout = 5


class _InventoryUnreachable(logging.Filter):
    """Turn "could not fetch an inventory" into a note instead of a warning.

    An unreachable inventory only means fewer outbound links, so an offline
    build (or a documentation site that is down) must not fail under ``-W``.
    Sphinx gives this warning no type, so ``suppress_warnings`` cannot do it.
    """

    def filter(self, record):
        message = str(record.msg)
        if record.levelno >= logging.WARNING and "failed to reach" in message:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = (
                "intersphinx: an inventory is not reachable; its links are skipped"
            )
            record.args = ()
        return True


logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(_InventoryUnreachable())

# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    # Topic folders, in reading order; any other folder goes at the end.
    "subsection_order": [
        "../examples/projections",
        "../examples/study",
        "../examples/deployment",
        "../examples/scaling",
        "*",
    ],
    "within_subsection_order": "gallery_order.ReadingOrder",
    "doc_module": ("sklearn_subspace",),
    "backreferences_dir": "generated/backreferences",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    # The timing pages load jQuery and DataTables from a CDN; the build log
    # prints the same times.
    "write_computation_times": False,
}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-subspace {release}"
html_short_title = "sklearn-subspace"
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# Copy buttons leave out the prompts, so that a copied doctest runs as is.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_exclude = ".linenos, .gp, .go"
html_theme_options = {
    "logo": {"text": "sklearn-subspace"},
    "navbar_align": "left",
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "user_guide": []}
html_context = {"default_mode": "light"}
