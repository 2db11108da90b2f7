"""Variance components of a one-way random-effects design: how much of a quantity differs between groups.

Source: Searle, Casella & McCulloch 1992 (Variance Components), sec. 3.5-3.6: the ANOVA estimators for unbalanced
one-way classification, E MSB = sigma^2 + n0 tau^2 with n0 = (N - sum n_i^2 / N) / (a - 1), E MSW = sigma^2, so
tau^2 = (MSB - MSW) / n0 and sigma^2 = MSW are unbiased (tau^2 is not truncated at 0: an estimate below 0 says the
groups differ less than their own noise predicts). For a (n, d) array every column is one such design and the
components are averaged over the d columns (the "per entry" variance of a 92-entry posterior).

Interval: a percentile bootstrap over clusters (Efron & Tibshirani 1993, ch. 13; Field & Welsh 2007 for resampling
the top level of a hierarchy): whole clusters (independent sources, each with its groups) are drawn with replacement,
a group drawn twice counting as two groups, and the ANOVA estimates recomputed. The 95% interval of tau^2 therefore
rests on the independent sources; with fewer than `min_clusters` (5) the bootstrap has too few distinct resamples
(3 at two clusters, 35 at four) to be an interval, and the bounds are NaN. Beside it, a permutation null (Fisher 1935): single observations shuffled across
groups (group sizes kept) give the distribution of the between-group sum of squares when no group differs; the
p-value counts the observed arrangement as one draw (Phipson & Smyth 2010). For one column, `p_f` is the normal-theory
F test of tau^2 = 0 for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from minas.core.seeding import rng_for


@dataclass
class VarianceComponents:
    """tau^2 (between groups), sigma^2 (within a group), their ratio, each with a bootstrap interval over clusters."""

    tau2: float  # between-group variance of the group's expected value, per column (mean over d columns)
    tau2_low: float
    tau2_high: float
    sigma2: float  # variance of one observation around its group's expected value, per column
    sigma2_low: float
    sigma2_high: float
    ratio: float  # tau2 / sigma2
    ratio_low: float
    ratio_high: float
    p_perm: float  # permutation p of "no group differs" (observations shuffled across groups)
    p_f: float  # normal-theory F test of tau2 = 0 (d = 1 only; NaN for several columns)
    n: int  # observations
    n_groups: int
    n_clusters: int  # independent units the interval resamples
    d: int  # columns averaged
    n0: float  # effective group size: E MSB = sigma2 + n0 tau2

    @property
    def share(self) -> float:
        """tau2 / (tau2 + sigma2): the share of one observation's variance that lies between groups (intraclass r)."""
        total = self.tau2 + self.sigma2
        return self.tau2 / total if total > 0 else float("nan")


def _group_stats(y: np.ndarray, gi: np.ndarray, n_groups: int):
    """Per group: size (G,), mean (G, d), within sum of squares summed over the columns (G,)."""
    n = np.bincount(gi, minlength=n_groups).astype(np.float64)
    sums = np.zeros((n_groups, y.shape[1]))
    np.add.at(sums, gi, y)
    means = sums / n[:, None]
    ssw = np.bincount(gi, ((y - means[gi]) ** 2).sum(axis=1), minlength=n_groups)
    return n, means, ssw


def _anova(w: np.ndarray, n: np.ndarray, means: np.ndarray, ssw: np.ndarray, d: int):
    """(tau2, sigma2, n0) per row of group weights w (B, G): a group of weight 2 counts as two groups."""
    big_n, a = w @ n, w.sum(axis=1)  # (B,)
    totals = (w * n) @ means  # (B, d) grand sums
    ssb = (w * n) @ (means ** 2).sum(axis=1) - (totals ** 2).sum(axis=1) / big_n
    with np.errstate(divide="ignore", invalid="ignore"):
        msb, msw = ssb / (a - 1) / d, (w @ ssw) / (big_n - a) / d
        n0 = (big_n - (w @ n ** 2) / big_n) / (a - 1)
        return (msb - msw) / n0, msw, n0


def variance_components(values, groups, clusters=None, level: float = 0.95, n_boot: int = 2000,
                        n_perm: int = 2000, seed: int = 0, min_clusters: int = 5) -> VarianceComponents:
    """One-way random-effects tau^2 and sigma^2 of `values` (n,) or (n, d) grouped by `groups` (any sizes).

    clusters: the independent unit of each observation (e.g. a task's image source; every observation of a group in
    one cluster); without it every group is its own cluster. The interval draws clusters with replacement (`n_boot`
    times; NaN bounds under `min_clusters` clusters), the permutation null shuffles observations across groups
    (`n_perm` times); both seeded by `seed`.
    """
    y = np.asarray(values, dtype=np.float64)
    y = y[:, None] if y.ndim == 1 else y.reshape(len(y), -1)  # (n, d)
    names, gi = np.unique(np.asarray(groups), return_inverse=True)
    g, (big_n, d) = len(names), y.shape
    if len(gi) != big_n:
        raise ValueError(f"{len(gi)} group labels for {big_n} observations: give one label per row")
    if g < 2 or big_n <= g or not np.isfinite(y).all():
        raise ValueError(f"variance components need >= 2 groups, one with >= 2 observations, and finite values "
                         f"(got {g} groups, {big_n} observations)")
    n, means, ssw = _group_stats(y, gi, g)
    tau2, sigma2, n0 = (float(v[0]) for v in _anova(np.ones((1, g)), n, means, ssw, d))
    ratio = tau2 / sigma2 if sigma2 > 0 else float("nan")
    # clusters: the cluster of each group (read at the group's first observation)
    first = np.unique(gi, return_index=True)[1]
    c_of_obs = np.asarray(clusters if clusters is not None else groups)
    c_names, c_of_group = np.unique(c_of_obs[first], return_inverse=True)
    if len({(a, b) for a, b in zip(gi.tolist(), c_of_obs.tolist())}) != g:
        raise ValueError("a group is given two clusters: every observation of a group belongs to one cluster")
    k = len(c_names)
    rng = rng_for(seed, "variance-components")
    lo = hi = (np.nan,) * 3
    if k >= max(2, min_clusters) and n_boot > 0:
        draws = rng.integers(0, k, size=(n_boot, k))
        w = np.stack([np.bincount(r, minlength=k) for r in draws])[:, c_of_group].astype(np.float64)  # (B, G)
        bt, bs, _ = _anova(w, n, means, ssw, d)
        br = np.where(bs > 0, bt / np.where(bs > 0, bs, 1.0), np.nan)
        q = [50 * (1 - level), 50 * (1 + level)]
        (lo_t, hi_t), (lo_s, hi_s), (lo_r, hi_r) = (np.nanpercentile(v, q) for v in (bt, bs, br))
        lo, hi = (lo_t, lo_s, lo_r), (hi_t, hi_s, hi_r)
    p_perm = _permutation_p(y, gi, n, n_perm, rng) if n_perm > 0 else float("nan")
    p_f = float("nan")
    if d == 1 and sigma2 > 0:
        p_f = float(stats.f.sf((tau2 * n0 + sigma2) / sigma2, g - 1, big_n - g))  # F = MSB / MSW
    return VarianceComponents(tau2, float(lo[0]), float(hi[0]), sigma2, float(lo[1]), float(hi[1]), ratio,
                              float(lo[2]), float(hi[2]), p_perm, p_f, big_n, g, k, d, n0)


def _permutation_p(y: np.ndarray, gi: np.ndarray, n: np.ndarray, n_perm: int, rng, chunk: int = 200) -> float:
    """P(SSB >= observed) with observations shuffled across groups (sizes kept), +1 for the observed arrangement."""
    order = np.argsort(gi, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(int)  # groups as contiguous slots of the sorted rows

    def ssb_part(rows: np.ndarray) -> np.ndarray:  # sum_g ||group sum||^2 / n_g for rows (B, N) placed into the slots
        sums = np.add.reduceat(y[rows], starts, axis=1)  # (B, G, d)
        return ((sums ** 2).sum(axis=2) / n).sum(axis=1)

    observed = ssb_part(order[None])[0]
    hits, done = 0, 0
    while done < n_perm:
        b = min(chunk, n_perm - done)
        rows = np.argsort(rng.random((b, len(y))), axis=1)  # b random arrangements
        hits += int(np.sum(ssb_part(rows) >= observed * (1 - 1e-12)))
        done += b
    return (hits + 1) / (n_perm + 1)
