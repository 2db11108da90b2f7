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
    n_seeds: int = 1  # predictor trainings (replicates) crossed with the sources in the interval
    p_t: float = np.nan  # two-sided p of the t behind the interval (Satterthwaite df when n_seeds > 1)
    se: float = np.nan  # standard error behind the interval (se * sqrt(n_sources): the units' sd, training noise included)
    df: float = np.nan  # degrees of freedom of that t (n_sources - 1, or Satterthwaite's when crossed over seeds)


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


def crossed_interval(d: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, float]:
    """(mean, low, high, p, se) of the grand mean of an (R replicates, U units) matrix with both as random effects.

    See `crossed_test`, which also returns the Satterthwaite degrees of freedom.
    """
    return crossed_test(d, level)[:5]


def crossed_test(d: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, float, float]:
    """(mean, low, high, p, se, df) of the grand mean of an (R replicates, U units) matrix, both random effects.

    Two predictors trained from one seed differ by a shift that every held-out unit shares (the trainings' own
    noise), which a t-interval over units alone leaves out. With d = mu + a_r + b_u + e the grand mean has variance
    (MS_rep + MS_unit - MS_err) / (R U); its degrees of freedom follow Satterthwaite (1946).
    """
    r, u = d.shape
    grand = d.mean()
    ms_rep = u * ((d.mean(1) - grand) ** 2).sum() / (r - 1)
    ms_unit = r * ((d.mean(0) - grand) ** 2).sum() / (u - 1)
    resid = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + grand
    ms_err = (resid ** 2).sum() / ((r - 1) * (u - 1))
    ms_rep, ms_unit = max(ms_rep, ms_err), max(ms_unit, ms_err)  # variance components truncated at 0
    var = (ms_rep + ms_unit - ms_err) / (r * u)
    parts = (ms_rep ** 2 / (r - 1) + ms_unit ** 2 / (u - 1) + ms_err ** 2 / ((r - 1) * (u - 1)))
    df = (ms_rep + ms_unit - ms_err) ** 2 / parts if parts > 0 else np.inf
    df = float(np.clip(df, 1.0, r * u - 1))
    se = np.sqrt(var)
    if se == 0:
        return float(grand), float(grand), float(grand), 0.0 if grand != 0 else 1.0, 0.0, df
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return float(grand), float(grand - half), float(grand + half), float(2 * stats.t.sf(abs(grand) / se, df)), float(se), df


def task_test(a, b, groups, seed: int = 0, level: float = 0.95, clusters=None, replicates=None) -> TaskTest:
    """a - b per unit, averaged within each group (task) and, given `clusters` (the source of each unit), within
    each source; t-interval and sign-flip p over the source means (over the task means without clusters).

    replicates: the predictor seed of each unit (one row per seed and pair). With >= 2 seeds the interval and p_t
    are crossed over seeds x sources (`crossed_interval`: they include the trainings' shared shift); the sign-flip p
    stays over the seed-averaged source means, conditional on these trainings.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = int(np.isfinite(d).sum())
    groups = np.asarray(groups)
    reps = np.unique(replicates) if replicates is not None else np.zeros(1)
    if len(reps) > 1:
        replicates = np.asarray(replicates)
        rows = [cluster_means(d[replicates == r], groups[replicates == r],
                              None if clusters is None else np.asarray(clusters)[replicates == r]) for r in reps]
        if len({len(m) for m, _ in rows}) != 1:
            raise ValueError("every replicate (predictor seed) needs a value on every source")
        matrix = np.stack([m for m, _ in rows])  # (n_seeds, n_sources)
        means, k_tasks = matrix.mean(0), rows[0][1]
        n = n // len(reps)
    else:
        means, k_tasks = cluster_means(d, groups, clusters)
    k = len(means)
    if k < 2:
        return TaskTest(n, k_tasks, float(means.mean()) if k else np.nan, np.nan, np.nan, np.nan, k, len(reps))
    if len(reps) > 1:
        m, lo, hi, p, se, df = crossed_test(matrix, level)
    else:
        df = float(k - 1)
        m, lo, hi = mean_interval(means, level)
        se = float(np.std(means, ddof=1) / np.sqrt(k))
        p = float(2 * stats.t.sf(abs(m) / se, k - 1)) if se > 0 else np.nan
    return TaskTest(n, k_tasks, m, lo, hi, signflip_p(means, seed=seed), k, len(reps), p, se, df)


def binomial_interval(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) interval of a rate from `hits` successes in `n` trials, e.g. a power over repetitions."""
    if n <= 0:
        return np.nan, np.nan
    alpha = 1 - level
    lo = 0.0 if hits == 0 else float(stats.beta.ppf(alpha / 2, hits, n - hits + 1))
    hi = 1.0 if hits == n else float(stats.beta.ppf(1 - alpha / 2, hits + 1, n - hits))
    return lo, hi
