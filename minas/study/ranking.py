"""Rank agreement of every signal with the architectures' final scores, within tasks, and each signal's cost.

The comparison of issue 13: MI estimates, probe accuracy and the training-free proxies (minas.nas.proxies)
side by side, the way the zero-cost literature scores proxies (Abdelfattah et al. 2021, ICLR: Kendall tau
and Spearman rho against final accuracy), with the size baseline the width-only space makes strong (the
total filter count; cf. ZiCo, Li et al. 2023, on how rarely proxies beat #params).

Within each task, over its measured architectures, Kendall tau (tau-b) and Spearman rho of a signal
(one layer of a per-layer signal, or a whole-network one at layer 0) with each target: accuracy and
the Hyperband score hs = accuracy - lam * sum(filters) (thesis Def. 2.6). A signal's row is the mean
over tasks; its 95% CI is a Student t-interval over the per-task values (`stats.mean_interval`; a
percentile bootstrap over this few tasks is biased narrow), so it says how much the answer depends
on which tasks were drawn. Cost: mean seconds per architecture,
summed over a signal's layers, as stored (jobs run on one torch thread, so on a CPU these are CPU seconds).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from minas.core import keys
from minas.core.config import StudyConfig
from minas.nas.space import parse_architecture
from minas.stats import cluster_means, mean_interval

SIZE = "sum_filters"  # the size baseline's method name: the architecture's total filter count
COLUMNS = ["method", "layer", "target", "n_tasks", "n_sources", "n_archs", "tau", "tau_low", "tau_high",
           "rho", "rho_low", "rho_high", "seconds_per_arch"]


def ranking_inputs(cfg: StudyConfig, store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, scores) of this config's seed from the store: every signal row (the `mi` table; a failure
    as NaN) and each converged training (task, arch, accuracy, seconds)."""
    m = store.frame("mi", config=keys.signal_key(cfg), seed=cfg.seed)
    values = m[["task", "arch", "method", "layer", "value", "seconds"]].assign(
        value=lambda d: pd.to_numeric(d.value, errors="coerce"))
    t = store.frame("trainings", config=keys.training_key(cfg), seed=cfg.seed, kind="converge")
    scores = t[["task", "arch", "accuracy", "seconds"]]
    return values, scores


def with_targets(scores: pd.DataFrame, lam: float) -> pd.DataFrame:
    """Scores (task, arch, accuracy, ...) plus sum_filters and hs = accuracy - lam * sum_filters."""
    out = scores.copy()
    out[SIZE] = [parse_architecture(a).total_filters() for a in out.arch]
    out["hs"] = out.accuracy - lam * out[SIZE]
    return out


def signal_costs(values: pd.DataFrame, scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per method: mean seconds per architecture (layers summed), and its ratio to the mean training's
    seconds when `scores` has a seconds column."""
    per_arch = values.groupby(["method", "task", "arch"]).seconds.sum().groupby("method")
    out = pd.DataFrame({"seconds_per_arch": per_arch.mean(), "n_archs": per_arch.size()}).reset_index()
    train = float(scores.seconds.mean()) if scores is not None and "seconds" in scores and len(scores) else np.nan
    out["vs_training"] = out.seconds_per_arch / train
    return out


def task_correlations(x: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(Kendall tau-b, Spearman rho, pairs) of one task's finite pairs; NaNs when under 3 pairs or a constant side."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan, np.nan, int(len(x))
    return float(stats.kendalltau(x, y).statistic), float(stats.spearmanr(x, y).statistic), int(len(x))


def _bounded(per_task: np.ndarray) -> tuple[float, float, float]:
    """Mean of per-task correlations with its t-interval, clipped to [-1, 1] (where a correlation's mean lives)."""
    m, lo, hi = mean_interval(per_task)
    return m, float(np.clip(lo, -1.0, 1.0)), float(np.clip(hi, -1.0, 1.0))


def _by_source(per_task: np.ndarray, tasks: list[str], sources: dict | None) -> np.ndarray:
    """Per-task values averaged within each image source (the independent units, `stats.cluster_means`)."""
    return cluster_means(per_task, tasks, [sources.get(t, t) for t in tasks] if sources else None)[0]


def rank_agreement(values: pd.DataFrame, scores: pd.DataFrame, lam: float, targets=("accuracy", "hs"),
                   size_baseline: bool = True, sources: dict | None = None) -> pd.DataFrame:
    """Within-task Kendall tau and Spearman rho of every (method, layer) with each target; mean over tasks
    with 95% t-intervals over tasks; seconds per architecture. One row per (method, layer, target) (COLUMNS).

    values: task, arch, method, layer, value (NaN for a failure), seconds; scores: task, arch, accuracy
    (and seconds, unused here). With `size_baseline`, the total filter count joins as method "sum_filters".
    sources (task -> image source): per-task correlations are averaged within each source first and the
    intervals are over those source means (`n_sources`).
    """
    scored = with_targets(scores.groupby(["task", "arch"], as_index=False).mean(numeric_only=True), lam)
    vals = values[["task", "arch", "method", "layer", "value", "seconds"]]
    if size_baseline:
        size = scored[["task", "arch"]].assign(method=SIZE, layer=0, value=scored[SIZE].astype(float), seconds=0.0)
        vals = pd.concat([vals, size], ignore_index=True)
    vals = vals.groupby(["task", "arch", "method", "layer"], as_index=False)[["value", "seconds"]].mean()
    joined = vals.merge(scored[["task", "arch", *targets]], on=["task", "arch"], how="inner")
    cost = signal_costs(vals).set_index("method").seconds_per_arch
    rows = []
    for (method, layer), g in joined.groupby(["method", "layer"], sort=True):
        names, tasks = zip(*[(name, t) for name, t in g.groupby("task")])
        for target in targets:
            per = np.array([task_correlations(t.value.to_numpy(float), t[target].to_numpy(float)) for t in tasks])
            tau, rho, n = per[:, 0], per[:, 1], per[:, 2]
            used = np.isfinite(rho)
            tau_u, rho_u = _by_source(tau, list(names), sources), _by_source(rho, list(names), sources)
            rows.append([method, int(layer), target, int(used.sum()), int(np.isfinite(rho_u).sum()), int(n[used].sum()),
                         *_bounded(tau_u), *_bounded(rho_u), float(cost.get(method, np.nan))])
    return pd.DataFrame(rows, columns=COLUMNS)


def beats_size(table: pd.DataFrame, target: str = "accuracy", stat: str = "rho") -> pd.DataFrame:
    """Rows of `target` with how far each signal's mean lies above the size baseline's, and whether its CI
    lies wholly above the baseline's mean (a first look; the paired question needs shared bootstrap draws)."""
    t = table[table.target == target].copy()
    base = t.loc[t.method == SIZE, stat]
    ref = float(base.iloc[0]) if len(base) else np.nan
    t[f"{stat}_minus_size"] = t[stat] - ref
    t["above_size"] = t[f"{stat}_low"] > ref
    return t.sort_values(stat, ascending=False).reset_index(drop=True)
