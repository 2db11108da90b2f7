"""Paired comparisons of two methods on the same units: mean difference, cluster bootstrap CI, p-values.

Source: Wilcoxon 1945 (signed-rank test), Student 1908 (paired t-test), Efron & Tibshirani 1993
(percentile bootstrap; here resampling whole groups, e.g. tasks, when pairs of a group share a
target — the cluster bootstrap). Used for the thesis's Table 3.1 comparisons (Kossmann 2019, sec. 3.1).
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
