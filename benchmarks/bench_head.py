"""Fit time of SubspaceHeadClassifier against raw torch and default skorch.

Workload: 20,000 x 128 float32 features, 100 classes (``make_classification``),
a linear head trained with AdamW (lr 1e-3, weight decay 1e-4) for 20 epochs
with batch 256 and no early stopping. Three variants train the same model:

- ``hand loop``: a hand-written torch loop slicing a shuffled permutation;
- ``default skorch``: ``skorch.NeuralNetClassifier`` with its ``DataLoader``;
- ``SubspaceHeadClassifier``.

Variants run round-robin (so slow drifts of a shared machine hit all of
them alike) and the script prints median fit times, their ratios, and test
accuracies. Targets: head <= 1.3x the hand loop, >= 4x faster than default
skorch, accuracy within 0.5 percentage points of both.

Run with ``python benchmarks/bench_head.py [--repeats N] [--device cpu]
[--threads T]``. On a busy shared machine, ``--threads 1`` keeps torch's
thread pool from fighting other processes and gives stable ratios.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier

from sklearn_subspace.head import SubspaceHeadClassifier

N_TRAIN, N_TEST, N_FEATURES, N_CLASSES = 20_000, 5_000, 128, 100
LR, WEIGHT_DECAY, EPOCHS, BATCH = 1e-3, 1e-4, 20, 256


def make_data():
    X, y = make_classification(
        n_samples=N_TRAIN + N_TEST,
        n_features=N_FEATURES,
        n_informative=64,
        n_redundant=0,
        n_classes=N_CLASSES,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    X = X.astype(np.float32)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def fit_hand_loop(X, y, X_test, y_test, seed, device):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(N_FEATURES, N_CLASSES).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t = torch.from_numpy(X).to(device)
    y_t = torch.from_numpy(y).long().to(device)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(X_t), generator=gen).to(device)
        for i in range(0, len(X_t), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(X_test).to(device)).argmax(1).cpu().numpy()
    return elapsed, float((pred == y_test).mean())


def fit_default_skorch(X, y, X_test, y_test, seed, device):
    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=N_FEATURES,
        module__out_features=N_CLASSES,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=WEIGHT_DECAY,
        lr=LR,
        max_epochs=EPOCHS,
        batch_size=BATCH,
        iterator_train__shuffle=True,
        train_split=None,
        device=str(device),
        verbose=0,
    )
    start = time.perf_counter()
    net.fit(X, y)
    elapsed = time.perf_counter() - start
    return elapsed, float((net.predict(X_test) == y_test).mean())


def fit_head(X, y, X_test, y_test, seed, device):
    clf = SubspaceHeadClassifier(
        lr=LR,
        weight_decay=WEIGHT_DECAY,
        max_epochs=EPOCHS,
        batch_size=BATCH,
        early_stopping=False,
        device=str(device),
        random_state=seed,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    elapsed = time.perf_counter() - start
    return elapsed, float(clf.score(X_test, y_test))


VARIANTS = {
    "hand loop": fit_hand_loop,
    "default skorch": fit_default_skorch,
    "SubspaceHeadClassifier": fit_head,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads; 1 gives stable ratios on a busy shared machine",
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    X, y, X_test, y_test = make_data()
    times = {name: [] for name in VARIANTS}
    accs = {name: [] for name in VARIANTS}
    # One untimed warm-up per variant (allocator, thread pools, lazy imports).
    for fit in VARIANTS.values():
        fit(X[:2048], y[:2048], X_test, y_test, 0, device)
    for repeat in range(args.repeats):
        for name, fit in VARIANTS.items():
            elapsed, acc = fit(X, y, X_test, y_test, repeat, device)
            times[name].append(elapsed)
            accs[name].append(acc)

    print(
        f"{N_TRAIN} x {N_FEATURES} float32, {N_CLASSES} classes, AdamW lr {LR}, "
        f"{EPOCHS} epochs, batch {BATCH}, device {device}, "
        f"torch threads {torch.get_num_threads()}, {args.repeats} repeats per variant"
    )
    median = {name: statistics.median(t) for name, t in times.items()}
    acc = {name: statistics.mean(a) for name, a in accs.items()}
    for name in VARIANTS:
        print(
            f"  {name:<24s} median fit {median[name]:6.2f} s   "
            f"mean test accuracy {acc[name]:.4f}"
        )
    head, hand, skorch = (
        median["SubspaceHeadClassifier"],
        median["hand loop"],
        median["default skorch"],
    )
    pp_hand = 100 * (acc["SubspaceHeadClassifier"] - acc["hand loop"])
    pp_skorch = 100 * (acc["SubspaceHeadClassifier"] - acc["default skorch"])
    print(f"head / hand loop fit time      : {head / hand:.2f}x  (target <= 1.3x)")
    print(f"default skorch / head fit time : {skorch / head:.2f}x  (target >= 4x)")
    print(f"accuracy vs hand loop          : {pp_hand:+.2f} pp  (target within 0.5)")
    print(f"accuracy vs default skorch     : {pp_skorch:+.2f} pp  (target within 0.5)")


if __name__ == "__main__":
    main()
