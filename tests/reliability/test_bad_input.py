"""Bad input to any public entry point is rejected with a message naming it.

Every entry point either raises ``ValueError`` or ``TypeError`` (or a
documented subclass, e.g. ``WeightsUnavailableError`` for weights that are
not on disk) whose message names the problem, or, for input that is merely
unusual (a single sample, huge finite values), returns finite output. It
never returns NaN or inf, never hangs (every test has a timeout), and never
lets an exception escape from deep inside numpy or torch.
"""

import contextlib
import io
import os
import re
import string
import subprocess
import sys
import traceback
import warnings

import numpy as np
import pytest
import torch
from bad_input_cases import (
    ARRAY_KINDS,
    CLI_CASES,
    ENTRY_POINTS,
    N_FEATURES,
    OBJECT_VALUES,
    PATTERNS,
    bad_array,
    build_fitted,
    make_distiller,
    parameter_cases,
    tiny_mlp,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_utils import subprocess_env
from sklearn.exceptions import DataDimensionalityWarning

from sklearn_subspace import (
    JLSubspaceTransformer,
    SubspaceHeadClassifier,
    TorchFeatureExtractor,
    WeightsUnavailableError,
    distortion_report,
    johnson_lindenstrauss_min_dim,
    make_projection,
    recommend_n_components,
)
from sklearn_subspace.cli import main as cli_main
from sklearn_subspace.projection import PROJECTION_FAMILIES, pair_distortion_band
from sklearn_subspace.study import compression_study, load_embedded_task

pytestmark = pytest.mark.timeout(120)

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
# Packages whose internals must never be where a bad-input error comes from.
_DEEP = (f"{os.sep}numpy{os.sep}", f"{os.sep}torch{os.sep}")


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    """One fitted estimator of each kind, on tiny data."""
    return build_fitted(tmp_path_factory.mktemp("bert"))


def assert_rejected(call, pattern, errors=(ValueError, TypeError)):
    """``call()`` raises one of ``errors`` whose message matches ``pattern``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
        except errors as exc:
            message = str(exc)
            assert re.search(pattern, message), (
                f"{type(exc).__name__} does not name the problem "
                f"(expected /{pattern}/): {message!r}"
            )
            origin = traceback.extract_tb(exc.__traceback__)[-1].filename
            assert not any(part in origin for part in _DEEP), (
                f"{type(exc).__name__} escaped from {origin}: {message!r}"
            )
            return exc
    pytest.fail(f"bad input was accepted and returned {result!r:.200}")


# -- bad arrays, for every entry point that takes data ---------------------------
@st.composite
def bad_arrays(draw, kind, n_features=N_FEATURES):
    """Hypothesis draws the shape, place, value and dtype of one bad input."""
    return bad_array(
        kind,
        n_features,
        n_samples=draw(st.integers(4, 12)),
        row=draw(st.integers(0, 11)),
        col=draw(st.integers(0, n_features - 1)),
        seed=draw(st.integers(0, 2**16)),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        sign=draw(st.sampled_from([1.0, -1.0])),
        extra=draw(st.integers(1, 3)),
        width=draw(st.integers(1, 2 * n_features)),
        # "x" first: a word such as "nan" or "inf" would parse as a float.
        word="x" + draw(st.text(string.ascii_letters + " ", max_size=6)),
        obj=draw(st.sampled_from(OBJECT_VALUES)),
    )


# The quick loop tries the two commonest mistakes at every entry point; the
# whole table (every kind everywhere, 8 examples each) is slow.
QUICK_KINDS = ("NaN", "wrong width")

ARRAY_CASES = [
    pytest.param(
        entry,
        kind,
        id=f"{entry}-{kind}",
        marks=() if kind in QUICK_KINDS else pytest.mark.slow,
    )
    for entry, (_, kinds, _) in ENTRY_POINTS.items()
    for kind in kinds
]


def test_every_entry_point_is_tried_with_every_kind_that_applies():
    tried = {kind for _, kinds, _ in ENTRY_POINTS.values() for kind in kinds}
    assert tried == set(ARRAY_KINDS)
    assert len(ENTRY_POINTS) >= 18


@pytest.mark.parametrize("entry, kind", ARRAY_CASES)
@settings(max_examples=8)
@given(data=st.data())
def test_bad_array_is_rejected_with_a_message_naming_it(fx, entry, kind, data):
    call, _, width = ENTRY_POINTS[entry]
    X = data.draw(bad_arrays(kind, width), label="X")
    assert_rejected(lambda: call(fx, X), PATTERNS[kind])


# -- unusual but valid input gives finite output ---------------------------------
@pytest.mark.parametrize("family", PROJECTION_FAMILIES)
@settings(max_examples=10)
@given(
    scale=st.floats(1e-30, 3e38),
    row=st.integers(0, 4),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_projection_of_finite_input_is_finite_or_an_overflow_error(
    fx, family, scale, row, dtype
):
    jl = JLSubspaceTransformer(4, projection=family, random_state=0).fit(fx.X)
    X = fx.X[:5].astype(dtype)
    X[row] = np.sign(X[row]) * scale  # one row of huge (or tiny) finite values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            Z = jl.transform(X)
        except ValueError as exc:
            assert "overflowed" in str(exc) and "Rescale X" in str(exc)
            return
    assert np.isfinite(Z).all()
    assert Z.dtype == dtype


@settings(max_examples=10)
@given(scale=st.floats(1.0, 3e38), row=st.integers(0, 4))
def test_head_and_teacher_never_return_nan_for_finite_input(fx, scale, row):
    X = fx.X[:5].copy()
    X[row] = scale
    for predict in (fx.head.predict_proba, fx.head.decision_function):
        try:
            proba = predict(X)
        except ValueError as exc:
            # Logits beyond float32's range: refused, naming the fix.
            assert "logits overflowed float32" in str(exc)
            assert "Rescale the features" in str(exc)
        else:
            assert np.isfinite(proba).all()
    try:
        features = fx.extractor.transform(X)
    except ValueError as exc:
        assert "NaN or infinite features" in str(exc)
    else:
        assert np.isfinite(features).all()


def test_a_single_sample_is_transformed_like_in_a_batch(fx):
    one = fx.X[3:4]
    np.testing.assert_array_equal(fx.jl.transform(one), fx.jl.transform(fx.X)[3:4])
    np.testing.assert_array_equal(fx.head.predict(one), fx.head.predict(fx.X)[3:4])
    assert fx.extractor.transform(one).shape == (1, 12)


@pytest.mark.parametrize(
    "call",
    [
        lambda fx: SubspaceHeadClassifier(device="cpu").fit(fx.X[:1], fx.y[:1]),
        lambda fx: recommend_n_components(fx.X[:1]),
        lambda fx: distortion_report(fx.X[:1], fx.jl),
        lambda fx: compression_study(fx.X[:1], fx.y[:1], fx.X, fx.y),
    ],
    ids=["head.fit", "recommend_n_components", "distortion_report", "study"],
)
def test_a_single_training_sample_is_rejected_where_two_are_needed(fx, call):
    assert_rejected(lambda: call(fx), r"sample|class|at least")


# -- k, eps and the option names --------------------------------------------------
@settings(max_examples=10)
@given(k=st.integers(max_value=0))
def test_k_of_zero_or_below_is_rejected_everywhere(fx, k):
    pattern = r"n_components|k=|>= 1|positive"
    assert_rejected(lambda: JLSubspaceTransformer(k).fit(fx.X), pattern)
    assert_rejected(lambda: make_projection("gaussian", k, 16, seed=0), pattern)
    assert_rejected(lambda: pair_distortion_band(k), pattern)
    assert_rejected(
        lambda: recommend_n_components(fx.X, n_components_grid=[k]), pattern
    )
    assert_rejected(
        lambda: compression_study(fx.X, fx.y, fx.X, fx.y, n_components=[k]), pattern
    )
    assert_rejected(lambda: make_distiller(n_components=k).fit(fx.X, fx.y), pattern)


@settings(max_examples=10)
@given(k=st.integers(N_FEATURES + 1, 10**4))
def test_k_larger_than_d_is_rejected_where_it_cannot_compress(fx, k):
    pattern = rf"{k}|larger|exceed|n_features|<="
    assert_rejected(
        lambda: compression_study(fx.X, fx.y, fx.X, fx.y, n_components=[k]), pattern
    )
    assert_rejected(
        lambda: recommend_n_components(fx.X, n_components_grid=[k]), pattern
    )
    assert_rejected(
        lambda: JLSubspaceTransformer(k, projection="orthogonal").fit(fx.X), pattern
    )
    assert_rejected(lambda: make_projection("srht", k, N_FEATURES, seed=0), pattern)


def test_k_larger_than_d_in_the_transformer_warns_as_scikit_learn_does(fx):
    # A dense map to k > d is a valid (if useless) embedding: like
    # GaussianRandomProjection, the transformer warns instead of failing.
    with pytest.warns(DataDimensionalityWarning, match="higher than the number"):
        Z = JLSubspaceTransformer(2 * N_FEATURES, random_state=0).fit_transform(fx.X)
    assert Z.shape == (len(fx.X), 2 * N_FEATURES) and np.isfinite(Z).all()


bad_eps = st.one_of(
    st.floats(max_value=0.0),
    st.floats(min_value=1.0),
    st.just(float("nan")),
    st.sampled_from(["0.1", None, [0.1, 2.0]]),
)


@settings(max_examples=15)
@given(eps=bad_eps)
def test_eps_outside_zero_one_is_rejected_everywhere(fx, eps):
    pattern = r"eps"
    assert_rejected(lambda: JLSubspaceTransformer(eps=eps).fit(fx.X), pattern)
    assert_rejected(lambda: johnson_lindenstrauss_min_dim(100, eps=eps), pattern)
    assert_rejected(lambda: distortion_report(fx.X, fx.jl, eps=eps), pattern)
    assert_rejected(lambda: recommend_n_components(fx.X, eps=eps), pattern)


def standard_options_message(parameter, owner, name, listed=("gaussian", "srht")):
    """scikit-learn's message for a string that is not among the options.

    The options are printed as a set, in no fixed order: each name in
    ``listed`` must be among them, wherever it is.
    """
    among = "".join(rf"(?=[^}}]*'{option}')" for option in listed)
    return (
        rf"The '{parameter}' parameter of {owner} must be a str among "
        rf"\{{{among}[^}}]*\}}. Got {re.escape(repr(name))} instead\."
    )


names = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)
# Names that argparse cannot mistake for an option.
cli_names = names.filter(lambda s: not s.startswith("-"))


@settings(max_examples=10)
@given(name=names.filter(lambda s: s not in PROJECTION_FAMILIES))
def test_unknown_projection_is_rejected_listing_the_valid_ones(fx, name):
    pattern = rf"{re.escape(name)}.*gaussian.*srht"
    assert_rejected(
        lambda: JLSubspaceTransformer(projection=name).fit(fx.X),
        standard_options_message("projection", "JLSubspaceTransformer", name),
    )
    assert_rejected(
        lambda: make_projection(name, 2, 4, seed=0),
        standard_options_message("projection", "make_projection", name),
    )
    assert_rejected(
        lambda: recommend_n_components(fx.X, projection=name),
        standard_options_message("projection", "recommend_n_components", name),
    )
    assert_rejected(
        lambda: compression_study(fx.X, fx.y, fx.X, fx.y, projections=[name]),
        pattern,
    )
    # The distiller declares its options: scikit-learn's message lists them
    # as a set, before the bad name.
    assert_rejected(
        lambda: make_distiller(projection=name).fit(fx.X, fx.y),
        rf"'projection' parameter of SubspaceDistiller must be a str among "
        rf"\{{.*'gaussian'.*\}}. Got {re.escape(repr(name))} instead",
    )


@settings(max_examples=10)
@given(name=names.filter(lambda s: s not in ("auto", "cls", "mean", "avg", "max")))
def test_unknown_pooling_is_rejected_listing_the_valid_ones(fx, name):
    assert_rejected(
        lambda: TorchFeatureExtractor(tiny_mlp(), pooling=name, device="cpu").fit(fx.X),
        standard_options_message(
            "pooling", "TorchFeatureExtractor", name, listed=("auto", "cls")
        ),
    )


@settings(max_examples=10)
@given(name=names.filter(lambda s: s not in ("adamw", "sgd", "lbfgs", "auto")))
def test_unknown_optimizer_is_rejected_listing_the_valid_ones(fx, name):
    # scikit-learn's standard message lists the valid options as a set.
    assert_rejected(
        lambda: SubspaceHeadClassifier(optimizer=name, device="cpu").fit(fx.X, fx.y),
        rf"'optimizer' parameter of SubspaceHeadClassifier must be a str among "
        rf"\{{.*'lbfgs'.*\}}. Got {re.escape(repr(name))} instead",
    )
    assert_rejected(
        lambda: make_distiller(optimizer=name).fit(fx.X, fx.y),
        rf"'optimizer' parameter of SubspaceDistiller must be a str among "
        rf"\{{.*'adamw'.*\}}. Got {re.escape(repr(name))} instead",
    )


def _is_device_name(text):
    return text.strip().lower().split(":")[0] in ("auto", "cpu", "cuda", "mps")


@settings(max_examples=10)
@given(name=names.filter(lambda s: not _is_device_name(s)))
def test_unknown_device_is_rejected_listing_the_valid_ones(fx, name):
    pattern = r"device.*'auto', 'cpu', 'cuda'"
    assert_rejected(
        lambda: SubspaceHeadClassifier(device=name).fit(fx.X, fx.y), pattern
    )
    assert_rejected(
        lambda: TorchFeatureExtractor(tiny_mlp(), device=name).fit(fx.X), pattern
    )
    assert_rejected(lambda: make_distiller(device=name).fit(fx.X, fx.y), pattern)


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "CUDA:1"])
def test_cuda_without_cuda_says_so_and_how_to_fix_it(fx, device):
    pattern = r"CUDA is not available.*device='auto' or device='cpu'"
    assert_rejected(
        lambda: SubspaceHeadClassifier(device=device).fit(fx.X, fx.y), pattern
    )
    assert_rejected(
        lambda: TorchFeatureExtractor(tiny_mlp(), device=device).fit(fx.X), pattern
    )
    assert_rejected(lambda: make_distiller(device=device).fit(fx.X, fx.y), pattern)


@settings(max_examples=6)
@given(name=names.filter(lambda s: s.lower() not in ("resnet50", "resnet18")))
def test_unknown_model_name_raises_weights_unavailable_naming_it(fx, name):
    error = assert_rejected(
        lambda: TorchFeatureExtractor(name, device="cpu").fit(fx.images),
        re.escape(name),
        errors=(ValueError, TypeError, WeightsUnavailableError),
    )
    assert isinstance(error, (ValueError, TypeError, OSError))


def test_missing_pretrained_weights_say_where_they_were_looked_for(fx):
    error = assert_rejected(
        lambda: TorchFeatureExtractor("resnet50", device="cpu").fit(fx.images),
        r"resnet50.*(not in the local cache|offline)",
        errors=(WeightsUnavailableError,),
    )
    assert isinstance(error, OSError)


@settings(max_examples=8)
@given(name=names.filter(lambda s: s not in ("0", "1", "2")))
def test_unknown_layer_is_rejected_listing_the_valid_ones(fx, name):
    assert_rejected(
        lambda: TorchFeatureExtractor(tiny_mlp(), layer=name, device="cpu").fit(fx.X),
        rf"Unknown layer {re.escape(repr(name))}.*'0', '1', '2'",
    )


# -- images and texts ---------------------------------------------------------------
@settings(max_examples=10)
@given(
    channels=st.integers(2, 9).filter(lambda c: c not in (3, 4)),
    height=st.integers(5, 9),
    width=st.integers(5, 9),
    channels_last=st.booleans(),
)
def test_images_with_a_wrong_number_of_channels_are_rejected(
    fx, channels, height, width, channels_last
):
    shape = (
        (2, height, width, channels) if channels_last else (2, channels, height, width)
    )
    images = np.zeros(shape, dtype=np.uint8)
    assert_rejected(lambda: fx.image_extractor.transform(images), r"channel.*1, 3 or 4")


words = st.text(string.ascii_lowercase, min_size=1, max_size=6)


@settings(max_examples=8)
@given(texts=st.lists(st.tuples(words, words).map(" ".join), min_size=1, max_size=4))
def test_text_given_to_an_image_model_is_rejected(fx, texts):
    assert_rejected(
        lambda: fx.image_extractor.transform(texts),
        r"does not exist|image|[Tt]ext",
    )


@settings(max_examples=8)
@given(
    n=st.integers(1, 4),
    side=st.integers(3, 9),
    dtype=st.sampled_from([np.uint8, np.float32]),
)
def test_images_given_to_a_text_model_are_rejected(fx, n, side, dtype):
    images = np.zeros((n, side, side, 3), dtype=dtype)
    assert_rejected(lambda: fx.text_extractor.transform(images), r"string|text|[Tt]ext")


@pytest.mark.parametrize("random_state", [None, "x", 1.5])
def test_embedded_task_rejects_a_random_state_that_is_no_integer(
    random_state, tmp_path
):
    assert_rejected(
        lambda: load_embedded_task(cache_dir=tmp_path, random_state=random_state),
        r"random_state",
    )


def test_embedded_task_rejects_a_cache_dir_that_is_no_path():
    assert_rejected(lambda: load_embedded_task(cache_dir=5), r"cache_dir")


def test_embedded_task_rejects_a_random_state_that_is_no_int():
    assert_rejected(lambda: load_embedded_task(random_state=0.5), r"random_state")


def test_the_exported_module_rejects_a_wrong_width(fx):
    assert_rejected(
        lambda: fx.module(torch.zeros(2, N_FEATURES + 3)), r"expected 16, got 19"
    )


# -- the command line -----------------------------------------------------------------
def run_cli(argv):
    """Exit status and stderr of the command line, run in this process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli_main(argv)
        except SystemExit as exc:  # argparse errors
            status = exc.code
    return status, err.getvalue()


def assert_cli_error(argv, pattern):
    status, err = run_cli(argv)
    assert status not in (0, None), f"{argv} succeeded"
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert re.search(pattern, errors[0]), errors[0]


@settings(max_examples=8)
@given(k=st.one_of(st.integers(max_value=0), st.integers(2049, 10**6)))
def test_cli_rejects_k_out_of_range_with_a_one_line_error(k):
    assert_cli_error(["study", "--ks", str(k)], rf"{k}")


@settings(max_examples=8)
@given(
    option=st.sampled_from(["--projections", "--baselines"]),
    name=cli_names.filter(
        lambda s: s not in PROJECTION_FAMILIES + ("full", "pca", "learned")
    ),
)
def test_cli_rejects_unknown_names_listing_the_valid_ones(option, name):
    assert_cli_error(["study", option, name], rf"unknown .*{re.escape(name)}.*valid")


@settings(max_examples=8)
@given(name=cli_names.filter(lambda s: not _is_device_name(s)))
def test_cli_rejects_an_unknown_device(name):
    assert_cli_error(["study", "--device", name], r"device")


@pytest.mark.parametrize("argv", [list(a) for a in CLI_CASES], ids=" ".join)
def test_cli_errors_are_one_line_without_traceback(argv):
    if "cuda" in argv and torch.cuda.is_available():
        pytest.skip("CUDA is present")
    assert_cli_error(argv, r"\S")


@pytest.mark.slow  # runs the console command
def test_console_command_exits_2_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "sklearn_subspace", "study", "--ks", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("argument --ks: expected a positive integer, got 0")
    )


# -- the documented table ---------------------------------------------------------------
@pytest.mark.parametrize(
    "entry, what, call",
    [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in parameter_cases()],
)
def test_every_case_of_the_docs_table_is_rejected(fx, entry, what, call):
    if "cuda" in what and torch.cuda.is_available():
        pytest.skip("CUDA is present")
    assert_rejected(lambda: call(fx), r"\w{4}", errors=(ValueError, TypeError, OSError))
