"""Disk size, write and read cost of the feature cache's storages.

The teacher features of the embedded study are post-ReLU CNN activations
(d = 2048): most values are zero. This script takes such features (the
embedded CNN's, on digits by default or on ``--dataset fashion-mnist``),
writes them into an empty cache with each ``cache_storage`` (one shard per
batch of 64 samples, as ``TorchFeatureExtractor`` does), reads them all back
through a fresh cache object, and prints per storage: bytes on disk, write
and read time, and their ratios to ``"float32"`` measured in the same run,
plus the largest error of the values read back.

Run::

    python benchmarks/bench_cache.py                        # digits, 1,797 x 2048
    python benchmarks/bench_cache.py --dataset fashion-mnist  # 70,000 x 2048
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from sklearn_subspace.datasets import load_embedded_task
from sklearn_subspace.teachers._cache import STORAGES, FeatureCache

BATCH = 64


def teacher_features(dataset, max_samples):
    """Training + test features of the dataset's embedded CNN teacher."""
    task = load_embedded_task(
        dataset, max_train_samples=max_samples, max_test_samples=max_samples
    )
    extractor = task["extractor"].set_params(cache_dir=None, progress=True)
    features = extractor.fit_transform(
        np.concatenate([task["X_train"], task["X_test"]])
    )
    sparsity = float(np.mean(features == 0))
    return np.ascontiguousarray(features, dtype=np.float32), sparsity


def _keys(n):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 16), dtype=np.uint8)


def write_and_read(features, storage, folder):
    """Seconds to write all shards, to read them back, bytes, values read."""
    keys = _keys(len(features))
    cache = FeatureCache(folder, "0" * 32, {"bench": True}, storage=storage)
    start = time.perf_counter()
    for i in range(0, len(features), BATCH):
        cache.store(keys[i : i + BATCH], features[i : i + BATCH])
    write = time.perf_counter() - start
    n_bytes = sum(p.stat().st_size for p in Path(folder).rglob("*.npz"))
    # A fresh object in a fresh process state: no in-memory index reused.
    reader = FeatureCache(folder, "0" * 32, {"bench": True}, storage=storage)
    reader._index.seen.clear()
    reader._index.where.clear()
    start = time.perf_counter()
    assert reader.lookup(keys).all()
    values, loaded = reader.load(keys)
    read = time.perf_counter() - start
    assert loaded.all()
    return write, read, n_bytes, values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--max-samples", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    features, sparsity = teacher_features(args.dataset, args.max_samples)
    print(
        f"{args.dataset}: {features.shape[0]:,} x {features.shape[1]} float32 "
        f"features ({features.nbytes / 2**20:.0f} MiB in memory), "
        f"{sparsity:.0%} zeros"
    )
    results = {storage: [] for storage in STORAGES}
    with tempfile.TemporaryDirectory() as tmp:
        # Round robin, so a slow drift of the machine hits every storage alike.
        for repeat in range(args.repeats):
            for storage in STORAGES:
                folder = os.path.join(tmp, f"{storage}-{repeat}")
                results[storage].append(write_and_read(features, storage, folder))
    base = {
        "write": statistics.median(r[0] for r in results["float32"]),
        "read": statistics.median(r[1] for r in results["float32"]),
        "bytes": results["float32"][0][2],
    }
    print(
        f"{'storage':<11} {'disk MiB':>9} {'x f32':>6} {'write s':>8} "
        f"{'x f32':>6} {'read s':>7} {'x f32':>6} {'max |error|':>12}"
    )
    for storage, runs in results.items():
        write = statistics.median(r[0] for r in runs)
        read = statistics.median(r[1] for r in runs)
        n_bytes = runs[0][2]
        error = float(np.max(np.abs(runs[0][3] - features)))
        print(
            f"{storage:<11} {n_bytes / 2**20:>9.1f} {n_bytes / base['bytes']:>6.2f} "
            f"{write:>8.2f} {write / base['write']:>6.2f} {read:>7.2f} "
            f"{read / base['read']:>6.2f} {error:>12.2e}"
        )


if __name__ == "__main__":
    main()
