"""The ``>>>`` examples of the user guide run and print what the pages show."""

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(
    page.name for page in DOCS.glob("*.rst") if ">>> " in page.read_text("utf-8")
)
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def test_the_guide_has_examples_to_check():
    # index.rst: the landing page's quick start runs as it is shown.
    assert {"choosing_k.rst", "deploying.rst", "head.rst", "index.rst"} <= set(PAGES)


@pytest.mark.slow  # runs every example of the page, studies included
@pytest.mark.parametrize("page", PAGES)
def test_guide_page_examples(page):
    result = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=OPTIONS,
        raise_on_error=False,
        verbose=False,
        report=True,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) in docs/{page} failed"
