"""The package's layers, as docs/architecture.rst draws them: imports point down."""

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sklearn_subspace"

#: Layer of each top-level module or subpackage (docs/architecture.rst).
LAYERS = {
    "_atomic": 0,
    "_cli_common": 0,
    "_device": 0,
    "_frames": 0,
    "_markdown_html": 0,
    "_offline": 0,
    "_param_validation": 0,
    "_seeds": 0,
    "projection": 1,
    "training": 1,
    "head": 2,
    "diagnostics": 2,
    "teachers": 2,
    "_experiment": 2,
    "datasets": 3,
    "distributed": 3,
    "study": 4,
    "distill": 4,
    "cli": 5,
    "__main__": 6,
}


def _unit(module):
    """``sklearn_subspace.head._export`` -> ``head``; the root -> ``None``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


class _Imports(ast.NodeVisitor):
    """Every import of a module: (imported module, inside a function?)."""

    def __init__(self, module, is_package):
        self.package = module.split(".") if is_package else module.split(".")[:-1]
        self.depth = 0
        self.found = []

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, self.depth > 0))

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package[: len(self.package) - node.level + 1]
            if node.module:
                self.found.append((".".join([*base, node.module]), self.depth > 0))
            else:  # ``from .. import name``: name may be a module
                for alias in node.names:
                    self.found.append((".".join([*base, alias.name]), self.depth > 0))
        elif node.module:
            self.found.append((node.module, self.depth > 0))


@functools.cache  # the three tests read one parse of the package
def _package_imports():
    """(importing unit, imported unit, inside a function?, file) of the package."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        source = _unit(module)
        if source is None:  # the root __init__ re-exports everything
            continue
        visitor = _Imports(module, is_package)
        visitor.visit(ast.parse(path.read_text("utf-8")))
        for imported, lazy in visitor.found:
            if imported.split(".")[0] != "sklearn_subspace":
                continue
            target = _unit(imported)
            if target != source:
                edges.append((source, target, lazy, path.relative_to(PACKAGE.parent)))
    return tuple(edges)


def test_every_part_of_the_package_has_a_layer():
    units = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert units - set(LAYERS) == set(), (
        "Give each new module or subpackage its layer in LAYERS here and in "
        "docs/architecture.rst."
    )


@pytest.mark.parametrize("lazy", [False, True], ids=["module_level", "in_function"])
def test_imports_point_down(lazy):
    wrong = []
    for source, target, in_function, path in _package_imports():
        if in_function != lazy or target in (None, "__version__"):
            continue  # reading the version from the root is allowed anywhere
        if target not in LAYERS:
            wrong.append(f"{path}: imports unknown sklearn_subspace.{target}")
            continue
        # Inside a function (to keep an import light) a module may also use
        # its own layer; at module level only lower layers.
        if LAYERS[target] > LAYERS[source] or (
            LAYERS[target] == LAYERS[source] and not lazy
        ):
            wrong.append(
                f"{path} (layer {LAYERS[source]}) imports {target} "
                f"(layer {LAYERS[target]})"
            )
    assert not wrong, "Imports that point up:\n" + "\n".join(wrong)


def test_the_layer_check_sees_imports():
    # A check that sees no import would pass whatever the code did.
    edges = {(s, t) for s, t, _, _ in _package_imports()}
    assert {("head", "training"), ("study", "_experiment")} <= edges
    lazy = {(s, t) for s, t, in_function, _ in _package_imports() if in_function}
    assert ("distill", "study") in lazy
