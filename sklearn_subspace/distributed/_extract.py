"""Teacher feature extraction over the workers of a dask cluster.

The inputs are cut into row partitions. The extractor is fitted once (on a
worker, so the client never loads the teacher) and sent to the cluster once;
every worker keeps one deserialised copy, keyed by its cluster key, so each
worker loads the teacher once however many partitions it runs. Workers write
into the extractor's content-addressed ``cache_dir``, which a later local run
reads back without running the teacher.
"""

import copy
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from .._param_validation import HasMethods, Interval, validate_params
from ..teachers import TorchFeatureExtractor

# Per worker process: cluster key of a shipped extractor -> that extractor,
# with its teacher loaded. A few entries cover back-to-back extractions.
_WORKER_EXTRACTORS = OrderedDict()
_WORKER_EXTRACTORS_MAX = 2
# Cluster key -> ids of the teacher modules its partitions ran on here.
_WORKER_MODELS = {}
_WORKER_LOCK = threading.Lock()


def _import_distributed():
    try:
        import dask
        import dask.array as da
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"extract_distributed needs dask.distributed ({exc}). Install it "
            "with `pip install 'sklearn-subspace[dask]'`."
        ) from exc
    return dask, da, distributed


def _resolve_client(client, distributed):
    if client is not None:
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise ValueError(
            "No dask client found. Pass client=, or create one first, e.g. "
            "client = distributed.Client(distributed.LocalCluster())."
        ) from None


def _is_dask_array(inputs):
    return type(inputs).__module__.startswith("dask") and hasattr(inputs, "chunks")


def _take(inputs, rows):
    """Rows ``rows`` (a slice) of any input the extractor reads."""
    if hasattr(inputs, "iloc"):  # pandas: positional, not by index label
        return inputs.iloc[rows]
    return inputs[rows]


# -- what runs on the workers ---------------------------------------------------
def _fit_on_worker(extractor, first_rows):
    """Fit a copy of the extractor on one sample, where the teacher will run."""
    return clone(extractor).fit(first_rows)


def _n_features_out(extractor):
    return extractor.n_features_out_


def _extract_partition(extractor, rows, token):
    """Features of one partition, with this worker's copy of the extractor."""
    with _WORKER_LOCK:
        if token in _WORKER_EXTRACTORS:
            _WORKER_EXTRACTORS.move_to_end(token)
        else:
            # dask may hand over a fresh deserialised copy (after spilling,
            # or a transfer); keeping the first one keeps its loaded teacher.
            _WORKER_EXTRACTORS[token] = extractor
            while len(_WORKER_EXTRACTORS) > _WORKER_EXTRACTORS_MAX:
                _WORKER_MODELS.pop(_WORKER_EXTRACTORS.popitem(last=False)[0], None)
        extractor = _WORKER_EXTRACTORS[token]
    features = extractor.transform(rows)
    with _WORKER_LOCK:
        _WORKER_MODELS.setdefault(token, set()).add(id(extractor.model_))
    return features


def _worker_teacher_models():
    """Per extraction still cached here: how many teacher modules it used."""
    with _WORKER_LOCK:
        return {token: len(ids) for token, ids in _WORKER_MODELS.items()}


# -- the client side --------------------------------------------------------------
@validate_params(
    {
        "extractor": [TorchFeatureExtractor],
        # Generators and other one-pass iterables are read into a list.
        "inputs": ["array-like", Iterable],
        # A dask.distributed.Client, known by what it does: the module-level
        # constraint cannot name the optional class without importing it.
        "client": [HasMethods(["submit", "map", "scatter", "gather"]), None],
        "partitions": [Interval(Integral, 1, None, closed="left"), None],
        "compute": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def extract_distributed(
    extractor, inputs, *, client=None, partitions=None, compute=True
):
    """Run a :class:`TorchFeatureExtractor` over the workers of a dask cluster.

    The inputs are split into contiguous row partitions that run on the
    workers. Each worker loads the teacher once, whatever the number of
    partitions it processes, and writes the features into the extractor's
    ``cache_dir``: the cache is content-addressed, so a later local run (or
    any other process) on the same samples reads them back with no teacher
    forward pass.

    Parameters
    ----------
    extractor : TorchFeatureExtractor
        Fitted or not. An unfitted extractor is fitted on a worker (on one
        sample), so the client never has to load the teacher. It is not
        modified.
    inputs : array-like, list, DataFrame or dask array
        Samples the extractor reads (see
        :meth:`TorchFeatureExtractor.transform`). In-memory inputs are split
        and sent to the workers. A dask array is never gathered on the
        client: each worker computes its own row chunks, which are the
        partitions.
    client : dask.distributed.Client or None, default=None
        The cluster to run on. None uses the current default client.
    partitions : int or None, default=None
        Number of row partitions. None: two per worker for in-memory inputs,
        the existing row chunks for a dask array.
    compute : bool, default=True
        True gathers the features into one numpy array on the client. False
        returns a dask array whose blocks stay in the workers' memory, to be
        projected there (for instance by
        :meth:`JLSubspaceTransformer.transform`).

    Returns
    -------
    features : ndarray or dask array of shape (n_samples, n_features_out_)
        float32 features in the order of ``inputs``.

    See Also
    --------
    TorchFeatureExtractor : The extractor run on each worker.
    sklearn_subspace.teachers.forward_pass_count : Counts teacher passes per
        process.

    Notes
    -----
    ``cache_dir`` must be a directory that every worker and the client can
    reach (a shared or network file system). Image file paths must be
    readable on the workers too. Since the cache is keyed by the compute
    precision, pass an explicit ``precision=`` when workers and client run
    on different devices (``"auto"`` is bfloat16 on CUDA and float32 on the
    CPU).

    For GPU workers, start one worker per GPU, each seeing only its own
    device, for instance with ``dask_cuda.LocalCUDACluster()`` or with
    ``CUDA_VISIBLE_DEVICES=<i> dask worker <scheduler> --nthreads 1`` per
    GPU; ``device="auto"`` then picks that worker's GPU.

    Examples
    --------
    A tiny teacher on a one-worker cluster in this process (a real cluster
    has process or remote workers, and ``cache_dir`` on a shared disk):

    >>> import tempfile
    >>> import numpy as np
    >>> import torch
    >>> from distributed import Client, LocalCluster
    >>> from sklearn_subspace.distributed import extract_distributed
    >>> from sklearn_subspace.teachers import TorchFeatureExtractor
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> client = Client(cluster)
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU())
    >>> X = np.random.RandomState(0).rand(100, 8).astype(np.float32)
    >>> cache = tempfile.TemporaryDirectory()
    >>> extractor = TorchFeatureExtractor(net, device="cpu", cache_dir=cache.name)
    >>> features = extract_distributed(extractor, X, client=client, partitions=4)
    >>> features.shape, features.dtype
    ((100, 16), dtype('float32'))
    >>> client.close(); cluster.close(); cache.cleanup()
    """
    dask, da, distributed = _import_distributed()
    client = _resolve_client(client, distributed)
    is_dask = _is_dask_array(inputs)
    if not is_dask and not hasattr(inputs, "__getitem__"):
        inputs = list(inputs)  # generators and other one-pass iterables
    n_samples = inputs.shape[0] if is_dask else len(inputs)
    if is_dask and math.isnan(n_samples):
        raise ValueError(
            "The dask array has unknown chunk sizes. Call "
            "inputs.compute_chunk_sizes() first."
        )
    if n_samples == 0:
        raise ValueError("inputs holds no samples; pass at least one.")

    # Progress is shown here, over partitions, rather than in worker logs.
    shipped = copy.copy(extractor)
    shipped.progress = False
    try:
        check_is_fitted(shipped)
        fitted = client.scatter(shipped, hash=False)
    except NotFittedError:
        first = _take(inputs, slice(0, 1))
        if is_dask:
            first = client.compute(first)
        fitted = client.submit(_fit_on_worker, shipped, first, pure=False)
    n_features = client.submit(_n_features_out, fitted).result()

    if is_dask:
        parts, sizes = _dask_partitions(inputs, partitions)
        tasks = [
            dask.delayed(_extract_partition, pure=False)(fitted, part, fitted.key)
            for part in parts
        ]
        futures = client.compute(tasks)
    else:
        # Two partitions per worker balance uneven workers without tiny tasks.
        count = partitions or 2 * max(len(client.nthreads()), 1)
        count = min(count, n_samples)
        bounds = np.linspace(0, n_samples, count + 1).astype(int)
        sizes = list(np.diff(bounds))
        parts = client.scatter(
            [_take(inputs, slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]
        )
        futures = client.map(
            _extract_partition,
            [fitted] * len(parts),
            parts,
            [fitted.key] * len(parts),
            pure=False,
        )
    _show_progress(futures, extractor.progress, distributed)
    if compute:
        return np.concatenate(client.gather(futures), axis=0)
    blocks = [
        da.from_delayed(future, shape=(size, n_features), dtype=np.float32)
        for future, size in zip(futures, sizes)
    ]
    return da.concatenate(blocks, axis=0)


def _dask_partitions(inputs, partitions):
    """Delayed row blocks of a dask array, and their numbers of rows."""
    # Each partition must hold whole samples: one chunk along the other axes.
    inputs = inputs.rechunk({axis: -1 for axis in range(1, inputs.ndim)})
    if partitions is not None:
        inputs = inputs.rechunk({0: math.ceil(inputs.shape[0] / partitions)})
    sizes = [int(n) for n in inputs.chunks[0]]
    return inputs.to_delayed().ravel().tolist(), sizes


def _show_progress(futures, progress, distributed):
    if not progress:
        return
    from tqdm.auto import tqdm

    with tqdm(total=len(futures), desc="Extracting features", unit="part") as bar:
        for _ in distributed.as_completed(futures):
            bar.update(1)
