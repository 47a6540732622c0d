"""Run every CUDA path of the library once, and print one table of figures.

The library's GPU code -- ``device="auto"`` picking CUDA, bf16 autocast,
channels-last, pinned memory and DataLoader workers, heads and students
trained on CUDA, the feature cache shared between a GPU and a CPU -- is
exercised here end to end, with random weights and generated data (nothing
is downloaded):

1. ``device="auto"`` resolves to CUDA for the extractor and the head, and
   ``device="cuda"`` without a GPU is a clear error.
2. Extraction with ResNet-50 and ViT-B/16 on synthetic 224 x 224 images:
   bf16 autocast and channels-last; features against a float32 CPU run
   (tolerance below); images/s against the hand-written loop of
   ``bench_extract.py`` and against the same loop under ``torch.compile``.
3. A ``SubspaceHeadClassifier`` fitted on 1,000,000 x 128 features with
   1,000 classes: time against a hand-written torch loop, and predictions
   equal to those of the same model moved to the CPU (``export_torch``),
   except near-ties of the logits.
4. A ``SubspaceDistiller`` end to end (teacher, projection, head, student).
5. A ``compression_study`` over a generated image folder, read with
   DataLoader workers (pinned memory on CUDA).
6. The feature cache written on CUDA, read again on CUDA, and by the CPU,
   which recomputes: the cache key holds the device type and precision.

Any exception is a failure, printed with its traceback. The script ends
with the line ``gpu-check: N passed, M failed`` and exits 1 if anything
failed. Without CUDA it runs every part except the device placement on the
CPU at reduced sizes (bf16 autocast included), says that CUDA is absent,
and exits 0 if those parts pass, so that CI can use it as a smoke test.

Tolerance of bf16 against float32 features: every feature vector within
``BF16_REL_TOL`` relative error (Euclidean norm of the difference over the
norm of the float32 vector) and a cosine similarity of at least
``BF16_MIN_COSINE``.

The GPU sizes are meant to finish in under 8 minutes on one GPU,
compilation included (estimated, not yet timed on a GPU); the reduced CPU
run takes a few minutes on two cores.

Run::

    python benchmarks/gpu_check.py                     # or: make gpu-check
    python benchmarks/gpu_check.py --only "head fit" distiller
"""

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_extract import hand_loop, without_classifier

BF16_REL_TOL = 0.05
BF16_MIN_COSINE = 0.995
# Predictions of the CUDA head and its CPU copy may differ only where the
# two best logits are closer than this (float32 sums in another order).
LOGIT_TIE_TOL = 1e-3
AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How big each check is: full size on a GPU, reduced on the CPU."""

    images: int  # images per throughput run (224 x 224)
    batch_size: int
    compare: int  # images compared with the float32 CPU run
    repeats: int
    # torch.compile's backend: "inductor" on CUDA; on the CPU, "eager" traces
    # the model without generating code, which would take minutes here.
    compile_backend: str
    head_rows: int
    head_classes: int
    head_epochs: int
    head_eval_rows: int
    distill_samples: int
    folder_images_per_class: int
    cache_samples: int


GPU_SIZES = Sizes(
    images=512,
    batch_size=128,
    compare=32,
    repeats=5,
    compile_backend="inductor",
    head_rows=1_000_000,
    head_classes=1000,
    head_epochs=2,
    head_eval_rows=100_000,
    distill_samples=4096,
    folder_images_per_class=40,
    cache_samples=512,
)
CPU_SIZES = Sizes(
    images=1,
    batch_size=1,
    compare=1,
    repeats=1,
    compile_backend="eager",
    head_rows=20_000,
    head_classes=100,
    head_epochs=1,
    head_eval_rows=5_000,
    distill_samples=256,
    folder_images_per_class=8,
    cache_samples=16,
)


class Context:
    """What every check needs: the device, the sizes, and where rows go."""

    def __init__(self, cuda, sizes, workdir):
        self.cuda = cuda
        self.sizes = sizes
        self.workdir = workdir
        self.device = torch.device("cuda" if cuda else "cpu")
        # On the CPU, "auto" is float32: force bf16 to run the autocast path.
        self.precision = "auto" if cuda else "bfloat16"
        self.rows = []

    def row(self, check, figure, value):
        self.rows.append((check, figure, value))


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _median_seconds(function, repeats, device):
    """Median seconds of ``repeats`` calls, and what the last call returned."""
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        result = function()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _rate(n, seconds):
    """``n / seconds`` with enough digits for a slow CPU and a fast GPU."""
    rate = n / seconds
    return f"{rate:.1f}" if rate >= 10 else f"{rate:.3f}"


def _compare_features(approx, exact):
    """(max relative error, min cosine) of feature rows ``approx`` vs ``exact``."""
    approx, exact = approx.astype(np.float64), exact.astype(np.float64)
    norms = np.linalg.norm(exact, axis=1)
    rel = np.linalg.norm(approx - exact, axis=1) / np.maximum(norms, 1e-12)
    cos = (approx * exact).sum(1) / np.maximum(
        norms * np.linalg.norm(approx, axis=1), 1e-12
    )
    return float(rel.max()), float(cos.min())


# -- 1. device="auto" ---------------------------------------------------------
def check_device_auto(ctx):
    from sklearn_subspace import SubspaceHeadClassifier, TorchFeatureExtractor

    rng = np.random.RandomState(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Tanh())
    extractor = TorchFeatureExtractor(net, device="auto").fit(rng.rand(4, 8))
    X, y = rng.rand(40, 8).astype(np.float32), np.arange(40) % 2
    head = SubspaceHeadClassifier(
        optimizer="adamw", lr=1e-2, max_epochs=1, early_stopping=False, device="auto"
    ).fit(X, y)
    expected = "cuda" if ctx.cuda else "cpu"
    assert extractor.device_.type == expected, extractor.device_
    assert torch.device(head.device_).type == expected, head.device_
    assert next(extractor.model_.parameters()).device.type == expected
    ctx.row("device auto", "extractor / head device", f"{expected} / {expected}")
    if ctx.cuda:
        name = torch.cuda.get_device_name()
        ctx.row("device auto", "GPU", name)
        assert extractor.precision_ in ("bfloat16", "float16")
        ctx.row("device auto", "precision='auto' on CUDA", extractor.precision_)
        return
    try:
        TorchFeatureExtractor(net, device="cuda").fit(rng.rand(4, 8))
    except ValueError as exc:
        assert "CUDA is not available" in str(exc), exc
    else:
        raise AssertionError("device='cuda' without CUDA did not raise")
    assert extractor.precision_ == "float32"
    ctx.row("device auto", "device='cuda' without CUDA", "ValueError naming the fix")


# -- 2. extraction ------------------------------------------------------------
def _extractor(ctx, model, **params):
    from sklearn_subspace import TorchFeatureExtractor

    params = {"weights": None, "batch_size": ctx.sizes.batch_size, **params}
    return TorchFeatureExtractor(model, random_state=0, **params)


def _check_layout(ctx, extractor, model_name):
    """bf16 autocast, and channels-last weights for convolutional teachers."""
    assert extractor.device_.type == ctx.device.type
    assert extractor.precision_ in ("bfloat16", "float16"), extractor.precision_
    first_conv = next(
        m for m in extractor.model_.modules() if isinstance(m, torch.nn.Conv2d)
    )
    channels_last = first_conv.weight.is_contiguous(memory_format=torch.channels_last)
    # The extractor puts convolutional teachers in channels-last on CUDA only.
    assert channels_last == ctx.cuda, (model_name, channels_last)
    ctx.row(
        f"extract {model_name}",
        "precision / channels-last",
        f"{extractor.precision_} / {channels_last}",
    )


def _throughput(ctx, extractor, X, model_name):
    sizes, device = ctx.sizes, extractor.device_
    amp_dtype = AMP_DTYPES.get(extractor.precision_)
    hand_model = without_classifier(extractor.model_)

    def run_hand(model):
        return hand_loop(model, X, sizes.batch_size, device, amp_dtype, ctx.cuda)

    if ctx.cuda:  # warm-up: cuDNN kernel choice, allocator
        extractor.transform(X)
        run_hand(hand_model)
    t_extractor, _ = _median_seconds(
        lambda: extractor.transform(X), sizes.repeats, device
    )
    t_hand, _ = _median_seconds(lambda: run_hand(hand_model), sizes.repeats, device)
    check = f"extract {model_name}"
    ctx.row(check, "extractor images/s", _rate(len(X), t_extractor))
    ctx.row(check, "hand loop images/s", _rate(len(X), t_hand))
    ctx.row(check, "ratio extractor / hand loop", f"{t_hand / t_extractor:.3f}")


def check_extraction(ctx, model_name):
    sizes = ctx.sizes
    X = np.random.RandomState(1).randn(sizes.images, 3, 224, 224).astype(np.float32)
    extractor = _extractor(ctx, model_name, precision=ctx.precision)
    approx = extractor.fit_transform(X[: sizes.compare])
    _check_layout(ctx, extractor, model_name)

    reference = _extractor(ctx, model_name, device="cpu", precision="float32")
    exact = reference.fit_transform(X[: sizes.compare])
    assert approx.dtype == np.float32 and approx.shape == exact.shape
    rel, cos = _compare_features(approx, exact)
    check = f"extract {model_name}"
    ctx.row(check, f"{extractor.precision_} vs float32 CPU: max rel err", f"{rel:.4f}")
    ctx.row(check, f"{extractor.precision_} vs float32 CPU: min cosine", f"{cos:.5f}")
    assert rel <= BF16_REL_TOL, f"relative error {rel:.4f} > {BF16_REL_TOL}"
    assert cos >= BF16_MIN_COSINE, f"cosine {cos:.5f} < {BF16_MIN_COSINE}"
    _throughput(ctx, extractor, X, model_name)


def check_compile(ctx, model_name):
    """The hand loop under ``torch.compile``: does compiling pay?"""
    sizes = ctx.sizes
    X = np.random.RandomState(1).randn(sizes.images, 3, 224, 224).astype(np.float32)
    extractor = _extractor(ctx, model_name, precision=ctx.precision).fit(X[:1])
    device, amp_dtype = extractor.device_, AMP_DTYPES.get(extractor.precision_)
    hand_model = without_classifier(extractor.model_)

    def run(model):
        return hand_loop(model, X, sizes.batch_size, device, amp_dtype, ctx.cuda)

    if ctx.cuda:  # warm-up, as for the compiled loop
        run(hand_model)
    t_eager, eager = _median_seconds(lambda: run(hand_model), sizes.repeats, device)
    compiled = torch.compile(hand_model, backend=sizes.compile_backend)
    start = time.perf_counter()
    features = run(compiled)  # the first call compiles
    _sync(device)
    compile_seconds = time.perf_counter() - start
    rel, _ = _compare_features(features, eager)
    t_compiled, _ = _median_seconds(lambda: run(compiled), sizes.repeats, device)
    speedup = t_eager / t_compiled
    check = f"compile {model_name}"
    ctx.row(
        check,
        "backend / compile time",
        f"{sizes.compile_backend} / {compile_seconds:.1f} s",
    )
    ctx.row(check, "hand loop images/s", _rate(len(X), t_eager))
    ctx.row(check, "compiled loop images/s", _rate(len(X), t_compiled))
    ctx.row(
        check,
        "compiling pays (>= 1.05x)",
        f"{'yes' if speedup >= 1.05 else 'no'} ({speedup:.2f}x)",
    )
    ctx.row(check, "compiled vs eager: max rel err", f"{rel:.4f}")
    assert rel <= BF16_REL_TOL, f"compiled features differ: {rel:.4f}"


# -- 3. the head --------------------------------------------------------------
def _blobs(n_rows, n_features, n_classes, seed):
    """Gaussian classes around random centres: float32 X, int64 y."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal(
        (n_classes, n_features), dtype=np.float32
    )
    y = rng.integers(n_classes, size=n_rows)
    X = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    X += centres[y]
    return X, y


def _head_hand_loop(X, y, n_classes, epochs, device, seed=0):
    """The shortest correct torch loop for the same linear head."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(X.shape[1], n_classes).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    for _ in range(epochs):
        perm = torch.randperm(len(X_t), generator=generator).to(device)
        for start in range(0, len(X_t), 256):
            idx = perm[start : start + 256]
            optimizer.zero_grad()
            loss_fn(model(X_t[idx]), y_t[idx]).backward()
            optimizer.step()
    return model


def _predictions_match(head, X_eval):
    """Mismatches between the head on its device and its CPU copy.

    Returns ``(n_mismatches, n_not_ties, max logit difference)``: a
    mismatch is allowed only where the two best CPU logits are closer than
    ``LOGIT_TIE_TOL``.
    """
    from sklearn_subspace import export_torch

    predicted = head.predict(X_eval)
    logits = head.decision_function(X_eval)
    module = export_torch(head)  # the same weights, as a CPU module
    with torch.inference_mode():
        cpu_logits = module(torch.from_numpy(X_eval)).numpy()
    cpu_predicted = module.classes_[cpu_logits.argmax(1)]
    differ = np.flatnonzero(predicted != cpu_predicted)
    top2 = np.sort(cpu_logits[differ], axis=1)[:, -2:]
    not_ties = int((top2[:, 1] - top2[:, 0] >= LOGIT_TIE_TOL).sum())
    return len(differ), not_ties, float(np.abs(logits - cpu_logits).max())


def check_head(ctx):
    # A small head on two busy CPU threads mostly waits for the other
    # thread; one thread on both sides gives comparable CPU figures.
    threads = torch.get_num_threads()
    if not ctx.cuda:
        torch.set_num_threads(1)
    try:
        _check_head(ctx)
    finally:
        torch.set_num_threads(threads)


def _check_head(ctx):
    from sklearn.base import clone

    from sklearn_subspace import SubspaceHeadClassifier

    sizes, device = ctx.sizes, ctx.device
    n_classes, epochs = sizes.head_classes, sizes.head_epochs
    X, y = _blobs(sizes.head_rows, 128, n_classes, seed=1)
    X_eval, y_eval = _blobs(sizes.head_eval_rows, 128, n_classes, seed=2)
    head = SubspaceHeadClassifier(
        optimizer="adamw",
        lr=1e-3,
        weight_decay=1e-4,
        batch_size=256,
        max_epochs=epochs,
        early_stopping=False,
        device="auto",
        random_state=0,
    )
    # Warm-up (imports, kernel choice, allocator) on a slice, untimed.
    clone(head).set_params(max_epochs=1).fit(X[:4096], y[:4096])
    _head_hand_loop(X[:4096], y[:4096], n_classes, 1, device)
    start = time.perf_counter()
    head.fit(X, y)
    _sync(device)
    t_head = time.perf_counter() - start
    assert torch.device(head.device_).type == device.type, head.device_
    start = time.perf_counter()
    model = _head_hand_loop(X, y, n_classes, epochs, device)
    _sync(device)
    t_hand = time.perf_counter() - start
    with torch.inference_mode():
        hand_pred = model(torch.from_numpy(X_eval).to(device)).argmax(1).cpu().numpy()
    n_differ, n_not_ties, max_diff = _predictions_match(head, X_eval)
    check = "head fit"
    ctx.row(check, "data", f"{len(X):,} x 128, {n_classes} classes, {epochs} epochs")
    ctx.row(check, "SubspaceHeadClassifier s", f"{t_head:.2f}")
    ctx.row(check, "hand loop s", f"{t_hand:.2f}")
    ctx.row(check, "ratio head / hand loop time", f"{t_head / t_hand:.2f}")
    ctx.row(
        check,
        "held-out accuracy head / hand",
        f"{head.score(X_eval, y_eval):.4f} / {(hand_pred == y_eval).mean():.4f}",
    )
    ctx.row(
        check,
        f"{device.type} vs CPU copy: predictions differ",
        f"{n_differ} of {len(X_eval):,} (not near-ties: {n_not_ties})",
    )
    ctx.row(check, f"{device.type} vs CPU copy: max logit diff", f"{max_diff:.2e}")
    assert n_not_ties == 0, f"{n_not_ties} predictions differ beyond near-ties"


# -- 4. distiller and 5. study --------------------------------------------------
COLOURS = np.array([[1, -1, 0], [-1, 1, 0], [0, -1, 1], [1, 1, -1]], np.float32)


def _coloured_images(n, size, seed):
    """Float NCHW images whose class is a mean colour under strong noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(COLOURS)
    X = rng.standard_normal((n, 3, size, size), dtype=np.float32)
    X += COLOURS[y][:, :, None, None]
    return X, y


def check_distiller(ctx):
    from sklearn_subspace import StudentMLP, SubspaceDistiller, SubspaceHeadClassifier

    n = ctx.sizes.distill_samples
    X, y = _coloured_images(n + n // 4, size=32, seed=3)
    X_test, y_test, X, y = X[n:], y[n:], X[:n], y[:n]
    head = SubspaceHeadClassifier(
        optimizer="adamw", lr=1e-2, max_epochs=20, early_stopping=False, device="auto"
    )
    distiller = SubspaceDistiller(
        StudentMLP,
        teacher=_extractor(ctx, "resnet18", precision=ctx.precision, batch_size=256),
        n_components=32,
        max_epochs=5,
        device="auto",
        head=head,
        random_state=0,
    )
    start = time.perf_counter()
    distiller.fit(X, y)
    seconds = time.perf_counter() - start
    expected = ctx.device.type
    assert distiller.device_.type == expected, distiller.device_
    assert distiller.teacher_.device_.type == expected, distiller.teacher_.device_
    assert torch.device(distiller.head_.device_).type == expected
    assert next(distiller.student_.parameters()).device.type == expected
    Z = distiller.transform(X_test)
    assert Z.shape == (len(X_test), 32) and Z.dtype == np.float32
    assert np.isfinite(Z).all()
    teacher_Z = distiller.projection_.transform(distiller.teacher_.transform(X_test))
    teacher_acc = distiller.head_.score(teacher_Z, y_test)
    student_acc = distiller.score(X_test, y_test)
    check = "distiller"
    ctx.row(check, "teacher / student / head device", f"{expected} (all three)")
    ctx.row(
        check, "fit s (teacher resnet18, 32x32 images)", f"{seconds:.1f} ({n} images)"
    )
    ctx.row(
        check,
        "test accuracy teacher subspace / student",
        f"{teacher_acc:.3f} / {student_acc:.3f}",
    )
    assert student_acc >= 0.5, f"student accuracy {student_acc:.3f} (4 classes)"


def _write_image_folder(root, per_class, size, seed):
    """One sub-folder of PNG images per class colour."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label, colour in enumerate(COLOURS):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            noise = rng.normal(0, 40, (size, size, 3))
            pixels = np.clip(128 + 60 * colour + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:04d}.png")


def check_study(ctx):
    from sklearn_subspace import SubspaceHeadClassifier, compression_study
    from sklearn_subspace.datasets import load_dataset

    root = ctx.workdir / "image_folder"
    per_class = ctx.sizes.folder_images_per_class
    _write_image_folder(root, per_class, size=48, seed=4)
    data = load_dataset(f"imagefolder:{root}", random_state=0)
    # Files are decoded and preprocessed by DataLoader workers, which pin
    # their batches on CUDA.
    extractor = _extractor(
        ctx, "resnet18", precision=ctx.precision, batch_size=16, num_workers=2
    )
    head = SubspaceHeadClassifier(
        optimizer="adamw", lr=1e-2, max_epochs=20, early_stopping=False, device="auto"
    )
    start = time.perf_counter()
    result = compression_study(
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        extractor=extractor,
        n_components=[16, 4],
        projections=["gaussian", "sparse"],
        baselines=["full", "pca"],
        seeds=1,
        head=head,
        intrinsic_dimension=False,
        progress=False,
    )
    seconds = time.perf_counter() - start
    table = result.table
    assert len(table) == 1 + 2 * 2 + 2, table
    assert set(table["method"]) == {"full", "gaussian", "sparse", "pca"}
    assert table["test_accuracy"].between(0, 1).all()
    assert (table["n_features"] == 512).all()
    full = table.loc[table["method"] == "full", "test_accuracy"].iloc[0]
    k4 = table.loc[(table["method"] == "gaussian") & (table["n_components"] == 4)]
    check = "compression study"
    ctx.row(check, "image folder", f"{len(COLOURS)} classes x {per_class} PNG files")
    ctx.row(check, "study s (7 configurations)", f"{seconds:.1f}")
    ctx.row(
        check,
        "test accuracy full / gaussian k=4",
        f"{full:.3f} / {k4['test_accuracy'].iloc[0]:.3f}",
    )


# -- 6. the feature cache ---------------------------------------------------------
def check_cache(ctx):
    from sklearn.base import clone

    from sklearn_subspace.teachers import forward_pass_count, reset_forward_pass_count

    n = ctx.sizes.cache_samples
    X, _ = _coloured_images(n, size=64, seed=5)
    cache_dir = ctx.workdir / "feature_cache"

    def extract(extractor):
        reset_forward_pass_count()
        features = extractor.fit_transform(X)
        return features, forward_pass_count()

    writer = _extractor(ctx, "resnet18", precision=ctx.precision, cache_dir=cache_dir)
    written, passes = extract(writer)
    assert passes == n, passes
    again, passes = extract(clone(writer))
    assert passes == 0, f"re-reading on {ctx.device.type} ran {passes} forward passes"
    np.testing.assert_array_equal(again, written)
    check = "feature cache"
    ctx.row(check, "written on", f"{ctx.device.type}, {writer.precision_}, {n} images")
    ctx.row(check, f"re-read on {ctx.device.type}: forward passes", "0 (identical)")

    # precision="auto" is float32 on the CPU: bf16 features are never reused.
    float32_reader = _extractor(ctx, "resnet18", device="cpu", cache_dir=cache_dir)
    exact, passes = extract(float32_reader)
    assert passes == n, f"a float32 reader reused {n - passes} bf16 features"
    rel, cos = _compare_features(written, exact)
    ctx.row(
        check, "CPU precision='auto': forward passes", f"{passes} (float32, recomputed)"
    )
    ctx.row(
        check, "cached vs float32: max rel err / min cosine", f"{rel:.4f} / {cos:.5f}"
    )
    assert rel <= BF16_REL_TOL and cos >= BF16_MIN_COSINE, (rel, cos)

    # The same explicit precision on the CPU. The key holds the device type
    # and numerics (docs/teachers.rst, "What the feature cache key
    # contains"): features written on CUDA are recomputed on the CPU, never
    # mixed with reused ones; written on the CPU, they are reused.
    same = _extractor(
        ctx, "resnet18", device="cpu", precision=writer.precision_, cache_dir=cache_dir
    )
    features, passes = extract(same)
    expected = n if ctx.cuda else 0
    assert passes == expected, f"{passes} forward passes, expected {expected}"
    if passes == 0:
        np.testing.assert_array_equal(features, written)
    reused = "reused (identical)" if passes == 0 else "recomputed"
    ctx.row(
        check,
        f"CPU precision={writer.precision_!r}: forward passes",
        f"{passes} ({reused})",
    )


# -- running the checks -------------------------------------------------------------
CHECKS = [
    ("device auto", check_device_auto),
    ("extract resnet50", lambda ctx: check_extraction(ctx, "resnet50")),
    ("extract vit_b_16", lambda ctx: check_extraction(ctx, "vit_b_16")),
    ("compile resnet50", lambda ctx: check_compile(ctx, "resnet50")),
    ("compile vit_b_16", lambda ctx: check_compile(ctx, "vit_b_16")),
    ("head fit", check_head),
    ("distiller", check_distiller),
    ("compression study", check_study),
    ("feature cache", check_cache),
]


def _print_table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    previous = None
    for check, figure, value in rows:
        shown = "" if check == previous else check
        previous = check
        print(f"{shown:<{widths[0]}}  {figure:<{widths[1]}}  {value}")


def run_checks(ctx, checks):
    """Run ``checks``; return ``(n_passed, failures)``, failures with tracebacks."""
    failures = []
    for name, check in checks:
        print(f"[gpu-check] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        first_row = len(ctx.rows)
        try:
            with warnings.catch_warnings():
                # Heads and students train for a fixed, short budget here.
                warnings.simplefilter("ignore", ConvergenceWarning)
                check(ctx)
            status = "pass"
        except Exception:  # any exception is a failure of this check
            status = "FAIL"
            failures.append((name, traceback.format_exc()))
        seconds = time.perf_counter() - start
        ctx.rows.insert(first_row, (name, "result", f"{status} ({seconds:.1f} s)"))
    return len(checks) - len(failures), failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", metavar="CHECK", help="run only these checks (by name)"
    )
    args = parser.parse_args(argv)
    checks = CHECKS
    if args.only:
        known = [name for name, _ in CHECKS]
        unknown = sorted(set(args.only) - set(known))
        if unknown:
            parser.error(f"unknown checks {unknown}; choose from {known}")
        checks = [(name, check) for name, check in CHECKS if name in args.only]

    cuda = torch.cuda.is_available()
    if not cuda:
        print(
            "CUDA is absent (torch.cuda.is_available() is False): running the "
            "CPU parts at reduced sizes; the device placement on CUDA is not "
            "checked.",
            flush=True,
        )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as workdir:
        ctx = Context(cuda, GPU_SIZES if cuda else CPU_SIZES, Path(workdir))
        n_passed, failures = run_checks(ctx, checks)
    ctx.rows.append(("total", "wall time s", f"{time.perf_counter() - start:.1f}"))
    header = (
        f"torch {torch.__version__}, CUDA "
        f"{torch.version.cuda if cuda else 'absent'}, device {ctx.device.type}"
    )
    print()
    print(header)
    _print_table([("check", "figure", "value"), *ctx.rows])
    for name, formatted in failures:
        print(f"\n--- {name} failed ---\n{formatted}", end="")
    if not cuda:
        print("\nCUDA is absent: only the CPU parts ran.")
    print(f"gpu-check: {n_passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
