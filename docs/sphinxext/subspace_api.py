"""The API reference of sklearn-subspace, generated from the package itself.

Each public subpackage lists its public names in ``__all__``. This extension
turns those lists into the API reference, so that every public name has a
page without anyone keeping a second list in the docs:

- :func:`write_api_entries` writes ``generated/api_entries.rst``, a file that
  only autosummary reads, so that it writes one page per public name;
- the ``subspace-api`` directive renders one subpackage in ``api.rst``: its
  module docstring and a summary table linking to those pages. A subpackage
  that cannot be imported gets a note instead of breaking the build;
- a check warns (an error under ``-W``) when a subpackage with an
  ``__all__`` is missing from :data:`API_SECTIONS`, or when a name exported
  by ``sklearn_subspace`` is documented nowhere;
- names re-exported by ``sklearn_subspace`` are registered as aliases, so
  ``sklearn_subspace.JLSubspaceTransformer`` links to the page of
  ``sklearn_subspace.projection.JLSubspaceTransformer``, in the text and in
  the gallery's code.

It also writes the ``--help`` text of the command line for the user guide.
"""

import contextlib
import importlib
import importlib.util
import io
import os
import pkgutil
import posixpath
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

PACKAGE = "sklearn_subspace"

#: Subpackages in the order the API reference shows them.
API_SECTIONS = (
    "sklearn_subspace.projection",
    "sklearn_subspace.head",
    "sklearn_subspace.teachers",
    "sklearn_subspace.diagnostics",
    "sklearn_subspace.datasets",
    "sklearn_subspace.study",
    "sklearn_subspace.distill",
    "sklearn_subspace.distributed",
)

#: Subpackages with an ``__all__`` that serve the library itself, not its
#: users: the coverage check does not ask for an API section for them.
INTERNAL_SECTIONS = ("sklearn_subspace.training",)

_ENTRIES_FILE = "generated/api_entries.rst"
_import_errors = {}


def public_names(module_name):
    """Public names of a subpackage (its ``__all__``), or None if unavailable.

    Parameters
    ----------
    module_name : str
        Dotted name of the subpackage.

    Returns
    -------
    names : list of str or None
        The names in ``__all__``, in order; None when the module cannot be
        imported or has no ``__all__``.
    """
    try:
        present = importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        present = False
    if not present:
        _import_errors[module_name] = "it is not part of the installed package"
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        # Present but broken: that is a bug to fix, not a section to hide.
        _import_errors[module_name] = f"{type(exc).__name__}: {exc}"
        logger.warning("subspace-api: cannot import %s: %s", module_name, exc)
        return None
    names = getattr(module, "__all__", None)
    if not names:
        _import_errors[module_name] = "it has no __all__ (no public names)"
        return None
    return [name for name in names if not name.startswith("_")]


def section_names(module_name, sections=API_SECTIONS):
    """Public names that a section documents itself.

    A name that a subpackage re-exports from another documented subpackage
    (``sklearn_subspace.study.load_embedded_task``, defined in
    ``sklearn_subspace.datasets``) is documented there only: two pages for
    one class are duplicate descriptions, an error under ``-W``.

    Parameters
    ----------
    module_name : str
        Dotted name of the subpackage.
    sections : sequence of str, default=API_SECTIONS
        All documented subpackages.

    Returns
    -------
    names : list of str or None
        As :func:`public_names`, less the names defined in another section.
    """
    names = public_names(module_name)
    if names is None:
        return None
    module = importlib.import_module(module_name)
    others = [s for s in sections if s != module_name and public_names(s)]
    kept = []
    for name in names:
        home = getattr(getattr(module, name), "__module__", None) or ""
        if home.startswith(f"{module_name}.") or home == module_name:
            kept.append(name)
        elif not any(home == s or home.startswith(f"{s}.") for s in others):
            kept.append(name)
    return kept


def write_api_entries(docs_dir, sections):
    """Write the file from which autosummary generates the API pages.

    Parameters
    ----------
    docs_dir : path-like
        The documentation source folder.
    sections : sequence of str
        Subpackages to document.

    Returns
    -------
    path : str
        The written file, relative to ``docs_dir``, for
        ``autosummary_generate``.
    """
    lines = [
        ":orphan:",
        "",
        ".. Written by sphinxext/subspace_api.py on every build; not rendered.",
        "",
        ".. autosummary::",
        "   :toctree: .",
        "",
    ]
    documented = set()
    for section in sections:
        for name in section_names(section, sections) or ():
            lines.append(f"   {section}.{name}")
            documented.add(f"{section}.{name}")
    path = Path(docs_dir) / _ENTRIES_FILE
    # Pages of names that are no longer public would fail to import.
    for stale in path.parent.glob(f"{PACKAGE}.*.rst"):
        if stale.stem not in documented:
            stale.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    # Rewriting an unchanged file would make Sphinx reread every page.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return _ENTRIES_FILE


def write_cli_help(docs_dir):
    """Write the ``--help`` text of the command line and its subcommands.

    Parameters
    ----------
    docs_dir : path-like
        The documentation source folder; files go to ``generated/``.

    Returns
    -------
    paths : list of pathlib.Path
        The written files: ``cli_help.txt`` and ``cli_<command>_help.txt``.
    """
    out = Path(docs_dir) / "generated"
    out.mkdir(parents=True, exist_ok=True)
    try:
        from sklearn_subspace.cli import build_parser
    except Exception as exc:
        _import_errors["sklearn_subspace.cli"] = f"{type(exc).__name__}: {exc}"
        return []
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
    try:
        parser = build_parser()
        texts = {"cli_help.txt": parser.format_help()}
        for action in parser._subparsers._group_actions:
            for command, subparser in action.choices.items():
                texts[f"cli_{command}_help.txt"] = subparser.format_help()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    home = os.path.expanduser("~")
    paths = []
    for name, text in texts.items():
        # Defaults such as the cache folder are shown the way users write them.
        text = text.replace(home, "~") if home not in ("", "/") else text
        path = out / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        paths.append(path)
    return paths


class SubspaceAPI(SphinxDirective):
    """``.. subspace-api:: sklearn_subspace.projection``: one API section."""

    required_arguments = 1

    def run(self):
        # The listing depends on the package, not on this file: read it again
        # on every build so that new names appear.
        self.env.note_reread()
        module_name = self.arguments[0]
        names = section_names(module_name, self.config.subspace_api_sections)
        if names is None:
            reason = _import_errors.get(module_name, "it could not be imported")
            logger.info(
                "subspace-api: %s is not documented in this build: %s",
                module_name,
                reason,
            )
            note = nodes.note()
            note += nodes.paragraph(
                text=f"{module_name} is not available in this build of the "
                "documentation."
            )
            return [note]
        # The pages of the names live in generated/, next to this page or
        # above it.
        toctree = posixpath.relpath("generated", posixpath.dirname(self.env.docname))
        lines = [
            f".. automodule:: {module_name}",
            "   :no-members:",
            "",
            f".. currentmodule:: {module_name}",
            "",
            ".. autosummary::",
            f"   :toctree: {toctree}",
            "   :nosignatures:",
            "",
            *(f"   {name}" for name in names),
        ]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=module_name), 0, container)
        return container.children


class SubspaceAPIIndex(SphinxDirective):
    """``.. subspace-api-index::``: one line per subpackage page of the API.

    Each argument-less line of the content names a page (``api/projection``)
    and its subpackage; the line shows a link to the page and the first line
    of the subpackage's docstring, so that the description cannot drift.
    """

    has_content = True

    def run(self):
        self.env.note_reread()
        items = nodes.definition_list(classes=["subspace-api-index"])
        for line in self.content:
            if not line.strip():
                continue
            page, module_name = line.split()
            if public_names(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            first = (module.__doc__ or "").strip().splitlines() or [""]
            term = nodes.term()
            parsed, _ = self.state.inline_text(
                f":doc:`{module_name} <{page}>`", self.lineno
            )
            term += parsed
            definition = nodes.definition()
            described, _ = self.state.inline_text(first[0], self.lineno)
            definition += nodes.paragraph("", "", *described)
            items += nodes.definition_list_item("", term, definition)
        return [items]


def _documented_names(sections):
    names = {}
    for section in sections:
        for name in section_names(section, sections) or ():
            names.setdefault(name, f"{section}.{name}")
    return names


def _check_coverage(app):
    """Warn about public API that the reference would silently miss."""
    package = importlib.import_module(PACKAGE)
    sections = set(app.config.subspace_api_sections) | set(INTERNAL_SECTIONS)
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{PACKAGE}."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.name in sections:
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                module = importlib.import_module(info.name)
            except Exception:
                continue
        if getattr(module, "__all__", None):
            logger.warning(
                "subspace-api: %s has public names (__all__) but no section in "
                "the API reference. Add it to API_SECTIONS in "
                "docs/sphinxext/subspace_api.py and a 'subspace-api' section to "
                "docs/api.rst.",
                info.name,
            )
    documented = _documented_names(app.config.subspace_api_sections)
    for name in getattr(package, "__all__", ()):
        if name.startswith("__") or name in documented:
            continue
        logger.warning(
            "subspace-api: sklearn_subspace.%s is exported by the package but "
            "by none of the documented subpackages; export it from the "
            "subpackage that defines it.",
            name,
        )


def _register_aliases(app, env):
    """Make ``sklearn_subspace.<name>`` resolve to the subpackage's page."""
    package = importlib.import_module(PACKAGE)
    domain = env.domains["py"]
    documented = _documented_names(app.config.subspace_api_sections)
    entry_type = type(next(iter(domain.objects.values()))) if domain.objects else None
    for name in getattr(package, "__all__", ()):
        target = documented.get(name)
        entry = domain.objects.get(target) if target else None
        alias = f"{PACKAGE}.{name}"
        if entry is None or entry_type is None or alias in domain.objects:
            continue
        domain.objects[alias] = entry_type(
            entry.docname, entry.node_id, entry.objtype, True
        )


#: Documentation sets that references may name with a ``name:`` prefix.
EXTERNAL_DOCS = (
    "python",
    "numpy",
    "scipy",
    "sklearn",
    "torch",
    "skorch",
    "pandas",
    "matplotlib",
    "dask",
)


def _quiet_foreign_reference(app, env, node, contnode):
    """Render an unresolvable reference that is not ours as plain text.

    Object references prefixed with another project's name
    (``python:int``, as numpydoc writes parameter types) lose the prefix.

    Labels and glossary terms of other projects (``:ref:`` / ``:term:``)
    can only be resolved through their intersphinx inventory, and a missing
    one is a warning. Two kinds are let through as plain text: references
    prefixed with another project's name (``numpy:array_like``) when its
    inventory is not reachable, and references in docstrings inherited from
    other libraries (scikit-learn's ``get_params`` names its own user guide).
    A broken reference in this project's own text still fails the build.
    """
    target = node.get("reftarget", "")
    prefix = target.split(":", 1)[0] if ":" in target else None
    if prefix in EXTERNAL_DOCS and contnode.astext().startswith(f"{prefix}:"):
        # ":class:`python:int`" whose inventory is not reachable: show "int".
        text = contnode.astext()[len(prefix) + 1 :]
        plain = contnode.deepcopy()
        plain.children = [nodes.Text(text)]
        return plain
    if node.get("reftype") not in ("ref", "term", "doc", "label"):
        return None
    source = node.source or ""
    in_docstring = "docstring of " in source
    documented = source.rsplit("docstring of ", 1)[-1] if in_docstring else ""
    foreign_docstring = in_docstring and not documented.startswith(PACKAGE)
    if prefix in EXTERNAL_DOCS or foreign_docstring:
        if contnode.astext().startswith("sphx_glr_"):
            # An untitled link to another project's gallery example.
            plain = contnode.deepcopy()
            plain.children = [nodes.Text("its example gallery")]
            return plain
        return contnode
    return None


# A fitted attribute named in a shape, as in "ndarray of shape
# (n_samples, n_components_)": the trailing underscore makes it a
# reStructuredText reference, which fails. Quote such names as code.
_SHAPE_RE = re.compile(r"shape \(([^()]*)\)")
_TRAILING_UNDERSCORE_RE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_fitted_names_in_shapes(app, what, name, obj, options, lines):
    """Quote ``name_`` inside ``shape (...)`` of a docstring's type lines."""
    for i, line in enumerate(lines):
        if "shape (" in line and "_" in line:
            lines[i] = _SHAPE_RE.sub(
                lambda m: (
                    "shape (" + _TRAILING_UNDERSCORE_RE.sub(r"``\1``", m.group(1)) + ")"
                ),
                line,
            )


def setup(app):
    app.add_config_value("subspace_api_sections", API_SECTIONS, "env")
    app.add_directive("subspace-api", SubspaceAPI)
    app.add_directive("subspace-api-index", SubspaceAPIIndex)
    app.connect("builder-inited", _check_coverage)
    app.connect("env-updated", _register_aliases)
    # Before numpydoc (priority 500) parses the sections.
    app.connect(
        "autodoc-process-docstring", _quote_fitted_names_in_shapes, priority=100
    )
    # After intersphinx (priority 500), which resolves them when it can.
    app.connect("missing-reference", _quiet_foreign_reference, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
