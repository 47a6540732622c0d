"""Throughput of TorchFeatureExtractor against a hand-written inference loop.

Both sides run the same randomly initialised torchvision model on the same
float32 batches of already preprocessed 224 x 224 images; the hand loop is
the shortest correct code a user would write (``inference_mode``, the model
with its classifier replaced by Identity, and on CUDA the same bf16
autocast, channels-last and non-blocking copies the extractor uses). By
default it measures the paper's two image teachers, ResNet-50 and ViT-B/16,
at batch 32.

Repeats alternate between the two sides (and which goes first), so load
drifts on a shared machine hit both alike. For each model the script prints
the median images/s of each side and their throughput ratio (extractor /
hand loop; target >= 0.95), plus the same ratio in CPU time of this
process, which is steadier when other jobs share the machine, and the ratio
of the fastest repeats.

Run::

    python benchmarks/bench_extract.py                  # CPU, resnet50 + vit_b_16
    python benchmarks/bench_extract.py --quick          # 3 repeats instead of 5
    python benchmarks/bench_extract.py --device cuda    # GPU: bf16 + channels_last
    python benchmarks/bench_extract.py --models resnet18 --size 64 --n-images 512
"""

import argparse
import copy
import statistics
import time

import numpy as np
import torch

from sklearn_subspace.teachers import TorchFeatureExtractor

_AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def hand_loop(model, X, batch_size, device, amp_dtype, channels_last):
    """Features of ``X`` (numpy NCHW float32) the way a user would write it."""
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            batch = torch.from_numpy(X[start : start + batch_size])
            if device.type == "cuda":
                batch = batch.pin_memory().to(device, non_blocking=True)
                if channels_last:
                    batch = batch.contiguous(memory_format=torch.channels_last)
            if amp_dtype is None:
                features = model(batch)
            else:
                with torch.autocast(device_type=device.type, dtype=amp_dtype):
                    features = model(batch)
            outputs.append(features.float().cpu().numpy())
    return np.concatenate(outputs)


def without_classifier(model):
    """A copy of a torchvision classifier whose head is cut off by hand."""
    model = copy.deepcopy(model)
    if hasattr(model, "fc"):  # ResNets
        model.fc = torch.nn.Identity()
    elif hasattr(model, "heads"):  # vision transformers
        model.heads = torch.nn.Identity()
    elif hasattr(model, "classifier"):  # most other torchvision models
        model.classifier = torch.nn.Identity()
    else:
        raise SystemExit(f"Do not know how to cut the head off {type(model)}.")
    return model


def _timed(function, device):
    """(wall seconds, CPU seconds of this process) of one call."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(model_name, X, *, device, batch_size, repeats):
    """Median wall and CPU seconds, and best wall seconds, of both sides."""
    extractor = TorchFeatureExtractor(
        model_name, weights=None, device=device, batch_size=batch_size
    ).fit(X[:1])
    device = extractor.device_
    amp_dtype = _AMP_DTYPES.get(extractor.precision_)
    # The same decision the extractor makes (convolutional teachers only).
    channels_last = device.type == "cuda" and any(
        isinstance(m, torch.nn.Conv2d) for m in extractor.model_.modules()
    )
    # The same module and weights, with the classifier cut off by hand.
    hand_model = without_classifier(extractor.model_)

    def run_extractor():
        return extractor.transform(X)

    def run_hand():
        return hand_loop(hand_model, X, batch_size, device, amp_dtype, channels_last)

    # Warm-up (allocator, cuDNN / oneDNN kernel choice), and both sides
    # compute the same features.
    tolerance = 1e-4 if amp_dtype is None else 5e-2
    np.testing.assert_allclose(
        run_extractor(), run_hand(), rtol=tolerance, atol=tolerance
    )
    times = {"extractor": [], "hand": []}
    sides = [("extractor", run_extractor), ("hand", run_hand)]
    for repeat in range(repeats):
        for side, function in sides if repeat % 2 == 0 else sides[::-1]:
            times[side].append(_timed(function, device))
    summary = {
        side: (
            statistics.median(wall for wall, _ in pairs),
            statistics.median(cpu for _, cpu in pairs),
            min(wall for wall, _ in pairs),
        )
        for side, pairs in times.items()
    }
    return extractor, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=["resnet50", "vit_b_16"])
    parser.add_argument("--n-images", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 repeats per model instead of --repeats",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 3
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    X = np.random.RandomState(0).randn(args.n_images, 3, args.size, args.size)
    X = X.astype(np.float32)  # float arrays are already prepared: no resize
    rows = []
    for model_name in args.models:
        extractor, summary = measure(
            model_name,
            X,
            device=args.device,
            batch_size=args.batch_size,
            repeats=args.repeats,
        )
        t_extractor, cpu_extractor, best_extractor = summary["extractor"]
        t_hand, cpu_hand, best_hand = summary["hand"]
        rows.append(
            (
                model_name,
                args.n_images / t_extractor,
                args.n_images / t_hand,
                t_hand / t_extractor,
                cpu_hand / cpu_extractor,
                best_hand / best_extractor,
            )
        )
        device = extractor.device_
        print(
            f"{model_name}: device={device} precision={extractor.precision_} "
            f"d={extractor.n_features_out_} images={args.n_images} "
            f"size=3x{args.size}x{args.size} batch={args.batch_size} "
            f"repeats={args.repeats} torch_threads={torch.get_num_threads()}",
            flush=True,
        )

    print()
    print(
        f"{'model':<12} {'extractor img/s':>16} {'hand loop img/s':>16} "
        f"{'ratio':>7} {'CPU-time ratio':>15} {'best-time ratio':>16}"
    )
    for name, extractor_rate, hand_rate, ratio, cpu_ratio, best_ratio in rows:
        print(
            f"{name:<12} {extractor_rate:>16.2f} {hand_rate:>16.2f} "
            f"{ratio:>7.3f} {cpu_ratio:>15.3f} {best_ratio:>16.3f}"
        )
    print(
        "ratio: extractor / hand-loop throughput from median wall times "
        "(target >= 0.95);\nCPU-time ratio: the same from this process's "
        "CPU time, steadier on a shared machine;\nbest-time ratio: from the "
        "fastest repeat of each side."
    )


if __name__ == "__main__":
    main()
