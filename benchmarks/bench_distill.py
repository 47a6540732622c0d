"""Student training time of SubspaceDistiller against raw torch loops.

Workload: 10,000 inputs of 64 values, regression targets of width k = 128
(JL-projected 2048-d features of a fixed random ReLU teacher), a student MLP
64 -> 256 -> 128 trained with AdamW (lr 1e-3) on MSE for 20 epochs with
batch 128. Three loops train the same student from the same initial weights:

- ``hand loop``: a hand-written torch loop slicing a shuffled permutation;
- ``DataLoader``: the same loop fed by ``DataLoader(TensorDataset, shuffle=True)``;
- ``library loop``: :func:`sklearn_subspace.distill._training.fit_student`,
  the library's one training engine (a skorch ``TrainingNet``) as
  :class:`SubspaceDistiller` and the comparison use it, without validation
  and with a fixed number of epochs;

and ``SubspaceDistiller.fit``'s student phase (``student_train_time_``, which
adds per-epoch validation through the head on 10 % held out) is reported
next to them. Variants run round-robin, so slow drifts of a shared machine
hit all of them alike; the script prints median times over the repeats and
their ratios to the hand loop.

Run with ``python benchmarks/bench_distill.py [--repeats N] [--threads T]``.
On a busy shared machine, ``--threads 1`` keeps torch's thread pool from
fighting other processes and gives stable ratios.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from sklearn_subspace.distill import StudentMLP, SubspaceDistiller
from sklearn_subspace.distill._training import fit_student, mse_loss
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.projection import JLSubspaceTransformer

N, D_IN, D_TEACHER, K, HIDDEN = 10_000, 64, 2048, 128, 256
LR, EPOCHS, BATCH = 1e-3, 20, 128


def make_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D_IN), dtype=np.float32)
    W = rng.standard_normal((D_IN, D_TEACHER), dtype=np.float32) / np.sqrt(D_IN)
    F = np.maximum(X @ W, 0)
    y = np.argmax(F[:, :10], axis=1)
    Z = JLSubspaceTransformer(K, random_state=0).fit_transform(F)
    return X, y, F, Z


def new_student():
    torch.manual_seed(0)
    return StudentMLP(K, hidden_layer_sizes=(HIDDEN,), n_inputs=D_IN)


def hand_loop(X, Z):
    student = new_student()
    opt = torch.optim.AdamW(student.parameters(), lr=LR, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.randperm(len(X), generator=generator)
        for i in range(0, len(X), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad(set_to_none=True)
            nn.functional.mse_loss(student(X[idx]), Z[idx]).backward()
            opt.step()
    return time.perf_counter() - start


def dataloader_loop(X, Z):
    student = new_student()
    opt = torch.optim.AdamW(student.parameters(), lr=LR, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, Z),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    start = time.perf_counter()
    for _ in range(EPOCHS):
        for xb, zb in loader:
            opt.zero_grad(set_to_none=True)
            nn.functional.mse_loss(student(xb), zb).backward()
            opt.step()
    return time.perf_counter() - start


def library_loop(X, y, Z):
    student = new_student()
    settings = {
        "optimizer": "adamw",
        "lr": LR,
        "weight_decay": 1e-4,
        "max_epochs": EPOCHS,
        "batch_size": BATCH,
        "tol": None,
        "patience": 1,
        "verbose": 0,
        "callbacks": None,
    }
    start = time.perf_counter()
    fit_student(
        student,
        X,
        (y, Z),
        mse_loss,
        settings=settings,
        seeds={"shuffle": 0},
        split=None,
        score_fn=None,
        device=torch.device("cpu"),
        name="student",
    )
    return time.perf_counter() - start


def distiller_fit(X, y, F):
    distiller = SubspaceDistiller(
        StudentMLP,
        student_params={"hidden_layer_sizes": (HIDDEN,)},
        n_components=K,
        lr=LR,
        max_epochs=EPOCHS,
        tol=None,
        batch_size=BATCH,
        device="cpu",
        random_state=0,
        head=SubspaceHeadClassifier(),
    ).fit(X, y, teacher_features=F)
    return distiller.student_train_time_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    X_np, y, F, Z_np = make_data()
    X, Z = torch.from_numpy(X_np), torch.from_numpy(Z_np)
    variants = {
        "hand loop": lambda: hand_loop(X, Z),
        "DataLoader": lambda: dataloader_loop(X, Z),
        "library loop": lambda: library_loop(X_np, y, Z_np),
        "SubspaceDistiller (student phase)": lambda: distiller_fit(X_np, y, F),
    }
    for run in variants.values():  # warm-up: allocator, lazy layers, threads
        run()
    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, run in variants.items():
            times[name].append(run())

    print(
        f"{N} x {D_IN} inputs -> k = {K} targets, MLP {D_IN}-{HIDDEN}-{K}, "
        f"{EPOCHS} epochs, batch {BATCH}, {torch.get_num_threads()} thread(s), "
        f"median of {args.repeats}"
    )
    hand = statistics.median(times["hand loop"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<36} {median:7.3f} s   ratio to hand loop {median / hand:5.2f}")


if __name__ == "__main__":
    main()
