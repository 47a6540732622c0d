"""Throughput of TorchFeatureExtractor against a hand-written inference loop.

Both sides run the same randomly initialised torchvision model on the same
float32 batches; the hand loop is the shortest correct code a user would write
(``inference_mode``, the model with its classifier replaced by Identity, and
on CUDA the same bf16 autocast, channels-last and non-blocking copies the
extractor uses). Repeats alternate between the two, and the script prints the
median images/s of each and their throughput ratio (extractor / hand loop;
target >= 0.95), plus the same ratio in CPU time of this process, which is
steadier when other jobs share the machine.

Run::

    python benchmarks/bench_extract.py                 # CPU, resnet18, 512 x 3x64x64
    python benchmarks/bench_extract.py --device cuda   # GPU: bf16 + channels_last
"""

import argparse
import copy
import statistics
import time

import numpy as np
import torch

from sklearn_subspace.teachers import TorchFeatureExtractor


def _hand_loop(model, X, batch_size, device, amp_dtype):
    channels_last = device.type == "cuda"
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


def _timed(function):
    """(wall seconds, CPU seconds of this process) of one call."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--n-images", type=int, default=512)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    X = np.random.RandomState(0).rand(args.n_images, 3, args.size, args.size)
    X = X.astype(np.float32)  # float arrays are already prepared: no resize
    extractor = TorchFeatureExtractor(
        args.model, weights=None, device=args.device, batch_size=args.batch_size
    ).fit(X[:1])
    device = extractor.device_
    amp_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(
        extractor.precision_
    )
    # The same module and weights, with the classifier cut off by hand.
    hand_model = copy.deepcopy(extractor.model_)
    if hasattr(hand_model, "fc"):
        hand_model.fc = torch.nn.Identity()
    elif hasattr(hand_model, "heads"):
        hand_model.heads = torch.nn.Identity()
    else:
        raise SystemExit(f"Do not know how to cut the head off {args.model!r}.")

    def run_extractor():
        return extractor.transform(X)

    def run_hand():
        return _hand_loop(hand_model, X, args.batch_size, device, amp_dtype)

    # Warm-up: allocator, cuDNN / oneDNN kernel selection.
    np.testing.assert_allclose(run_extractor(), run_hand(), rtol=2e-2, atol=2e-2)

    extractor_times, hand_times = [], []
    for repeat in range(args.repeats):
        # Alternate who goes first, so load drifts on a shared machine hit
        # both sides alike.
        order = [(run_extractor, extractor_times), (run_hand, hand_times)]
        for function, times in order if repeat % 2 == 0 else order[::-1]:
            times.append(_timed(function))
    t_extractor = statistics.median(wall for wall, _ in extractor_times)
    t_hand = statistics.median(wall for wall, _ in hand_times)
    cpu_extractor = statistics.median(cpu for _, cpu in extractor_times)
    cpu_hand = statistics.median(cpu for _, cpu in hand_times)

    print(
        f"model={args.model} device={device} precision={extractor.precision_} "
        f"channels_last={device.type == 'cuda'} images={args.n_images} "
        f"size=3x{args.size}x{args.size} batch={args.batch_size} "
        f"repeats={args.repeats} torch_threads={torch.get_num_threads()}"
    )
    print(f"extractor : {args.n_images / t_extractor:10.1f} images/s")
    print(f"hand loop : {args.n_images / t_hand:10.1f} images/s")
    print(f"throughput ratio extractor / hand loop: {t_hand / t_extractor:.3f}")
    # On a machine shared with other jobs wall time is noisy; CPU time spent
    # by this process is the steadier measure of the extractor's overhead.
    print(f"CPU-time ratio   extractor / hand loop: {cpu_hand / cpu_extractor:.3f}")


if __name__ == "__main__":
    main()
