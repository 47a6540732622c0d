"""Speed of JLSubspaceTransformer against scikit-learn and raw BLAS.

Every figure is a ratio of medians measured in this one run, so it can be
compared across machines. Run::

    python benchmarks/bench_projection.py            # full sizes
    python benchmarks/bench_projection.py --quick    # smaller, for a smoke test
"""

import argparse
import gc
import threading
import time

import numpy as np
import psutil
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

from sklearn_subspace import JLSubspaceTransformer


def median_time(func, repeats):
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


class PeakRSS:
    """Peak resident memory above the level at entry, sampled every 5 ms."""

    def __enter__(self):
        gc.collect()
        self._process = psutil.Process()
        self._base = self._process.memory_info().rss
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            rss = self._process.memory_info().rss - self._base
            self.peak = max(self.peak, rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def report(label, value, target):
    status = "OK " if target(value) else "MISS"
    print(f"[{status}] {label}: {value:.3f}")


def bench_dense_gaussian(n, d, k, repeats):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d), dtype=np.float32)
    ours = JLSubspaceTransformer(k, random_state=0).fit(X)
    R = ours.components_
    theirs = GaussianRandomProjection(k, random_state=0).fit(X)
    ours.transform(X[:10])
    t_ours = median_time(lambda: ours.transform(X), repeats)
    t_blas = median_time(lambda: X @ R.T, repeats)
    t_sk = median_time(lambda: theirs.transform(X), repeats)
    print(
        f"gaussian transform n={n} d={d} k={k}: ours {t_ours:.3f}s, "
        f"raw numpy X @ R.T {t_blas:.3f}s, sklearn {t_sk:.3f}s"
    )
    report(
        "gaussian ours / raw numpy (target <= 1.10)",
        t_ours / t_blas,
        lambda r: r <= 1.10,
    )
    report(
        "gaussian ours / sklearn (target <= 1.00)", t_ours / t_sk, lambda r: r <= 1.00
    )
    return X, t_ours


def bench_sparse(X, k, repeats):
    ours = JLSubspaceTransformer(k, projection="sparse", random_state=0).fit(X)
    theirs = SparseRandomProjection(k, random_state=0).fit(X)
    ours.transform(X[:10])
    t_ours = median_time(lambda: ours.transform(X), repeats)
    t_sk = median_time(lambda: theirs.transform(X), repeats)
    print(f"sparse transform of dense X: ours {t_ours:.3f}s, sklearn {t_sk:.3f}s")
    report(
        "sparse speed-up over sklearn (target >= 5)", t_sk / t_ours, lambda r: r >= 5
    )


def bench_fit(d, k, repeats):
    X = np.zeros((2, d), dtype=np.float32)
    t_ours = median_time(
        lambda: JLSubspaceTransformer(k, random_state=0).fit(X), repeats
    )
    t_sk = median_time(
        lambda: GaussianRandomProjection(k, random_state=0).fit(X), max(1, repeats // 2)
    )
    with PeakRSS() as ours_mem:
        est = JLSubspaceTransformer(k, random_state=0).fit(X)
    del est
    with PeakRSS() as sk_mem:
        est = GaussianRandomProjection(k, random_state=0).fit(X)
    del est
    print(
        f"fit d={d} k={k}: ours {t_ours:.3f}s / {ours_mem.peak / 2**20:.0f} MiB "
        f"peak, sklearn {t_sk:.3f}s / {sk_mem.peak / 2**20:.0f} MiB peak"
    )
    report("fit speed-up over sklearn (target >= 5)", t_sk / t_ours, lambda r: r >= 5)
    report(
        "fit peak memory ours / sklearn (target <= 0.5)",
        ours_mem.peak / max(sk_mem.peak, 1),
        lambda r: r <= 0.5,
    )


def bench_srht(n, d, k, repeats):
    X = np.random.default_rng(1).standard_normal((n, d), dtype=np.float32)
    srht = JLSubspaceTransformer(k, projection="srht", random_state=0).fit(X)
    gauss = JLSubspaceTransformer(k, random_state=0).fit(X)
    srht.transform(X[:10])
    gauss.transform(X[:10])
    t_srht = median_time(lambda: srht.transform(X), repeats)
    t_gauss = median_time(lambda: gauss.transform(X), repeats)
    print(
        f"srht vs gaussian n={n} d={d} k={k}: srht {t_srht:.3f}s, "
        f"gaussian {t_gauss:.3f}s"
    )
    report(
        "srht speed-up over dense gaussian (target > 1)",
        t_gauss / t_srht,
        lambda r: r > 1,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    X, _ = bench_dense_gaussian(50_000 // scale, 2048, 128, args.repeats)
    bench_sparse(X, 128, args.repeats)
    del X
    bench_fit(200_000 // scale, 1024, args.repeats)
    bench_srht(20_000 // scale, 4096, 1024, args.repeats)


if __name__ == "__main__":
    main()
