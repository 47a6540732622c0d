"""Scaling out on dask: teacher extraction across the workers of a cluster.

The rest of the library already runs on dask without a wrapper:

* :meth:`JLSubspaceTransformer.transform` projects a dask array lazily, block
  by block, equal to the numpy result;
* a fitted head predicts blockwise through
  ``dask_ml.wrappers.ParallelPostFit``;
* ``GridSearchCV`` and :func:`compression_study` (``client=``) run their
  candidates on a cluster through joblib's dask backend.

:func:`extract_distributed` runs a :class:`TorchFeatureExtractor` over
inputs partitioned across the workers, filling the shared feature cache.
dask is an optional dependency: ``pip install 'sklearn-subspace[dask]'``.
"""

from ._extract import extract_distributed

__all__ = ["extract_distributed"]
