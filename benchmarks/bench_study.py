"""Benchmark the compression study on the embedded digits task.

Two measurements, each printed as a ratio from one run:

1. Per-configuration fits with one fixed thread each (the study's default,
   ``n_threads=1``) against torch's default thread count (``n_threads=None``),
   on the same features and configurations: median over ``--repeats`` runs.
   A ratio below 1 means the fixed single thread is faster.
2. With ``--full``: the wall time of the command-line default
   (``sklearn-subspace study``: 8 values of k x 3 projection families + 3
   baselines x 3 seeds = 123 heads, teacher training and extraction
   included) against its 5-minute budget on 2 CPU cores.

Usage::

    python benchmarks/bench_study.py --repeats 5
    python benchmarks/bench_study.py --repeats 5 --full
"""

import argparse
import statistics
import tempfile
import time

from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.study import compression_study, load_embedded_task

_BUDGET_S = 300.0


def _time_study(F_train, y_train, F_test, y_test, n_threads):
    start = time.perf_counter()
    compression_study(
        F_train,
        y_train,
        F_test,
        y_test,
        n_components=[256, 32, 8],
        projections=["gaussian", "srht"],
        baselines=["full", "pca", "learned"],
        seeds=1,
        head=SubspaceHeadClassifier(device="cpu"),
        intrinsic_dimension=False,
        n_threads=n_threads,
        progress=False,
    )
    return time.perf_counter() - start


def bench_threads(repeats, cache_dir):
    task = load_embedded_task(cache_dir=cache_dir)
    extractor = task.extractor.set_params(device="cpu")
    F_train = extractor.fit_transform(task.X_train)
    F_test = extractor.transform(task.X_test)
    data = (F_train, task.y_train, F_test, task.y_test)
    _time_study(*data, n_threads=1)  # warm-up: first torch calls are slow
    fixed, default = [], []
    for repeat in range(repeats):
        # Alternate the order so that drift in machine load hits both sides.
        order = [(1, fixed), (None, default)]
        for n_threads, times in order if repeat % 2 == 0 else order[::-1]:
            times.append(_time_study(*data, n_threads=n_threads))
    fixed_s, default_s = statistics.median(fixed), statistics.median(default)
    print(
        f"13 head fits, median of {repeats}: n_threads=1 {fixed_s:.2f} s, "
        f"torch default threads {default_s:.2f} s"
    )
    print(f"ratio fixed-1-thread / default-threads: {fixed_s / default_s:.3f}")


def bench_full(cache_dir):
    from sklearn_subspace.cli import main

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        status = main(
            ["study", "--cache-dir", cache_dir, "--out", out, "--no-resume", "--quiet"]
        )
        wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"the study command failed with status {status}")
    print(f"embedded default study: {wall:.1f} s wall")
    print(f"ratio wall / 5-minute budget: {wall / _BUDGET_S:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also time the CLI default")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="library cache (default: a fresh temporary folder, so the "
        "teacher's training is part of the --full time)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or tmp
        bench_threads(args.repeats, cache_dir)
        if args.full:
            # A fresh cache: the full run trains its teacher like a first run.
            full_cache = args.cache_dir or f"{tmp}/full"
            bench_full(full_cache)


if __name__ == "__main__":
    main()
