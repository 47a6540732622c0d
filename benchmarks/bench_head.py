"""SubspaceHeadClassifier against LogisticRegression and a hand-written loop.

Two questions, one run:

1. **Defaults.** ``SubspaceHeadClassifier()`` with no parameters against
   ``LogisticRegression()`` on the same standardised features and split:
   fit time and test accuracy on scikit-learn's digits (70/30 split) and on
   a large task, ``make_classification(n_samples=30000, n_features=128,
   n_informative=100, n_classes=100, n_clusters_per_class=1,
   class_sep=2.0)`` with a 1/3 test split. Targets: head fit time <= 2x
   LogisticRegression on digits and <= 0.5x on the large task, accuracy
   within 1 point or better. Accuracies on breast_cancer, wine, iris and a
   binary ``make_classification(400, 20)`` task are printed too.
2. **Engine overhead.** The head trained with AdamW for a fixed 20 epochs,
   batch 256 (``optimizer="adamw", tol=None, early_stopping=False``) on
   the large task's training part, against a hand-written torch loop doing
   the same epochs and batches. Target: head / loop <= 1.3.

Variants run round-robin (so slow drifts of a shared machine hit all of
them alike) after one untimed warm-up each (lazy imports, thread pools),
and the script prints median fit times and their ratios.

Run with ``python benchmarks/bench_head.py [--repeats N] [--threads T]``.
``--threads 1`` keeps torch's and BLAS's thread pools from fighting other
processes on a busy machine.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_subspace.head import SubspaceHeadClassifier

LOOP_LR, LOOP_WEIGHT_DECAY, LOOP_EPOCHS, LOOP_BATCH = 1e-3, 1e-4, 20, 256


def _large_task():
    return make_classification(
        n_samples=30_000,
        n_features=128,
        n_informative=100,
        n_classes=100,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )


TASKS = {
    "digits": (lambda: load_digits(return_X_y=True), 0.3),
    "breast_cancer": (lambda: load_breast_cancer(return_X_y=True), 0.3),
    "wine": (lambda: load_wine(return_X_y=True), 0.3),
    "iris": (lambda: load_iris(return_X_y=True), 0.3),
    "binary 400x20": (
        lambda: make_classification(n_samples=400, n_features=20, random_state=0),
        0.3,
    ),
    "large 30k x 128, 100 classes": (_large_task, 1 / 3),
}
TIMED = ("digits", "large 30k x 128, 100 classes")
TIME_TARGETS = {"digits": 2.0, "large 30k x 128, 100 classes": 0.5}


def load_task(name):
    """Standardised float32 train/test features of one task."""
    load, test_size = TASKS[name]
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return (
        scaler.transform(X_train).astype(np.float32),
        scaler.transform(X_test).astype(np.float32),
        y_train,
        y_test,
    )


def _timed_fit(estimator, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        estimator.fit(X, y)
    return time.perf_counter() - start


def compare_defaults(repeats):
    rows = []
    # Untimed warm-up: the first torch optimizer of a process imports
    # torch's compiler stack (seconds), which no later fit pays again.
    SubspaceHeadClassifier(random_state=0).fit(*load_task("iris")[::2])
    for name in TASKS:
        X_train, X_test, y_train, y_test = load_task(name)
        times = {"head": [], "logreg": []}
        for repeat in range(repeats if name in TIMED else 1):
            head = SubspaceHeadClassifier(random_state=repeat)
            logreg = LogisticRegression()
            times["head"].append(_timed_fit(head, X_train, y_train))
            times["logreg"].append(_timed_fit(logreg, X_train, y_train))
        rows.append(
            (
                name,
                statistics.median(times["head"]),
                statistics.median(times["logreg"]),
                head.score(X_test, y_test),
                logreg.score(X_test, y_test),
                f"{head.optimizer_}, {head.n_iter_} epochs, "
                f"converged={head.converged_}",
            )
        )
    print("1. Defaults: SubspaceHeadClassifier() vs LogisticRegression()")
    print(
        f"  {'task':<30s} {'head s':>7s} {'logreg s':>8s} {'ratio':>6s} "
        f"{'head acc':>8s} {'logreg acc':>10s} {'delta pp':>8s}  head fit"
    )
    for name, t_head, t_lr, acc_head, acc_lr, how in rows:
        print(
            f"  {name:<30s} {t_head:7.2f} {t_lr:8.2f} {t_head / t_lr:6.2f} "
            f"{acc_head:8.4f} {acc_lr:10.4f} {100 * (acc_head - acc_lr):+8.2f}  {how}"
        )
    for name, t_head, t_lr, *_ in rows:
        if name in TIME_TARGETS:
            print(
                f"  fit time head / LogisticRegression on {name}: "
                f"{t_head / t_lr:.2f}x (target <= {TIME_TARGETS[name]}x)"
            )


def fit_hand_loop(X, y, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(X.shape[1], int(y.max()) + 1)
    opt = torch.optim.AdamW(
        model.parameters(), lr=LOOP_LR, weight_decay=LOOP_WEIGHT_DECAY
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    X_t = torch.from_numpy(X)
    y_t = torch.from_numpy(y).long()
    for _ in range(LOOP_EPOCHS):
        perm = torch.randperm(len(X_t), generator=gen)
        for i in range(0, len(X_t), LOOP_BATCH):
            idx = perm[i : i + LOOP_BATCH]
            opt.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def fit_engine(X, y, seed):
    head = SubspaceHeadClassifier(
        optimizer="adamw",
        lr=LOOP_LR,
        weight_decay=LOOP_WEIGHT_DECAY,
        max_epochs=LOOP_EPOCHS,
        batch_size=LOOP_BATCH,
        early_stopping=False,
        tol=None,
        device="cpu",
        random_state=seed,
    )
    return _timed_fit(head, X, y)


def compare_hand_loop(repeats):
    X, _, y, _ = load_task("large 30k x 128, 100 classes")
    times = {"hand loop": [], "head": []}
    fit_hand_loop(X[:2048], y[:2048], 0)
    fit_engine(X[:2048], y[:2048], 0)
    for repeat in range(repeats):
        times["hand loop"].append(fit_hand_loop(X, y, repeat))
        times["head"].append(fit_engine(X, y, repeat))
    loop, head = (statistics.median(times[k]) for k in ("hand loop", "head"))
    print(
        f"2. Engine overhead: AdamW, {LOOP_EPOCHS} epochs, batch {LOOP_BATCH}, "
        f"{X.shape[0]} x {X.shape[1]}, {int(y.max()) + 1} classes"
    )
    print(f"  hand loop {loop:.2f} s, head {head:.2f} s")
    print(f"  fit time head / hand loop: {head / loop:.2f}x (target <= 1.3x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch and BLAS threads for every variant (default: leave them)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    print(
        f"torch {torch.__version__}, torch threads {torch.get_num_threads()}, "
        f"{args.repeats} repeats (median)"
    )
    compare_defaults(args.repeats)
    compare_hand_loop(args.repeats)


if __name__ == "__main__":
    main()
