"""A fixed number of CPU threads for a block of small torch / BLAS work.

Heads, students and the embedded teacher are small: their matrix products
take microseconds, so extra threads mostly wait on each other, and on a
busy machine they make a fit many times slower. Running such work on a fixed
number of threads also makes its floating-point results independent of the
machine's core count and of how configurations are spread over processes,
which is what lets a parallel study equal a serial one bit for bit.
"""

import threading
from contextlib import contextmanager

import torch
from threadpoolctl import ThreadpoolController

# Thread settings are process-wide, so concurrent blocks (dask worker
# threads) share one limit: the first block in sets it, the last one out
# restores the previous settings.
_LOCK = threading.Lock()
_STATE = {"depth": 0, "torch": None, "blas": None}
# Finding the BLAS / OpenMP libraries scans the loaded shared objects, which
# costs milliseconds: as much as a whole small fit. As scikit-learn does, scan
# once (torch, numpy and scipy are loaded by then) and reuse the controller.
_CONTROLLER = []
_LOCAL = threading.local()


def _controller():
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _enter(n_threads):
    with _LOCK:
        if _STATE["depth"] == 0:
            _STATE["torch"] = torch.get_num_threads()
            _STATE["blas"] = _controller().limit(limits=n_threads)
        _STATE["depth"] += 1
        _nesting().append(n_threads)
        torch.set_num_threads(n_threads)


def _exit():
    with _LOCK:
        _STATE["depth"] -= 1
        nesting = _nesting()
        nesting.pop()
        if _STATE["depth"] == 0:
            torch.set_num_threads(_STATE["torch"])
            _STATE["blas"].restore_original_limits()
            _STATE["torch"] = _STATE["blas"] = None
        elif nesting:
            # A block nested in another of this thread: back to the outer count.
            torch.set_num_threads(nesting[-1])


def _nesting():
    """This thread's open blocks, innermost last."""
    if not hasattr(_LOCAL, "counts"):
        _LOCAL.counts = []
    return _LOCAL.counts


@contextmanager
def fixed_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS threads, then restore.

    Parameters
    ----------
    n_threads : int or None
        Number of threads; ``None`` leaves the current settings alone.

    Yields
    ------
    None

    Examples
    --------
    >>> import torch
    >>> from sklearn_subspace.training import fixed_threads
    >>> before = torch.get_num_threads()
    >>> with fixed_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    _enter(int(n_threads))
    try:
        yield
    finally:
        _exit()


# Below this many multiply-adds per training step (rows x (inputs + outputs)
# x outputs, roughly), a step takes a few milliseconds on one core and more
# threads only add synchronisation, which on a busy machine costs many times
# the work itself.
_SMALL_STEP_FLOPS = 2**24


def threads_for_step(n_rows, n_inputs, n_outputs, device):
    """1 for a small step on the CPU, else None (torch's own setting).

    Examples
    --------
    >>> from sklearn_subspace.training import threads_for_step
    >>> threads_for_step(256, 64, 10, "cpu")
    1
    >>> threads_for_step(20_000, 128, 100, "cpu") is None
    True
    """
    if (
        str(device).startswith("cpu")
        and n_rows * n_inputs * n_outputs < _SMALL_STEP_FLOPS
    ):
        return 1
    return None
