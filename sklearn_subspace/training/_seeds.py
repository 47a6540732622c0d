"""One derivation of the integer seeds a fit needs from ``random_state``."""

import numpy as np
from sklearn.utils import check_random_state


def draw_seeds(random_state, names=("init", "shuffle", "split")):
    """Integer seeds, one per name, drawn from ``random_state``.

    Every trained model of the library derives its seeds here, so one
    ``random_state`` fixes the initial weights, the batch order and the
    validation split, and models that are compared (the head and its
    learned-bottleneck baseline, or the distillation methods) see the same
    split and batch order when they ask for the same names.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As in scikit-learn.
    names : tuple of str, default=("init", "shuffle", "split")
        Which seeds to draw. The first names always get the same seeds, so
        asking for more names does not change the earlier ones.

    Returns
    -------
    dict
        ``{name: int}``, each seed in ``[0, 2**31 - 1)``.

    Examples
    --------
    >>> from sklearn_subspace.training import draw_seeds
    >>> draw_seeds(0) == draw_seeds(0)
    True
    >>> a = draw_seeds(0)
    >>> b = draw_seeds(0, names=("init", "shuffle", "split", "head"))
    >>> all(a[name] == b[name] for name in a)
    True
    """
    rng = check_random_state(random_state)
    values = rng.randint(np.iinfo(np.int32).max, size=len(names))
    return {name: int(value) for name, value in zip(names, values)}
