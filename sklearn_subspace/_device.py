"""Choosing the torch device that an estimator runs on.

Every estimator that runs torch code takes ``device="auto"`` and resolves it
here, so that "auto" means the same thing everywhere: CUDA when a GPU is
visible, then Apple's MPS, then the CPU.
"""

import torch

_VALID_DEVICE_TYPES = ("auto", "cpu", "cuda", "mps")


def _mps_available():
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def resolve_device(device="auto", *, allow_mps=True):
    """Turn a user's ``device`` argument into a concrete :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"`` picks ``"cuda"`` when available, then ``"mps"`` (when
        ``allow_mps``), then ``"cpu"``. Explicit values such as ``"cpu"``,
        ``"cuda"``, ``"cuda:1"`` or ``"mps"`` are checked against the hardware.
    allow_mps : bool, default=True
        Whether ``"auto"`` may choose Apple's MPS backend.

    Returns
    -------
    torch.device
        The device to run on.

    Raises
    ------
    ValueError
        If ``device`` is not a known device string, or names an accelerator
        that this machine does not have. The message says how to fix it.

    Examples
    --------
    >>> from sklearn_subspace._device import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        device_str = str(device)
    elif isinstance(device, str):
        device_str = device.strip().lower()
    else:
        raise TypeError(
            f"device must be a string such as 'auto', 'cpu' or 'cuda', "
            f"got {type(device).__name__}: {device!r}."
        )

    if device_str == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if allow_mps and _mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    device_type = device_str.split(":", 1)[0]
    if device_type not in _VALID_DEVICE_TYPES:
        raise ValueError(
            f"Unknown device {device!r}. Use one of 'auto', 'cpu', 'cuda', "
            "'cuda:<index>' or 'mps'."
        )
    try:
        resolved = torch.device(device_str)
    except RuntimeError as exc:
        raise ValueError(
            f"Could not parse device {device!r}: {exc}. Use 'cuda:<index>' "
            "with an integer index."
        ) from None

    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine (torch.cuda.is_available() is False). Use "
                "device='auto' or device='cpu', or install a CUDA build of torch "
                "on a machine with an NVIDIA GPU."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible. Use an "
                "index below that, or device='cuda'."
            )
    if resolved.type == "mps" and not _mps_available():
        raise ValueError(
            f"device={device!r} was requested but the MPS backend is not "
            "available. Use device='auto' or device='cpu'."
        )
    return resolved
