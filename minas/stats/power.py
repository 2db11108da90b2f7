"""The effect a t-test can see: standardized mean detected with a given power at the test's own degrees of freedom.

Source: Cohen 1988 (Statistical Power Analysis, ch. 2): under the alternative, mean / se follows a noncentral t with
noncentrality d sqrt(n) for a standardized effect d = mean / sd over n units. A test whose interval is not a plain
one-sample t over n units (e.g. crossed over predictor seeds and sources, Satterthwaite df; `intervals.crossed_interval`)
keeps that noncentrality but has its own df, which is what `df` is for (issue 31, item 3: df about 6 instead of n - 1).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats


def needed_effect(n: int, power: float = 0.8, alpha: float = 0.05, df: float | None = None) -> float:
    """Standardized mean (mean / sd) a two-sided t-test over n units detects with `power`; df defaults to n - 1."""
    df = float(n - 1 if df is None or not np.isfinite(df) else df)
    if n < 2 or df <= 0:
        return float("inf")
    crit = stats.t.ppf(1 - alpha / 2, df)

    def miss(d: float) -> float:
        nc = d * np.sqrt(n)
        return stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc) - power

    hi = 0.5
    while miss(hi) < 0:  # widen the bracket step by step
        hi *= 2
    if not np.isfinite(miss(hi)):  # nct is not finite at very large noncentralities (n = 2): the usual approximation
        return float((crit + stats.t.ppf(power, df)) / np.sqrt(n))
    return float(optimize.brentq(miss, 1e-6, hi))
