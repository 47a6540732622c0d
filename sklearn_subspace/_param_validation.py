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
    "declared_constraints",
    "validate_params",
]


def declared_constraints(func):
    """The constraints ``validate_params`` declared for ``func``, if any.

    ``validate_params`` keeps them on the function under a private name; it
    is read here, next to the import, so that the tests can check that every
    public function declares all of its parameters.

    Parameters
    ----------
    func : callable
        A function, possibly decorated with :func:`validate_params`.

    Returns
    -------
    constraints : dict or None
        Parameter name to list of constraints; None when ``func`` is not
        decorated.

    Examples
    --------
    >>> from sklearn_subspace._param_validation import declared_constraints
    >>> from sklearn_subspace.projection import pair_distortion_band
    >>> sorted(declared_constraints(pair_distortion_band))
    ['false_alarm', 'n_components', 'n_pairs']
    >>> declared_constraints(len) is None
    True
    """
    # validate_params records the constraints only in this private attribute;
    # scikit-learn has no public accessor. Read here, next to the one import
    # of its private validation module, so a change is mended in one place.
    return getattr(func, "_skl_parameter_constraints", None)
