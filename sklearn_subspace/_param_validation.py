"""The one place that imports scikit-learn's parameter validation.

``sklearn.utils._param_validation`` and ``sklearn.base._fit_context`` are
private to scikit-learn, yet they are how scikit-learn, imbalanced-learn and
others declare the valid values of every parameter (``_parameter_constraints``)
and of public functions (``validate_params``). As imbalanced-learn does, this
library imports them here and nowhere else, so a change in scikit-learn is
mended in one file; ``pyproject.toml`` states the scikit-learn versions this
is tested with.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_fit_context",
    "validate_params",
]
