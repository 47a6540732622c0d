"""Finishing touches on the docstrings of the API pages.

The docstrings stay written for ``help()``; this extension adapts them to
the web pages when autodoc reads them, so that the modules need no markup
that only the documentation understands:

- every public class and function of this library opens, as scikit-learn's
  do, with "Read more in the User Guide", linking the guide page of its
  subpackage (:data:`GUIDE_PAGES`);
- methods inherited from scikit-learn lose their ``versionadded`` and
  ``versionchanged`` notes: those versions are scikit-learn's, not this
  library's;
- the references to scikit-learn's own user guide in those inherited
  docstrings become links to its website, so that they are links even when
  the intersphinx inventory cannot be fetched;
- a public constant (a tuple of names) would show the docstring of
  ``tuple``; it gets the ``#:`` comment written next to its definition, or
  the text of :data:`CONSTANT_DOCS`. A public constant with neither is a
  warning, so an error under ``-W``.
"""

import importlib
import inspect
import pkgutil
import re

from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "sklearn_subspace"

#: The guide page (its label) that explains each subpackage, and the pages
#: of single names that are explained elsewhere.
GUIDE_PAGES = {
    "sklearn_subspace.projection": "projections",
    "sklearn_subspace.head": "head",
    "sklearn_subspace.head.export_torch": "deploying",
    "sklearn_subspace.teachers": "teachers",
    "sklearn_subspace.diagnostics": "choosing_k",
    "sklearn_subspace.datasets": "study",
    "sklearn_subspace.study": "study",
    "sklearn_subspace.distill": "distillation",
    "sklearn_subspace.distributed": "scaling_out",
}

#: Documentation of public constants defined without a ``#:`` comment.
CONSTANT_DOCS = {
    "PROJECTION_FAMILIES": (
        "Names of the projection families, as accepted by the ``projection`` "
        "parameter of :class:`~sklearn_subspace.projection.JLSubspaceTransformer` "
        "and by :func:`~sklearn_subspace.projection.make_projection`."
    ),
}

_SKLEARN = "https://scikit-learn.org/stable/"

#: Pages of scikit-learn's site for the labels its inherited docstrings name.
SKLEARN_LABELS = {
    "metadata_routing": "metadata_routing.html",
    "df_output_transform": "auto_examples/miscellaneous/plot_set_output.html",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        "auto_examples/miscellaneous/plot_set_output.html"
    ),
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
}

_VERSION_NOTE = re.compile(r"^(\s*)\.\. version(added|changed|removed)::")
_REF = re.compile(r":ref:`(?:([^`<]*?)\s*<([^`>]+)>|([^`<>]+))`")


def _defining_module(obj):
    module = getattr(obj, "__module__", None)
    if module is None and hasattr(obj, "__func__"):
        module = getattr(obj.__func__, "__module__", None)
    return module or ""


def _is_foreign(obj):
    """True for an object defined outside this library (inherited)."""
    module = _defining_module(obj)
    return bool(module) and module.split(".")[0] != PACKAGE


def _strip_version_notes(lines):
    """Drop ``.. versionadded::`` blocks (the directive and its indented body)."""
    kept, skip_indent = [], None
    for line in lines:
        if skip_indent is not None:
            indent = len(line) - len(line.lstrip())
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        match = _VERSION_NOTE.match(line)
        if match:
            skip_indent = len(match.group(1))
            continue
        kept.append(line)
    lines[:] = kept


def _sklearn_link(match):
    title, label = match.group(1), match.group(2)
    if label is None:
        label, title = match.group(3), None
    page = SKLEARN_LABELS.get(label)
    url = _SKLEARN + page if page else f"{_SKLEARN}search.html?q={label}"
    if not title:
        title = "scikit-learn's example" if label.startswith("sphx_glr_") else label
    return f"`{title} <{url}>`__"


def _guide_label(name):
    """The guide page label for a public name, or None."""
    parts = name.split(".")
    for end in range(len(parts), 1, -1):
        label = GUIDE_PAGES.get(".".join(parts[:end]))
        if label:
            return label
    return None


def _insert_read_more(lines, label):
    """Put the link after the summary paragraph, where scikit-learn has it."""
    if any("Read more in the" in line for line in lines):
        return
    end = 0
    while end < len(lines) and lines[end].strip():
        end += 1
    lines[end:end] = ["", f"Read more in the :ref:`User Guide <{label}>`."]


def _constant_doc(name, obj):
    """The ``#:`` documentation of a constant, from the module defining it."""
    parent, short = name.rsplit(".", 1)
    package = importlib.import_module(PACKAGE)
    modules = [package.__name__]
    modules += [
        info.name for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")
    ]
    # The documented subpackage first: another module may reuse the name.
    modules.sort(key=lambda module: not module.startswith(parent))
    for module_name in modules:
        try:
            analyzer = ModuleAnalyzer.for_module(module_name)
            docs = analyzer.find_attr_docs()
        except Exception:
            continue
        for (_, attr), doc in docs.items():
            if attr == short and "".join(doc).strip():
                return [line for line in doc if line is not None]
    if short in CONSTANT_DOCS:
        return [CONSTANT_DOCS[short]]
    return None


def process_docstring(app, what, name, obj, options, lines):
    """Adapt one docstring as described in the module docstring."""
    if what == "data" and name.startswith(PACKAGE):
        builtin_doc = inspect.getdoc(type(obj)) or ""
        if not lines or "\n".join(lines).strip() == builtin_doc.strip():
            doc = _constant_doc(name, obj)
            if doc is None:
                logger.warning(
                    "api-docstrings: %s shows the docstring of %s; write a '#:' "
                    "comment above its definition.",
                    name,
                    type(obj).__name__,
                )
                doc = []
            lines[:] = list(doc)
        return
    if what in ("method", "attribute", "property") and _is_foreign(obj):
        _strip_version_notes(lines)
        lines[:] = [_REF.sub(_sklearn_link, line) for line in lines]
        return
    if what in ("class", "function", "exception") and name.startswith(PACKAGE):
        if _is_foreign(obj):
            return
        label = _guide_label(name)
        if label:
            _insert_read_more(lines, label)


def setup(app):
    # Before numpydoc (priority 500) turns the sections into markup.
    app.connect("autodoc-process-docstring", process_docstring, priority=200)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
