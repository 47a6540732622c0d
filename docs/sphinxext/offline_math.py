"""Serve MathJax from the built site, so that formulas render offline.

``sphinx.ext.mathjax`` loads MathJax from a CDN by default: without a
network the guide shows raw TeX. The ``sphinx-mathjax-offline`` package
(in the ``docs`` extra) ships MathJax 3; this extension copies the parts the
pages use (the TeX-to-HTML component, its fonts and TeX extensions, and the
accessibility menu's modules) into ``_static/mathjax`` and points
``mathjax_path`` there.

Server-side rendering (``sphinx.ext.imgmath``) would need LaTeX and dvisvgm
on every machine that builds the docs; a pip package is installed by
``make setup`` like the rest of the toolchain.
"""

import importlib.util
from pathlib import Path

from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

logger = logging.getLogger(__name__)

DISTRIBUTION = "sphinx-mathjax-offline"
#: The MathJax component the pages load: TeX input, HTML-CSS output.
COMPONENT = "tex-chtml.js"
#: What that component loads on demand, relative to its folder.
ON_DEMAND = ("input", "output/chtml", "ui", "a11y", "sre", "adaptors")


def mathjax_source():
    """The folder of the bundled MathJax, or None when it is not installed.

    Returns
    -------
    path : pathlib.Path or None
        The folder that holds ``tex-chtml.js``.
    """
    spec = importlib.util.find_spec(DISTRIBUTION)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return folder if (folder / COMPONENT).is_file() else None


def _configure(app, config):
    if mathjax_source() is None:
        logger.warning(
            "offline-math: MathJax is not installed, so formulas would need a "
            "network; install the docs extra: pip install -e '.[docs]' (it "
            "includes %s).",
            DISTRIBUTION,
        )
        return
    config.mathjax_path = f"mathjax/{COMPONENT}"


def _copy(app, exception):
    source = mathjax_source()
    if exception is not None or source is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    copy_asset(source / COMPONENT, target)
    for part in ON_DEMAND:
        if (source / part).exists():
            copy_asset(source / part, target / part)


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
