"""Parameters are declared, as scikit-learn declares its own.

Every public estimator lists the valid values of all its parameters in
``_parameter_constraints`` (checked by ``_fit_context`` in ``fit``), and
every public function with parameters is decorated with ``validate_params``.
Both come from scikit-learn's private ``_param_validation`` module, which
only ``sklearn_subspace/_param_validation.py`` may import.
"""

import ast
import importlib
import inspect
import os
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

from sklearn_subspace._param_validation import declared_constraints

ROOT = Path(__file__).resolve().parents[1]
SHIM = ROOT / "sklearn_subspace" / "_param_validation.py"

# Where users find the library's API. ``sklearn_subspace.training`` is left
# out: it is the training engine the estimators share, whose helpers run
# inside fit, on parameters the estimators have already validated.
PUBLIC_MODULES = (
    "sklearn_subspace",
    "sklearn_subspace.datasets",
    "sklearn_subspace.diagnostics",
    "sklearn_subspace.distill",
    "sklearn_subspace.distributed",
    "sklearn_subspace.head",
    "sklearn_subspace.projection",
    "sklearn_subspace.study",
    "sklearn_subspace.teachers",
)


# -- the single import site ------------------------------------------------------
def private_validation_imports(source):
    """Lines of ``source`` that import scikit-learn's private validation."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = {alias.name for alias in node.names}
            if node.module == "sklearn.utils._param_validation" or (
                node.module == "sklearn.utils" and "_param_validation" in names
            ):
                found.append(node.lineno)
            elif node.module == "sklearn.base" and "_fit_context" in names:
                found.append(node.lineno)
        elif isinstance(node, ast.Import):
            if any(
                alias.name.startswith("sklearn.utils._param_validation")
                for alias in node.names
            ):
                found.append(node.lineno)
    return found


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from sklearn.utils._param_validation import Interval", [1]),
        ("import os\nfrom sklearn.utils import _param_validation", [2]),
        ("import sklearn.utils._param_validation as pv", [1]),
        ("from sklearn.base import BaseEstimator, _fit_context", [1]),
        ("from sklearn.base import BaseEstimator", []),
        ("from .._param_validation import Interval, _fit_context", []),
        ("text = 'sklearn.utils._param_validation'", []),
    ],
)
def test_the_import_finder_finds_every_spelling(source, expected):
    assert private_validation_imports(source) == expected


def _python_files():
    """The project's Python files; the walk never enters a skipped folder."""
    skipped = {"build", "dist", "_build", "auto_examples", "generated"}
    for folder, subfolders, files in os.walk(ROOT):
        # Pruned in place: walking a virtual environment would take seconds.
        subfolders[:] = sorted(
            name
            for name in subfolders
            if name not in skipped and not name.startswith(".")
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def test_only_the_shim_imports_scikit_learns_private_validation():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in _python_files()
        if path != SHIM
        and (lines := private_validation_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, (
        "Import the validation tools from sklearn_subspace._param_validation, "
        f"not from scikit-learn: {offenders}"
    )
    assert private_validation_imports(SHIM.read_text(encoding="utf-8"))


# -- what the public API declares --------------------------------------------------
def _public_objects():
    seen = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            seen.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return list(seen.values())


def _estimators():
    return [
        pytest.param(obj, id=name)
        for name, obj in _public_objects()
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator)
    ]


def _parameters(func):
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        name
        for name, param in inspect.signature(func).parameters.items()
        if param.kind not in kinds and name not in ("self", "cls")
    ]


def _functions():
    return [
        pytest.param(obj, id=name)
        for name, obj in _public_objects()
        if inspect.isfunction(obj) and _parameters(obj)
    ]


def test_the_public_api_has_estimators_and_functions_to_check():
    estimators = {param.id.rsplit(".", 1)[1] for param in _estimators()}
    functions = {param.id.rsplit(".", 1)[1] for param in _functions()}
    assert {
        "JLSubspaceTransformer",
        "SubspaceDistiller",
        "SubspaceHeadClassifier",
        "TorchFeatureExtractor",
    } <= estimators
    assert {
        "compression_study",
        "distillation_comparison",
        "estimate_intrinsic_dimension",
        "extract_distributed",
        "johnson_lindenstrauss_min_dim",
        "load_dataset",
        "save_exported",
    } <= functions
    # Functions without parameters have nothing to declare.
    assert "clear_model_cache" not in functions


@pytest.mark.parametrize("estimator_class", _estimators())
def test_every_public_estimator_declares_all_its_parameters(estimator_class):
    required = [
        name
        for name, param in inspect.signature(estimator_class).parameters.items()
        if param.default is inspect.Parameter.empty
    ]
    # Only get_params' keys matter here, not whether the values fit.
    estimator = estimator_class(**dict.fromkeys(required))
    declared = estimator_class._parameter_constraints
    assert isinstance(declared, dict) and declared
    assert sorted(declared) == sorted(estimator.get_params(deep=False))


@pytest.mark.parametrize("func", _functions())
def test_every_public_function_declares_all_its_parameters(func):
    declared = declared_constraints(func)
    assert declared is not None, f"{func.__qualname__} is not validate_params'd"
    assert inspect.unwrap(func) is not func  # the decorator's wrapper runs
    assert sorted(declared) == sorted(_parameters(func))


def test_ci_tests_the_oldest_scikit_learn_that_pyproject_allows():
    # The shim's private imports must work across the whole supported range:
    # CI runs the quick tests again on the release the Makefile names.
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[1]
    dependencies = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    (requirement,) = [
        Requirement(spec)
        for spec in dependencies
        if Requirement(spec).name == "scikit-learn"
    ]
    (lowest,) = [s.version for s in requirement.specifier if s.operator == ">="]
    makefile = (root / "Makefile").read_text()
    (oldest,) = [
        line.split("?=")[1].strip()
        for line in makefile.splitlines()
        if line.startswith("OLDEST_SKLEARN")
    ]
    assert requirement.specifier.contains(oldest)
    assert oldest.split(".")[:2] == lowest.split(".")[:2]
    assert "make test-oldest-sklearn" in (root / ".ci" / "run").read_text()


def private_imports(source):
    """``(line, what)`` for every import of another library's private name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            parts = node.module.split(".")
            if parts[0] in ("sklearn_subspace", "__future__"):
                continue
            names = [alias.name for alias in node.names]
            if any(p.startswith("_") for p in parts) or any(
                n.startswith("_") for n in names
            ):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name)
                for alias in node.names
                if any(p.startswith("_") for p in alias.name.split(".")[1:])
            ]
    return found


def test_no_module_but_the_shim_imports_another_librarys_private_names():
    assert private_imports("from sklearn.utils import _safe_indexing") == [
        (1, "sklearn.utils")
    ]
    assert private_imports("import torch._dynamo") == [(1, "torch._dynamo")]
    assert private_imports("from .._param_validation import Interval") == []
    package = ROOT / "sklearn_subspace"
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted(package.rglob("*.py"))
        if path != SHIM and (found := private_imports(path.read_text("utf-8")))
    }
    assert offenders == {}
