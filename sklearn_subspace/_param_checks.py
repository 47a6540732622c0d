"""Checks of numeric hyper-parameters shared by the torch estimators."""

import math
import numbers


def check_real(name, value, *, low, high=None, low_inclusive=True):
    """Return ``value`` as a float, or raise if it is outside the range.

    Parameters
    ----------
    name : str
        Parameter name, used in the error message.
    value : object
        The value to check.
    low : float
        Lower end of the range.
    high : float or None, default=None
        Exclusive upper end of the range; ``None`` means no upper end.
    low_inclusive : bool, default=True
        Whether ``low`` itself is allowed.

    Returns
    -------
    float
        The checked value.

    Examples
    --------
    >>> from sklearn_subspace._param_checks import check_real
    >>> check_real("lr", 1e-3, low=0.0, low_inclusive=False)
    0.001
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {type(value).__name__}: {value!r}."
        )
    too_low = value < low if low_inclusive else value <= low
    too_high = high is not None and value >= high
    if too_low or too_high or not math.isfinite(value):
        bracket = "[" if low_inclusive else "("
        upper = f"{high})" if high is not None else "inf)"
        raise ValueError(f"{name} must be in {bracket}{low}, {upper}, got {value!r}.")
    return float(value)
