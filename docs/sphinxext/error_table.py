"""The bad-input tables of the user guide, filled by triggering each error.

``.. subspace-error-table:: projection`` runs every case of that group
(see :data:`CASES`) when the page is built and renders what really happens:
the exception (or warning) class and its message. The table cannot drift
from the code; a case that no longer raises is a warning, so a build with
``-W`` fails and names the case to update.

``.. subspace-bad-input-table::`` does the same for the malformed inputs of
the reliability tests (``tests/reliability/bad_input_cases.py``): every
public entry point against NaN, infinity, empty and wrongly shaped arrays
and bad parameters, grouped by entry point in blocks the reader opens, each
message whole.
"""

import contextlib
import io
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

_MAX_MESSAGE = 420  # characters; long lists of valid names are shortened


# -- the cases ---------------------------------------------------------------
# Each case is (situation shown in the table, function that triggers it).
# Imports happen inside the functions so that a missing subpackage fails only
# its own rows.


def _digits(n=60, width=64, dtype=np.float32):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, width)).astype(dtype)
    y = np.arange(n) % 3
    return X, y


def _jl(**params):
    from sklearn_subspace.projection import JLSubspaceTransformer

    return JLSubspaceTransformer(**{"n_components": 8, "random_state": 0, **params})


def _fitted_jl():
    X, _ = _digits()
    return _jl().fit(X)


def _with_nan():
    X, _ = _digits()
    X[3, 5] = np.nan
    return X


def _with_inf():
    X, _ = _digits()
    X[3, 5] = np.inf
    return X


def _head(**params):
    from sklearn_subspace.head import SubspaceHeadClassifier

    return SubspaceHeadClassifier(
        **{"max_epochs": 1, "device": "cpu", "random_state": 0, **params}
    )


def _tiny_net():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU())


def _extractor(**params):
    from sklearn_subspace.teachers import TorchFeatureExtractor

    return TorchFeatureExtractor(**{"model": _tiny_net(), "device": "cpu", **params})


@contextlib.contextmanager
def _offline_empty_caches():
    """No network and empty weight caches, as on a fresh offline machine."""
    names = ("SKLEARN_SUBSPACE_OFFLINE", "TORCH_HOME", "HF_HOME", "HF_HUB_OFFLINE")
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            SKLEARN_SUBSPACE_OFFLINE="1",
            HF_HUB_OFFLINE="1",
            TORCH_HOME=str(Path(tmp) / "torch"),
            HF_HOME=str(Path(tmp) / "huggingface"),
        )
        try:
            yield tmp
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _missing_weights():
    from sklearn_subspace.teachers import TorchFeatureExtractor, clear_model_cache

    clear_model_cache()
    with _offline_empty_caches():
        images = np.zeros((1, 32, 32, 3), dtype=np.uint8)
        TorchFeatureExtractor("resnet18", device="cpu").fit(images)


def _study(X_train, y_train, X_test, y_test, **params):
    from sklearn_subspace.study import compression_study

    settings = {"seeds": 1, "intrinsic_dimension": False, "progress": False}
    return compression_study(X_train, y_train, X_test, y_test, **{**settings, **params})


def _study_data(width=16, n=40):
    X, y = _digits(n, width)
    return X[: n // 2], y[: n // 2], X[n // 2 :], y[n // 2 :]


def _cli(*argv):
    """Run the command line; raise its stderr as the 'error' it reports."""
    from sklearn_subspace.cli import main

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse's own usage errors
            status = exc.code
    if status:
        # Keep the error line(s); argparse prints its usage summary first.
        lines = [line for line in stderr.getvalue().splitlines() if "error:" in line]
        raise CommandLineExit(status, "\n".join(lines) or stderr.getvalue().strip())


class CommandLineExit(Exception):
    """Stands for a non-zero exit of the command line in the table."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _distiller(**params):
    from sklearn_subspace.distill import StudentMLP, SubspaceDistiller

    return SubspaceDistiller(
        **{
            "student": StudentMLP,
            "n_components": 8,
            "max_epochs": 1,
            "device": "cpu",
            "random_state": 0,
            **params,
        }
    )


def _student_instance():
    from sklearn_subspace.distill import StudentMLP

    return StudentMLP(8)


def _wrong_width_student(n_outputs):
    import torch

    return torch.nn.Linear(64, n_outputs + 1)


CASES = {
    "projection": [
        ("NaN in ``X``", lambda: _jl().fit(_with_nan())),
        (
            "infinity in ``X`` at transform time",
            lambda: _fitted_jl().transform(_with_inf()),
        ),
        (
            "``X`` with a different width than in ``fit``",
            lambda: _fitted_jl().transform(_digits(width=32)[0]),
        ),
        ("a 1-D ``X``", lambda: _jl().fit(np.arange(10.0))),
        ("a 3-D ``X``", lambda: _jl().fit(np.zeros((4, 2, 3)))),
        ("strings in ``X``", lambda: _jl().fit(np.array([["a", "b"], ["c", "d"]]))),
        ("complex ``X``", lambda: _jl().fit(np.ones((4, 3), dtype=complex))),
        (
            "an unknown projection name",
            lambda: _jl(projection="gausian").fit(_digits()[0]),
        ),
        ("``n_components`` of zero", lambda: _jl(n_components=0).fit(_digits()[0])),
        (
            "``n_components`` larger than the number of features",
            lambda: _jl(n_components=128).fit(_digits()[0]),
        ),
        (
            '``projection="orthogonal"`` with ``n_components > n_features``',
            lambda: _jl(projection="orthogonal", n_components=100).fit(_digits()[0]),
        ),
        (
            '``projection="srht"`` with ``n_components`` above the padded width',
            lambda: _jl(projection="srht", n_components=100).fit(_digits()[0]),
        ),
        (
            '``n_components="auto"`` needing more than ``n_features``',
            lambda: _jl(n_components="auto").fit(_digits()[0]),
        ),
        (
            "``eps`` outside (0, 1)",
            lambda: _jl(n_components="auto", eps=1.5).fit(_digits()[0]),
        ),
        (
            "a ``density`` outside (0, 1]",
            lambda: _jl(projection="sparse", density=2.0).fit(_digits()[0]),
        ),
        (
            "a negative integer ``random_state``",
            lambda: _jl(random_state=-1).fit(_digits()[0]),
        ),
        (
            "finite float32 input so large that the projection overflows",
            lambda: _fitted_jl().transform(np.full((2, 64), 3e38, dtype=np.float32)),
        ),
        ("``transform`` before ``fit``", lambda: _jl().transform(_digits()[0])),
    ],
    "head": [
        ("labels of a single class", lambda: _head().fit(_digits()[0], np.zeros(60))),
        (
            "continuous targets",
            lambda: _head().fit(_digits()[0], np.linspace(0, 1, 60)),
        ),
        ("NaN in ``X``", lambda: _head().fit(_with_nan(), _digits()[1])),
        ("an unknown optimizer", lambda: _head(optimizer="adam").fit(*_digits())),
        ("a negative learning rate", lambda: _head(lr=-1.0).fit(*_digits())),
        ("a learning rate given as a string", lambda: _head(lr="0.01").fit(*_digits())),
        (
            "``hidden_layer_sizes`` that is not a tuple of ints",
            lambda: _head(hidden_layer_sizes="256").fit(*_digits()),
        ),
        (
            "a ``bottleneck`` wider than the features",
            lambda: _head(bottleneck=100).fit(*_digits()),
        ),
        (
            # The full-batch solver ("auto" on small data) has no split.
            "classes too small for the early-stopping split (AdamW)",
            lambda: _head(optimizer="adamw").fit(
                _digits(n=4)[0], np.array([0, 0, 1, 2])
            ),
        ),
        ('``device="cuda"`` on a machine without CUDA', lambda: _cuda_head()),
        ("an unknown preset name", lambda: _head_preset("resnet-50")),
        (
            "``predict`` with another width than in ``fit``",
            lambda: _fitted_head_predict(),
        ),
    ],
    "export": [
        ("a pipeline step that cannot be exported", lambda: _export_with_pca()),
        ("an estimator that is not a head", lambda: _export_not_head()),
        (
            "the exported module called with the wrong width",
            lambda: _call_export_wrong_width(),
        ),
    ],
    "teachers": [
        (
            "an unknown layer name",
            lambda: _extractor(layer="encoder").fit(_digits(width=8)[0]),
        ),
        (
            "an unknown pooling",
            lambda: _extractor(pooling="sum").fit(_digits(width=8)[0]),
        ),
        (
            "a model of the wrong type",
            lambda: _extractor(model=42).fit(_digits(width=8)[0]),
        ),
        (
            "a non-integer ``batch_size``",
            lambda: _extractor(batch_size=0.5).fit(_digits(width=8)[0]),
        ),
        (
            "pretrained weights that are neither cached nor downloadable",
            _missing_weights,
        ),
        ('``device="cuda"`` on a machine without CUDA', lambda: _cuda_extractor()),
    ],
    "diagnostics": [
        ("NaN in ``X``", lambda: _intrinsic(_with_nan())),
        ("a 1-D ``X``", lambda: _intrinsic(np.arange(10.0))),
        ("too few distinct points", lambda: _intrinsic(np.ones((30, 4)))),
        ("an unknown estimator method", lambda: _intrinsic(_digits()[0], method="pca")),
        (
            "a DataFrame ``X`` with a categorical column",
            lambda: _intrinsic(_frame_with_categories()),
        ),
        (
            "projected data of another length than ``X``",
            lambda: _distortion_report(_digits()[0], _digits()[0][:10, :8]),
        ),
    ],
    "study": [
        (
            "``k`` larger than the feature dimension",
            lambda: _study(*_study_data(), n_components=[32]),
        ),
        (
            "an unknown projection",
            lambda: _study(*_study_data(), projections=["gaussain"]),
        ),
        ("an unknown baseline", lambda: _study(*_study_data(), baselines=["random"])),
        ("NaN in the features", lambda: _study_nan()),
        ("training and test features of different widths", lambda: _study_widths()),
        ("a PCA ``k`` above the number of training samples", lambda: _study_pca()),
        ("``seeds=0``", lambda: _study(*_study_data(), seeds=0)),
    ],
    "distill": [
        (
            "a student module instance instead of its class",
            lambda: _distiller(student=_student_instance()).fit(*_digits()),
        ),
        (
            "a student whose output width is not ``n_components``",
            lambda: _distiller(student=_wrong_width_student).fit(*_digits()),
        ),
        ("both a teacher and ``teacher_features``", lambda: _distill_both()),
    ],
    "cli": [
        ("an unknown teacher", lambda: _cli("study", "--teacher", "resnet5O")),
        (
            "an unknown projection family",
            lambda: _cli("study", "--projections", "gausian"),
        ),
        ("a ``k`` that is not a positive integer", lambda: _cli("study", "--ks", "0")),
        (
            "a dataset that is not on disk, with downloads off",
            lambda: _cli_missing_dataset(),
        ),
    ],
}


def _cuda_head():
    import torch

    if torch.cuda.is_available():
        raise _NotApplicable("this machine has CUDA")
    _head(device="cuda").fit(*_digits())


def _cuda_extractor():
    import torch

    if torch.cuda.is_available():
        raise _NotApplicable("this machine has CUDA")
    _extractor(device="cuda").fit(_digits(width=8)[0])


def _head_preset(name):
    from sklearn_subspace.head import SubspaceHeadClassifier

    SubspaceHeadClassifier.from_preset(name)


def _fitted_head_predict():
    X, y = _digits()
    _head(early_stopping=False).fit(X, y).predict(X[:, :32])


def _export_with_pca():
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    from sklearn_subspace.head import export_torch

    X, y = _digits()
    export_torch(make_pipeline(PCA(8), _head(early_stopping=False)).fit(X, y))


def _export_not_head():
    from sklearn.linear_model import LogisticRegression

    from sklearn_subspace.head import export_torch

    export_torch(LogisticRegression().fit(*_digits()))


def _call_export_wrong_width():
    import torch
    from sklearn.pipeline import make_pipeline

    from sklearn_subspace.head import export_torch

    X, y = _digits()
    module = export_torch(make_pipeline(_jl(), _head(early_stopping=False)).fit(X, y))
    module(torch.zeros(2, 32))


def _intrinsic(X, **params):
    from sklearn_subspace.diagnostics import estimate_intrinsic_dimension

    return estimate_intrinsic_dimension(X, random_state=0, **params)


def _frame_with_categories():
    import pandas as pd

    X = pd.DataFrame(_digits()[0][:, :4], columns=["a", "b", "c", "d"])
    X["colour"] = pd.Categorical(["red", "green", "blue"] * 20)
    return X


def _distortion_report(X, Z):
    from sklearn_subspace.diagnostics import distortion_report

    return distortion_report(X, Z, random_state=0)


def _study_nan():
    X_train, y_train, X_test, y_test = _study_data()
    X_train[0, 0] = np.nan
    _study(X_train, y_train, X_test, y_test, n_components=[4])


def _study_widths():
    X_train, y_train, X_test, y_test = _study_data()
    _study(X_train, y_train, X_test[:, :8], y_test, n_components=[4])


def _study_pca():
    X_train, y_train, X_test, y_test = _study_data(width=64, n=40)
    _study(X_train, y_train, X_test, y_test, n_components=[32], baselines=["pca"])


def _distill_both():
    X, y = _digits()
    _distiller(teacher=_extractor()).fit(X, y, teacher_features=X)


def _cli_missing_dataset():
    with tempfile.TemporaryDirectory() as tmp:
        _cli(
            "study",
            "--teacher",
            "resnet18",
            "--weights",
            "none",
            "--dataset",
            "cifar100",
            "--data-dir",
            str(Path(tmp) / "data"),
            "--no-download",
            "--cache-dir",
            tmp,
            "--device",
            "cpu",
            "--quiet",
        )


class _NotApplicable(Exception):
    """The case cannot be shown on this machine (e.g. it has a GPU)."""


# -- running the cases -------------------------------------------------------
# A line of a printed array: numbers, brackets and complex units only.
_NUMBERS = re.compile(r"^[\s\[\]\d.eE+\-j,]*\d[\s\[\]\d.eE+\-j,]*\]?\.?$")


def _clean(message, limit=_MAX_MESSAGE):
    """Hide the paths of the machine that built the docs, and data dumps."""
    lines = message.splitlines() or [""]
    message = " ".join(
        line.strip()
        for line in lines
        if not line.lstrip().startswith(("[", "array=")) and not _NUMBERS.match(line)
    )
    message = re.sub(r"(/tmp|/var/folders)/[^\s'\"),]*", "<tmp>", message)
    message = message.replace(os.path.expanduser("~"), "~")
    message = message.replace(str(Path(__file__).resolve().parents[2]), "<repo>")
    if limit is not None and len(message) > limit:
        message = message[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return message


def builtin_bases(cls):
    """Names of the most derived built-in exceptions ``cls`` is an instance of.

    ``InvalidParameterError`` gives ``["ValueError", "TypeError"]``: it is
    caught by either, and the table says so.
    """
    found = []
    for base in cls.__mro__:
        if base.__module__ == "builtins" and not any(
            issubclass(kept, base) for kept in found
        ):
            found.append(base)
    return [base.__name__ for base in found]


def _kind(exc):
    """How the table names what was raised, e.g. ``NotFittedError (ValueError)``."""
    if isinstance(exc, CommandLineExit):
        return f"exit status {exc.status}"
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__name__} ({', '.join(builtin_bases(cls))})"


def run_case(trigger, limit=_MAX_MESSAGE):
    """Run one trigger; return ``(kind, message)`` or None if nothing happened.

    Parameters
    ----------
    trigger : callable
        Function expected to raise an exception or emit a warning.
    limit : int or None, default=420
        Longer messages are cut at a word and end with "…"; None keeps them
        whole.

    Returns
    -------
    outcome : tuple of str or None
        The exception or warning class as shown in the table and its
        message, ``None`` when the trigger neither raised nor warned.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                trigger()
        except _NotApplicable:
            raise
        except ModuleNotFoundError as exc:
            if (exc.name or "").startswith("sklearn_subspace"):
                raise _NotApplicable(str(exc)) from exc  # subpackage not built
            return _kind(exc), _clean(str(exc), limit)
        except Exception as exc:
            return _kind(exc), _clean(str(exc), limit)
    relevant = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
    if relevant:
        warning = relevant[0]
        message = _clean(str(warning.message), limit)
        return f"{warning.category.__name__} (warning)", message
    return None


def _table(rows, widths=(26, 22, 52)):
    # Fixed relative column widths spanning the page: without them the
    # browser sizes columns by content and the messages run off the page.
    table = nodes.table(classes=["subspace-error-table", "colwidths-given"])
    table["width"] = "100%"
    group = nodes.tgroup(cols=3)
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body
    header = nodes.row()
    for title in ("Input", "Raised", "Message"):
        header += nodes.entry("", nodes.paragraph(text=title))
    head += header
    for situation, kind, message in rows:
        row = nodes.row()
        row += nodes.entry("", situation)
        row += nodes.entry("", nodes.paragraph("", "", nodes.literal(text=kind)))
        text = nodes.paragraph(text=message)
        # Messages are shown verbatim: no curly quotes, "--" stays "--".
        text["support_smartquotes"] = False
        row += nodes.entry("", text)
        body += row
    return table


class ErrorTable(SphinxDirective):
    """``.. subspace-error-table:: <group>``: the errors of one group of inputs."""

    required_arguments = 1

    def run(self):
        self.env.note_reread()  # the messages live in the package, not here
        group = self.arguments[0]
        if group not in CASES:
            logger.warning(
                "subspace-error-table: unknown group %r; valid groups: %s",
                group,
                ", ".join(CASES),
                location=self.get_location(),
            )
            return []
        rows = []
        for situation, trigger in CASES[group]:
            try:
                outcome = run_case(trigger)
            except _NotApplicable as exc:
                logger.info("subspace-error-table: skipped %r: %s", situation, exc)
                continue
            if outcome is None:
                logger.warning(
                    "subspace-error-table: %r (group %r) no longer raises or "
                    "warns; update CASES in docs/sphinxext/error_table.py.",
                    situation,
                    group,
                    location=self.get_location(),
                )
                continue
            situation_nodes = nodes.paragraph()
            parsed, _ = self.state.inline_text(situation, self.lineno)
            situation_nodes += parsed
            rows.append((situation_nodes, *outcome))
        if not rows:
            return [nodes.paragraph(text="Not available in this build.")]
        return [_table(rows)]


# -- every entry point against malformed input --------------------------------
# The reliability tests keep, in tests/reliability/bad_input_cases.py, one
# list of bad inputs per public entry point. The page shows what each really
# raises, grouped by entry point, with the whole message: the fix is often in
# its last sentence.
_RELIABILITY = Path(__file__).resolve().parents[2] / "tests" / "reliability"


class details(nodes.General, nodes.Element):
    """A block that the reader opens: HTML's ``<details>``."""


class summary(nodes.General, nodes.TextElement):
    """The always visible line of a :class:`details` block."""


def _visit_details(self, node):
    self.body.append(self.starttag(node, "details", CLASS="subspace-details"))


def _depart_details(self, node):
    self.body.append("</details>\n")


def _visit_summary(self, node):
    self.body.append(self.starttag(node, "summary", ""))


def _depart_summary(self, node):
    self.body.append("</summary>\n")


def _pass(self, node):
    pass


@contextlib.contextmanager
def _reliability_cases():
    """Import ``bad_input_cases`` offline, with one fitted estimator of each kind."""
    import importlib
    import sys

    previous = os.environ.get("SKLEARN_SUBSPACE_OFFLINE")
    os.environ["SKLEARN_SUBSPACE_OFFLINE"] = "1"
    sys.path.insert(0, str(_RELIABILITY))
    try:
        cases = importlib.import_module("bad_input_cases")
        with tempfile.TemporaryDirectory() as tmp:
            quiet = io.StringIO()
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(quiet),
                contextlib.redirect_stderr(quiet),
            ):
                warnings.simplefilter("ignore")
                fitted = cases.build_fitted(tmp)
            yield cases, fitted
    finally:
        sys.path.remove(str(_RELIABILITY))
        if previous is None:
            os.environ.pop("SKLEARN_SUBSPACE_OFFLINE", None)
        else:
            os.environ["SKLEARN_SUBSPACE_OFFLINE"] = previous


def bad_input_outcomes():
    """Trigger every bad input of the reliability tests.

    Returns
    -------
    outcomes : dict
        Maps each entry point (``"JLSubspaceTransformer.fit"``, the command
        line as ``"sklearn-subspace"``) to a list of ``(input, raised,
        message)``, messages whole.
    """
    from functools import partial

    outcomes = {}
    with _reliability_cases() as (cases, fx):
        triggers = []
        for entry, (call, kinds, width) in cases.ENTRY_POINTS.items():
            for kind in kinds:
                X = cases.bad_array(kind, width)
                shape = getattr(X, "shape", None)
                what = f"{kind}, shape {tuple(shape)}" if shape is not None else kind
                triggers.append((entry, what, partial(call, fx, X)))
        for entry, what, call in cases.parameter_cases():
            triggers.append((entry, what, partial(call, fx)))
        for argv in cases.CLI_CASES:
            triggers.append(("sklearn-subspace", " ".join(argv), partial(_cli, *argv)))
        for entry, what, trigger in triggers:
            outcome = run_case(trigger, limit=None) or ("nothing", "accepted")
            outcomes.setdefault(entry, []).append((what, *outcome))
    return outcomes


def _group(entry):
    """``"JLSubspaceTransformer.fit"`` and ``"compression_study(X)"`` -> the name."""
    return re.split(r"[.( ]", entry, maxsplit=1)[0]


class BadInputTable(SphinxDirective):
    """``.. subspace-bad-input-table::``: every entry point against bad input.

    One heading per class or function, one block per entry point that opens
    on a table of the bad inputs, what each raises and its whole message.
    """

    def run(self):
        self.env.note_reread()  # the messages live in the package, not here
        try:
            outcomes = bad_input_outcomes()
        except Exception as exc:  # the test helpers are not part of the package
            logger.info("subspace-bad-input-table: not rendered: %s", exc)
            return [nodes.paragraph(text="Not available in this build.")]
        import sklearn_subspace

        result = []
        for group in dict.fromkeys(_group(entry) for entry in outcomes):
            if hasattr(sklearn_subspace, group):
                title = f":obj:`~sklearn_subspace.{group}`"
            else:
                title = f"``{group}``"
            rubric = nodes.rubric()
            parsed, _ = self.state.inline_text(title, self.lineno)
            rubric += parsed
            result.append(rubric)
            for entry, rows in outcomes.items():
                if _group(entry) != group:
                    continue
                block = details()
                plural = "s" if len(rows) > 1 else ""
                block += summary(
                    "",
                    "",
                    nodes.literal(text=entry),
                    nodes.Text(f": {len(rows)} bad input{plural}"),
                )
                block += _table(
                    [(nodes.paragraph(text=what), *outcome) for what, *outcome in rows],
                    widths=(24, 24, 52),
                )
                result.append(block)
        return result


def setup(app):
    app.add_node(
        details,
        html=(_visit_details, _depart_details),
        latex=(_pass, _pass),
        text=(_pass, _pass),
        man=(_pass, _pass),
        texinfo=(_pass, _pass),
    )
    app.add_node(
        summary,
        html=(_visit_summary, _depart_summary),
        latex=(_pass, _pass),
        text=(_pass, _pass),
        man=(_pass, _pass),
        texinfo=(_pass, _pass),
    )
    app.add_directive("subspace-bad-input-table", BadInputTable)
    app.add_directive("subspace-error-table", ErrorTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
