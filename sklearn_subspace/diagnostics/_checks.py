"""Data checks shared by the geometry diagnostics.

The diagnostics' parameters are declared with ``validate_params``; what
depends on the data (its shape, finiteness and magnitude) is checked here,
with messages that name both the problem and the fix.
"""

import numpy as np
from sklearn.utils.validation import check_array


def _check_features(X, *, name="X", min_samples=2, what="this diagnostic"):
    """Return ``X`` as a finite 2-D float array (float32 kept, others -> float64)."""
    X = check_array(
        X,
        dtype=[np.float64, np.float32],
        ensure_2d=False,
        allow_nd=True,
        ensure_all_finite=False,
        ensure_min_samples=1,
        ensure_min_features=0,
        input_name=name,
    )
    if X.ndim != 2:
        fix = (
            f"reshape it with {name}.reshape(-1, 1) for a single feature"
            if X.ndim == 1
            else f"flatten the trailing axes, e.g. {name}.reshape(len({name}), -1)"
        )
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got "
            f"{X.ndim}-D with shape {X.shape}; {fix}."
        )
    if X.shape[1] < 1:
        raise ValueError(
            f"{name} has no features (shape {X.shape}); pass at least one column."
        )
    if X.shape[0] < min_samples:
        raise ValueError(
            f"{name} has {X.shape[0]} sample(s) but {what} needs at least "
            f"{min_samples}; pass more rows."
        )
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        raise ValueError(
            f"{name} contains NaN or infinity in {int((~finite).sum())} row(s). "
            "Drop or impute those rows (e.g. with sklearn.impute.SimpleImputer) "
            "first."
        )
    # Pairwise squared distances must fit in the float type; beyond this
    # magnitude they overflow and every ratio would be inf / inf = NaN.
    limit = np.sqrt(np.finfo(np.float64).max / (4.0 * X.shape[1]))
    largest = float(np.abs(X).max())
    if largest > limit:
        raise ValueError(
            f"{name} holds values up to {largest:.3g}, too large for squared "
            f"distances to be computed without overflow (limit {limit:.3g}). "
            f"Rescale it first, e.g. {name} / np.abs({name}).max()."
        )
    return X
