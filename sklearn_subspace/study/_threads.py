"""A fixed number of CPU threads for a block of small torch / BLAS work.

The study's heads and the embedded teacher are small: their matrix products
take microseconds, so extra threads mostly wait on each other, and on a
busy machine they make a fit many times slower. Running such work on a fixed
number of threads also makes its floating-point results independent of the
machine's core count and of how configurations are spread over processes,
which is what lets a parallel study equal a serial one bit for bit.
"""

import threading
from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits

# Thread settings are process-wide, so concurrent blocks (dask worker
# threads) share one limit: the first block in sets it, the last one out
# restores the previous settings.
_LOCK = threading.Lock()
_STATE = {"depth": 0, "torch": None, "blas": None}


def _enter(n_threads):
    with _LOCK:
        if _STATE["depth"] == 0:
            _STATE["torch"] = torch.get_num_threads()
            _STATE["blas"] = threadpool_limits(limits=n_threads)
        _STATE["depth"] += 1
        torch.set_num_threads(n_threads)


def _exit():
    with _LOCK:
        _STATE["depth"] -= 1
        if _STATE["depth"] == 0:
            torch.set_num_threads(_STATE["torch"])
            _STATE["blas"].restore_original_limits()
            _STATE["torch"] = _STATE["blas"] = None


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
    >>> from sklearn_subspace.study._threads import fixed_threads
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
