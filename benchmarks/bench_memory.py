"""Peak memory of JLSubspaceTransformer.transform on a large input.

Projects 2,000,000 x 512 float32 features (4.1 GB) to k=64 and checks that
the process's peak resident memory, measured above its level before the
input existed, stays below input + output + 256 MB: ``transform`` works in
row blocks, so beyond its output it only holds one block's temporaries.

The measurement runs in a fresh child process, so nothing allocated earlier
hides in the baseline. The input is generated in place, chunk by chunk, so
it is never held twice. Peak RSS is read two ways: the kernel's high-water
mark (``resource.getrusage``) and a thread sampling RSS every 5 ms (psutil,
when installed). Run::

    python benchmarks/bench_memory.py                 # 2,000,000 x 512 -> 64
    python benchmarks/bench_memory.py --rows 200000   # a smaller smoke test
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

import numpy as np

MB = 2**20
SLACK = 256 * MB


def current_rss():
    """Resident memory of this process now, in bytes (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def max_rss():
    """The kernel's high-water mark of resident memory, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class SampledPeak:
    """Peak RSS sampled every 5 ms by a thread (needs psutil)."""

    def __enter__(self):
        try:
            import psutil
        except ImportError:
            self.peak = None
            return self
        process = psutil.Process()
        self.peak = process.memory_info().rss
        self._stop = threading.Event()

        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, process.memory_info().rss)
                time.sleep(0.005)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.peak is not None:
            self._stop.set()
            self._thread.join()


def child(rows, features, k, projection):
    """Measure in this (fresh) process; print one JSON line."""
    from sklearn_subspace import JLSubspaceTransformer

    # fit reads only the width, so it is fitted on a few rows.
    jl = JLSubspaceTransformer(k, projection=projection, random_state=0)
    jl.fit(np.zeros((2, features), dtype=np.float32))
    jl.transform(np.zeros((2, features), dtype=np.float32))  # build the map
    baseline = current_rss()
    baseline_hwm = max_rss()

    X = np.empty((rows, features), dtype=np.float32)
    rng = np.random.default_rng(0)
    for start in range(0, rows, 65536):
        rng.standard_normal(out=X[start : start + 65536], dtype=np.float32)
    after_input = current_rss()

    with SampledPeak() as sampled:
        start = time.perf_counter()
        Z = jl.transform(X)
        seconds = time.perf_counter() - start
    result = {
        "input_bytes": X.nbytes,
        "output_bytes": Z.nbytes,
        "baseline_rss": baseline,
        "baseline_hwm": baseline_hwm,
        "after_input_rss": after_input,
        "peak_hwm": max_rss(),
        "peak_sampled": sampled.peak,
        "seconds": seconds,
        "finite": bool(np.isfinite(Z).all()),
        "dtype": str(Z.dtype),
    }
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("-k", type=int, default=64)
    parser.add_argument("--projection", default="gaussian")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.features, args.k, args.projection)
        return 0

    command = [sys.executable, __file__, "--child"] + sys.argv[1:]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    budget = r["input_bytes"] + r["output_bytes"] + SLACK
    # The high-water mark counts from process start; the baseline's own mark
    # is subtracted, which is exact once the run goes above it.
    peak_hwm = r["peak_hwm"] - r["baseline_rss"]
    transform_extra = r["peak_hwm"] - r["after_input_rss"] - r["output_bytes"]
    print(
        f"transform {args.rows:,} x {args.features} float32 -> k={args.k} "
        f"({args.projection}) in {r['seconds']:.1f} s, output {r['dtype']}, "
        f"finite={r['finite']}"
    )
    print(f"input size:                {r['input_bytes'] / MB:10.1f} MB")
    print(f"output size:               {r['output_bytes'] / MB:10.1f} MB")
    print(f"peak RSS above baseline:   {peak_hwm / MB:10.1f} MB (getrusage)")
    if r["peak_sampled"] is not None:
        sampled = r["peak_sampled"] - r["baseline_rss"]
        print(f"                           {sampled / MB:10.1f} MB (sampled, 5 ms)")
    print(f"input + output + 256 MB:   {budget / MB:10.1f} MB")
    print(f"transform beyond output:   {transform_extra / MB:10.1f} MB")
    print(f"peak / (input + output):   {peak_hwm / (budget - SLACK):10.3f}")
    ok = peak_hwm < budget
    print(f"[{'OK ' if ok else 'MISS'}] peak RSS stays below input + output + 256 MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
