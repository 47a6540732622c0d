"""Applying a projection to blocks of rows.

Working in row blocks keeps the extra memory of a transform bounded whatever
the number of samples: only the output and one block's temporaries are
allocated.

BLAS rounds a row differently depending on the shape of the product it sits
in (ragged tail tiles, the matrix-vector path for one row, small-matrix
kernels). So every product here has the same shape: the block size is a
function of the projection alone, and a short last block is padded with zero
rows. A row's result then does not depend on how the rows were split into
calls, batches or dask chunks.
"""

import numpy as np
import scipy.sparse as sp

# Temporaries of one block (the SRHT's padded copies, a sparse block's dense
# copy) stay below this many bytes.
_BLOCK_BYTES = 64 * 2**20
# Rows per block: a multiple of this, large enough for an efficient GEMM,
# small enough that a one-row transform stays cheap.
_ROW_ALIGN = 64
_MAX_BLOCK_ROWS = 1024


def block_rows_for(projection):
    """Rows per block: fixed by the projection's shape and dtype alone."""
    width = max(
        projection.n_features,
        getattr(projection, "padded_features", 0) * 3,
        projection.n_components,
    )
    rows = _BLOCK_BYTES // max(width * projection.dtype.itemsize, 1)
    rows = min(max(int(rows), _ROW_ALIGN), _MAX_BLOCK_ROWS)
    return rows // _ROW_ALIGN * _ROW_ALIGN


def apply_in_blocks(projection, X, *, out=None):
    """Compute ``X S^T`` block by block into one preallocated output.

    Parameters
    ----------
    projection : object
        A map built by :func:`make_projection`.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Data already validated and in the projection's dtype.
    out : ndarray of shape (n_samples, n_components) or None
        Where to write the result.

    Returns
    -------
    out : ndarray of shape (n_samples, n_components)
    """
    n_samples = X.shape[0]
    if out is None:
        out = np.empty((n_samples, projection.n_components), dtype=projection.dtype)
    if sp.issparse(X):
        X = X.tocsr()
    block_rows = block_rows_for(projection)
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        _apply_block(projection, X[start:stop], out[start:stop], block_rows)
    return out


def _apply_block(projection, block, out, block_rows):
    n_rows = block.shape[0]
    if sp.issparse(block) or n_rows == block_rows:
        # Sparse products are computed row by row and need no padding.
        projection.apply(block, out=out)
        return
    padded = np.zeros((block_rows, block.shape[1]), dtype=block.dtype)
    padded[:n_rows] = block
    out[...] = projection.apply(padded)[:n_rows]
