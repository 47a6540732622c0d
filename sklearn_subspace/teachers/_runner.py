"""The batch loop: inputs to device, frozen forward pass, pooled float32 rows.

Everything a GPU needs to be used well lives here: ``inference_mode``,
autocast to bf16, channels-last inputs for convolutional teachers, pinned
host memory with non-blocking copies, and DataLoader workers that prepare
the next batches while the teacher runs.
"""

import contextlib

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ._counter import _add_forward_samples
from ._pooling import pool, run_site

PRECISION_OPTIONS = ("auto", "float32", "bfloat16", "float16")
_AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_precision(precision, device):
    """``"auto"`` is bf16 autocast on CUDA (fp16 before Ampere), else float32."""
    if precision == "auto":
        if device.type != "cuda":
            return "float32"
        # GPUs older than Ampere emulate bf16 slowly; fp16 autocast is native.
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return precision


class _BatchDataset(Dataset):
    """One item per batch, so workers build whole batches (vectorised)."""

    def __init__(self, builder, samples, selections):
        self.builder = builder
        self.samples = samples
        self.selections = selections

    def __len__(self):
        return len(self.selections)

    def __getitem__(self, i):
        return self.builder(self.samples, self.selections[i])


def _batches(builder, samples, selections, num_workers, pin_memory):
    if num_workers == 0:
        for sel in selections:
            yield builder(samples, sel)
        return
    loader = DataLoader(
        _BatchDataset(builder, samples, selections),
        batch_size=None,  # items are already batches
        num_workers=num_workers,
        pin_memory=pin_memory,
    )
    yield from loader


def _to_device(value, device, channels_last):
    if isinstance(value, dict):
        return {k: _to_device(v, device, channels_last) for k, v in value.items()}
    if device.type == "cuda":
        if not value.is_pinned():
            value = value.pin_memory()
        value = value.to(device, non_blocking=True)
        if channels_last and value.ndim == 4:
            value = value.contiguous(memory_format=torch.channels_last)
        return value
    return value.to(device)


def _shape_of(inputs):
    if isinstance(inputs, dict):
        return {k: tuple(v.shape) for k, v in inputs.items()}
    return tuple(inputs.shape)


def _check_one_row_per_sample(features, inputs, teacher, where):
    """Refuse a site whose output is not one row per sample of the batch."""
    first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
    if features.shape[0] != first.shape[0]:
        raise ValueError(
            f"The {where} of {teacher.description} has {features.shape[0]} "
            f"row(s) for a batch of {first.shape[0]} samples, so it is not a "
            "feature of each sample (a position embedding, for one, is shared "
            "by the whole batch). Pick a layer with one output per sample "
            "with layer=."
        )


def _check_finite_features(features, teacher, precision):
    bad = ~np.isfinite(features).all(axis=1)
    if bad.any():
        hint = (
            " Use precision='float32': half precision overflows above 65504."
            if precision == "float16"
            else ""
        )
        raise ValueError(
            f"{teacher.description} returned NaN or infinite features for "
            f"{int(bad.sum())} of {len(features)} samples in a batch, although "
            "the inputs are finite. The inputs are probably far outside the "
            f"range the teacher expects: rescale or normalise them.{hint}"
        )


def run_teacher(
    teacher,
    site,
    pooling,
    builder,
    samples,
    selections,
    on_batch,
    *,
    device,
    precision,
    num_workers=0,
    progress=False,
):
    """Push ``samples`` through ``teacher`` batch by batch.

    ``selections`` lists, per batch, a slice or an index array into
    ``samples``. ``on_batch(selection, features)`` receives each batch's
    (m, d) float32 numpy features as soon as they are ready, so callers can
    store them before the next batch runs.
    """
    amp_dtype = _AMP_DTYPES.get(precision)
    autocast = (
        torch.autocast(device_type=device.type, dtype=amp_dtype)
        if amp_dtype is not None
        else contextlib.nullcontext()
    )
    channels_last = device.type == "cuda" and teacher.is_cnn
    pin_memory = device.type == "cuda"
    batches = _batches(builder, samples, selections, num_workers, pin_memory)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(selections), desc="Extracting features", unit="batch")
    try:
        with teacher.lock, torch.inference_mode():
            for sel, inputs in zip(selections, batches):
                mask = (
                    inputs.get("attention_mask") if isinstance(inputs, dict) else None
                )
                on_device = _to_device(inputs, device, channels_last)
                if mask is not None:
                    mask = on_device["attention_mask"]
                where = f"output of {site.module or 'the model'}"
                try:
                    with autocast:
                        value = run_site(teacher.model, site, on_device)
                        features = pool(
                            value,
                            pooling,
                            attention_mask=mask,
                            modality=teacher.modality,
                            where=where,
                        )
                except torch.OutOfMemoryError:
                    raise
                except (RuntimeError, IndexError) as exc:
                    raise ValueError(
                        f"{teacher.description} failed on a batch of inputs "
                        f"{_shape_of(inputs)}: {exc}. Check that the inputs have "
                        "the layout, size and normalisation the teacher expects "
                        "(see preprocess=)."
                    ) from exc
                features = features.float().cpu().numpy()
                _check_one_row_per_sample(features, inputs, teacher, where)
                _add_forward_samples(features.shape[0])
                # Checked before on_batch, so non-finite rows never reach the
                # caller or the feature cache.
                _check_finite_features(features, teacher, precision)
                on_batch(sel, features)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
