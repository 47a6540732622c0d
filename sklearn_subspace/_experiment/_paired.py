"""Paired statistics between two methods scored on the same test samples.

Two methods run with the same seed share the training split, the batch
order and the initial weights, and are scored on the same test samples, so
their results are paired twice: by seed and by sample.

- Per seed, the accuracy difference ``acc(method) - acc(baseline)``; over
  the seeds, its mean and a two-sided t confidence interval (the seeds are
  the independent repeats).
- Per sample, an exact McNemar test on the discordant pairs pooled over all
  seeds: ``b`` pairs where only the method is right, ``c`` where only the
  baseline is. Under the null hypothesis of equal error rates each
  discordant pair is a fair coin, so the two-sided p-value is that of
  ``scipy.stats.binomtest(b, b + c, 0.5)``. Pooling treats each
  (seed, sample) pair as one observation; the same test sample seen under
  several seeds is not independent, so read the p-value as a screen, next
  to the per-seed interval.
"""

import numpy as np
from scipy import stats


def mcnemar_exact(b, c):
    """Two-sided exact McNemar p-value from the discordant counts.

    Parameters
    ----------
    b, c : int
        Pairs where only the first, resp. only the second, is right.

    Returns
    -------
    float
        ``binomtest(b, b + c, 0.5).pvalue``; 1.0 without discordant pairs.

    Examples
    --------
    >>> from sklearn_subspace._experiment._paired import mcnemar_exact
    >>> mcnemar_exact(1, 9)  # 2 * (C(10, 0) + C(10, 1)) / 2**10
    0.021484375
    >>> mcnemar_exact(0, 0)
    1.0
    """
    n = int(b) + int(c)
    if n == 0:
        return 1.0
    return float(stats.binomtest(int(b), n, 0.5).pvalue)


def t_interval(values, confidence=0.95):
    """Two-sided t confidence interval of the mean of ``values``.

    Returns
    -------
    (float, float)
        The interval; NaN for fewer than two values.

    Examples
    --------
    >>> from sklearn_subspace._experiment._paired import t_interval
    >>> low, high = t_interval([0.01, 0.03])
    >>> round(low, 4), round(high, 4)
    (-0.1071, 0.1471)
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan"), float("nan")
    mean = values.mean()
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * (
        values.std(ddof=1) / np.sqrt(len(values))
    )
    return float(mean - half), float(mean + half)


def paired_comparison(correct, baseline_correct):
    """Compare two methods seed by seed and sample by sample.

    Parameters
    ----------
    correct, baseline_correct : dict
        ``seed -> boolean array`` of per-test-sample correctness; only the
        seeds both have are compared.

    Returns
    -------
    dict
        ``n_seeds``, ``differences`` (per-seed accuracy differences, seeds
        in increasing order), ``mean_difference``, ``ci_low`` and
        ``ci_high`` (95 % t interval), ``n_only_method`` (``b``),
        ``n_only_baseline`` (``c``) and ``mcnemar_p``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_subspace._experiment._paired import paired_comparison
    >>> a = {0: np.array([1, 1, 0, 1], bool)}
    >>> b = {0: np.array([1, 0, 0, 0], bool)}
    >>> out = paired_comparison(a, b)
    >>> out["differences"], out["n_only_method"], out["n_only_baseline"]
    ((0.5,), 2, 0)
    """
    seeds = sorted(set(correct) & set(baseline_correct))
    differences = tuple(
        float(np.mean(correct[s]) - np.mean(baseline_correct[s])) for s in seeds
    )
    b = sum(int(np.sum(correct[s] & ~baseline_correct[s])) for s in seeds)
    c = sum(int(np.sum(~correct[s] & baseline_correct[s])) for s in seeds)
    low, high = t_interval(differences)
    return {
        "n_seeds": len(seeds),
        "differences": differences,
        "mean_difference": float(np.mean(differences)) if seeds else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n_only_method": b,
        "n_only_baseline": c,
        "mcnemar_p": mcnemar_exact(b, c),
    }
