"""Paired comparisons of two methods on the same units: mean difference, cluster bootstrap CI, p-values.

Source: Wilcoxon 1945 (signed-rank test), Student 1908 (paired t-test), Efron & Tibshirani 1993
(percentile bootstrap; here resampling whole groups, e.g. tasks, when pairs of a group share a
target — the cluster bootstrap). Used for the thesis's Table 3.1 comparisons (Kossmann 2019, sec. 3.1).

`task_test` is the one that carries Experiment 1's verdict: pairs of one task share its clean
targets, so the unit of evidence is the task; and tasks derived from one image source (`Task.source`)
are not independent of each other, so with `clusters` the task means are averaged again within each
source and the statistics rest on the source means (a cluster-level analysis: Donner & Klar 2000,
ch. 5). It works on those n unit means only: a Student t-interval (honest at small n where a
percentile bootstrap over 4-6 units is too narrow) and a sign-flip permutation p-value (Fisher 1935;
exact over all 2^n sign patterns up to n = 16, Monte Carlo beyond with the +1 of Phipson & Smyth 2010,
so an estimated p is never 0). `binomial_interval` is the Clopper-Pearson interval (1934) of a rate
such as a power over planted repetitions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from minas.core.seeding import rng_for


@dataclass
class PairedTest:
    """a - b on paired units: mean difference, bootstrap 95% CI (resampling groups if given), p-values."""

    n: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_wilcoxon: float
    p_ttest: float


def paired_test(a, b, groups=None, n_boot: int = 2000, seed: int = 0) -> PairedTest:
    """Wilcoxon signed-rank and paired t-test on a - b; the CI resamples whole groups (e.g. tasks) when given."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = len(d)
    if n < 2:
        return PairedTest(n, float(d.mean()) if n else np.nan, np.nan, np.nan, np.nan, np.nan)
    g = np.asarray(groups if groups is not None else np.arange(n))
    _, gi = np.unique(g, return_inverse=True)
    sums, counts = np.bincount(gi, d), np.bincount(gi)
    rng = rng_for(seed, "bootstrap")
    pick = rng.integers(0, len(sums), size=(n_boot, len(sums)))  # (B, G) resampled groups
    boot = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    p_w = p_t = np.nan
    if np.any(d != 0):
        p_w = float(stats.wilcoxon(d).pvalue)
        p_t = float(stats.ttest_1samp(d, 0.0).pvalue) if np.std(d) > 0 else 0.0
    return PairedTest(n, float(d.mean()), float(lo), float(hi), p_w, p_t)


@dataclass
class TaskTest:
    """a - b with independent sources as the unit: mean of per-source means of per-task mean differences."""

    n: int  # pairs behind the task means
    n_tasks: int  # task means
    mean_diff: float
    ci_low: float
    ci_high: float
    p_signflip: float
    n_sources: int = 0  # independent source means the interval and p-value rest on (each task its own without clusters)


def signflip_p(d: np.ndarray, n_perm: int = 20000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value of mean(d) = 0; exact over all 2^n patterns for n <= 16."""
    d = np.asarray(d, dtype=np.float64)
    n = len(d)
    if n == 0 or not np.any(d != 0):
        return np.nan
    if n <= 16:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # (2^n, n) every sign pattern
    else:
        signs = rng_for(seed, "signflip").choice([-1, 1], size=(n_perm, n))
    null = np.abs((signs * d).mean(axis=1))
    hits = int(np.sum(null >= abs(d.mean()) - 1e-15))
    if n <= 16:
        return hits / len(null)  # exact: the observed pattern is one of the 2^n
    return (hits + 1) / (n_perm + 1)  # Monte Carlo: the observed pattern counts as one draw (Phipson & Smyth 2010)


def mean_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student t-interval of the mean of independent units (e.g. one value per task), NaNs dropped.

    The interval used wherever a handful of tasks carry a mean (Experiment 1, rank agreement, depth,
    Table 3.2): a percentile bootstrap over 4-16 units is biased narrow. Under 2 units the bounds are NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    k = len(v)
    if k == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if k < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, k - 1)) * float(v.std(ddof=1)) / np.sqrt(k)
    return m, m - half, m + half


def cluster_means(values, groups, clusters=None) -> tuple[np.ndarray, int]:
    """(unit means, n_groups): values averaged within each group (task), then the group means within each cluster
    (source); without clusters every group is its own unit. NaNs are dropped first."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    g = np.asarray(groups)[ok]
    c = np.asarray(clusters)[ok] if clusters is not None else g
    v = v[ok]
    if not len(v):
        return np.zeros(0), 0
    names, first, gi = np.unique(g, return_index=True, return_inverse=True)
    means = np.bincount(gi, v) / np.bincount(gi)  # (n_groups,)
    if clusters is None:
        return means, len(names)
    if len(set(zip(g.tolist(), c.tolist()))) != len(names):
        raise ValueError("a group (task) is given two clusters (sources); every task has one source")
    _, ci = np.unique(c[first], return_inverse=True)  # the cluster of each group (read at its first row)
    return np.bincount(ci, means) / np.bincount(ci), len(names)


def task_test(a, b, groups, seed: int = 0, level: float = 0.95, clusters=None) -> TaskTest:
    """a - b per unit, averaged within each group (task) and, given `clusters` (the source of each unit), within
    each source; t-interval and sign-flip p over the source means (over the task means without clusters)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = int(np.isfinite(d).sum())
    means, k_tasks = cluster_means(d, groups, clusters)
    k = len(means)
    if k < 2:
        return TaskTest(n, k_tasks, float(means.mean()) if k else np.nan, np.nan, np.nan, np.nan, k)
    m, lo, hi = mean_interval(means, level)
    return TaskTest(n, k_tasks, m, lo, hi, signflip_p(means, seed=seed), k)


def binomial_interval(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) interval of a rate from `hits` successes in `n` trials, e.g. a power over repetitions."""
    if n <= 0:
        return np.nan, np.nan
    alpha = 1 - level
    lo = 0.0 if hits == 0 else float(stats.beta.ppf(alpha / 2, hits, n - hits + 1))
    hi = 1.0 if hits == n else float(stats.beta.ppf(1 - alpha / 2, hits + 1, n - hits))
    return lo, hi
