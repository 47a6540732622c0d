"""Refuse pandas columns that are labels, not numbers, before numpy sees them.

``np.asarray`` turns a DataFrame with a ``category`` column into the
categories' values, and a pandas ``string`` column of digits into floats,
without a word; a column of words fails deep inside numpy with "could not
convert string to float". Features must be numbers that mean what they say,
so every estimator checks its DataFrame input here first and names the
columns and the fix.
"""

import sys


def _bad_columns(X):
    """``(categorical, text)`` column names of a DataFrame."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(X, pandas.DataFrame):
        return [], []
    categorical, text = [], []
    for name, dtype in X.dtypes.items():
        if isinstance(dtype, pandas.CategoricalDtype):
            categorical.append(name)
        elif isinstance(dtype, pandas.StringDtype) or (
            dtype.kind == "O" and X[name].map(type).eq(str).any()
        ):
            text.append(name)
    return categorical, text


def check_numeric_columns(X, estimator_name):
    """Raise if DataFrame ``X`` has categorical or text columns.

    Parameters
    ----------
    X : object
        The input; anything but a pandas DataFrame passes unchecked.
    estimator_name : str
        Who is asking, for the message.

    Raises
    ------
    TypeError
        Naming the offending columns and how to encode them.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_subspace._frames import check_numeric_columns
    >>> X = pd.DataFrame({"a": [1.0, 2.0], "b": pd.Categorical(["x", "y"])})
    >>> check_numeric_columns(X, "JLSubspaceTransformer")
    Traceback (most recent call last):
    ...
    TypeError: JLSubspaceTransformer needs numeric features, but column(s) ['b'] of X are categorical ...
    """
    categorical, text = _bad_columns(X)
    if not (categorical or text):
        return
    parts = []
    if categorical:
        parts.append(
            f"column(s) {categorical} of X are categorical (pandas 'category')"
        )
    if text:
        parts.append(
            f"column(s) {text} of X hold text (pandas 'string' or str objects)"
        )
    raise TypeError(
        f"{estimator_name} needs numeric features, but {' and '.join(parts)}; "
        "their values are labels, not measurements. Encode them first, e.g. "
        "with sklearn.preprocessing.OneHotEncoder in a ColumnTransformer, "
        "convert numbers stored as text with pandas.to_numeric, or drop them."
    )
