"""Turning a ``seeds`` argument into the list of integer seeds of repeats.

The compression study and the distillation comparison both repeat every
configuration over several seeds; they accept the same ``seeds`` argument.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state


def check_seeds(seeds, random_state):
    """Integer seeds, one per repeat; each seed is a new matrix and head init.

    Parameters
    ----------
    seeds : int or sequence of int
        The number of repeats, or the seeds themselves (repeats are dropped,
        order kept).
    random_state : int, RandomState instance or None
        With an int count of ``seeds``: an int gives the readable seeds
        ``random_state, random_state + 1, ...``; otherwise seeds are drawn.

    Returns
    -------
    list of int
        The seeds.

    Examples
    --------
    >>> from sklearn_subspace._seeds import check_seeds
    >>> check_seeds(3, 10)
    [10, 11, 12]
    >>> check_seeds([5, 1, 5], None)
    [5, 1]
    """
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(
                f"seeds must be >= 1 (the number of repeats), got {seeds}."
            )
        if isinstance(random_state, numbers.Integral):
            return [int(random_state) + i for i in range(int(seeds))]
        rng = check_random_state(random_state)
        return [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=int(seeds))]
    if isinstance(seeds, str) or not hasattr(seeds, "__iter__"):
        raise TypeError(
            "seeds must be an int (number of repeats) or a sequence of int seeds, "
            f"got {seeds!r}."
        )
    values = list(seeds)
    if not values or any(
        isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in values
    ):
        raise TypeError(f"seeds must be a non-empty sequence of ints, got {seeds!r}.")
    return list(dict.fromkeys(int(s) for s in values))
