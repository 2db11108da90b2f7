"""Analysis across the notebook series: both thesis tables read back, per-layer signals and their statistics.

Sources: Kossmann 2019 (thesis Tables 3.1 and 3.2; per-layer MI as the input signal) and
Mills et al. 2024 (AutoBuild importances). Nothing here trains a CNN or runs Hyperband:
MI estimates, Hyperband runs and controller iterations are read back from the store that
notebooks 03 and 05 wrote; only cheap summaries (rank correlations, t-intervals over tasks) are computed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from minas import data
from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.seeding import rng_for
from minas.nas.hyperband import BracketResult
from minas.nas.space import N_LAYERS, OPTIONS, parse_architecture
from minas.study import collection
from minas.study import controller as ctl
from minas.study.collection import signal_column, signal_layers
from minas.study.predict.experiment import compare
from minas.stats import mean_interval, task_test

# the store's table `mi` holds every signal (MI estimators, the probe, proxies); its column `method` names the signal
MI_COLUMNS = ("task", "arch", "method", "seed", "layer", "value", "curve")


# --- signals as stored ---------------------------------------------------------------------
def mi_frame(store, config: str | None = None) -> pd.DataFrame:
    """Every stored per-layer signal value (columns MI_COLUMNS + ok; `method` is the signal's name), curves parsed;
    `config` = keys.signal_key(cfg)."""
    m = store.frame("mi", **({"config": config} if config else {}))
    if m.empty:
        return pd.DataFrame(columns=list(MI_COLUMNS) + ["ok"])
    m = m.assign(value=pd.to_numeric(m["value"], errors="coerce"),
                 curve=[json.loads(c) if isinstance(c, str) and c else [] for c in m["curve"]])
    return m[list(MI_COLUMNS) + ["ok"]].sort_values(["task", "arch", "method", "seed", "layer"]).reset_index(drop=True)


# --- rank correlations within tasks --------------------------------------------------------
@dataclass
class Correlation:
    """Spearman rho with a 95% bootstrap CI (resampling whole groups when given) and its p-value."""

    rho: float
    ci_low: float
    ci_high: float
    p: float
    n: int


def spearman_ci(x, y, groups=None, n_boot: int = 1000, seed: int = 0) -> Correlation:
    """Spearman rho of (x, y) pairs, NaNs dropped; the CI resamples groups (e.g. tasks) or single pairs."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    g = np.asarray(groups if groups is not None else np.arange(len(x)))
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, g = x[ok], y[ok], g[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(np.nan, np.nan, np.nan, np.nan, int(len(x)))
    rho, p = stats.spearmanr(x, y)
    members = [np.flatnonzero(g == u) for u in np.unique(g)]
    rng = rng_for(seed, "spearman-bootstrap")
    boot = []
    for _ in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        rx, ry = stats.rankdata(x[idx]), stats.rankdata(y[idx])
        if np.ptp(rx) > 0 and np.ptp(ry) > 0:  # Spearman = Pearson of ranks (ties averaged), without spearmanr's overhead
            boot.append(np.corrcoef(rx, ry)[0, 1])
    lo, hi = np.nanpercentile(boot, [2.5, 97.5]) if boot else (np.nan, np.nan)
    return Correlation(float(rho), float(lo), float(hi), float(p), int(len(x)))


def rank_residuals(values: pd.DataFrame, control: pd.Series) -> pd.DataFrame:
    """Each column's ranks minus their least-squares fit on the control's ranks (for a partial Spearman)."""
    c = stats.rankdata(control.to_numpy(np.float64))
    design = np.column_stack([np.ones_like(c), c])  # (n, 2)
    out = {}
    for col in values:
        r = stats.rankdata(values[col].to_numpy(np.float64))
        out[col] = r - design @ np.linalg.lstsq(design, r, rcond=None)[0]
    return pd.DataFrame(out, index=values.index)


def _group_spearman(x: np.ndarray, y: np.ndarray, control: np.ndarray | None) -> float:
    """Spearman of one group's (x, y), or with `control`'s ranks partialled out of both; NaN when undefined."""
    ok = np.isfinite(x) & np.isfinite(y) & (np.isfinite(control) if control is not None else True)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan
    if control is not None:
        r = rank_residuals(pd.DataFrame({"x": x, "y": y}), pd.Series(control[ok]))
        x, y = r.x.to_numpy(), r.y.to_numpy()
        if np.ptp(x) < 1e-12 or np.ptp(y) < 1e-12:
            return np.nan
        return float(np.corrcoef(x, y)[0, 1])  # residual ranks: Pearson is the partial Spearman
    return float(stats.spearmanr(x, y).statistic)


def signal_correlations(df: pd.DataFrame, signals: list[str], targets: list[str], group: str | None = "task",
                        n_boot: int = 1000, seed: int = 0, control: str | None = None) -> pd.DataFrame:
    """Spearman of each signal column with each target column.

    With `group` (the study's use): one Spearman per group (e.g. within each task, over its architectures),
    and the row gives their mean with a Student t-interval and a one-sample t-test p over the groups
    (`stats.mean_interval`; the groups are the independent units, and a percentile bootstrap over this
    few is biased narrow). It says "within a task, a higher signal goes with a higher target".
    With `control`, both sides are first replaced, within each group, by their rank residuals on that
    column (a partial Spearman: what the signal says about the target beyond, e.g., the architecture's size).
    Without `group`: one Spearman pooled over rows, its CI a bootstrap over rows (n_boot, seed).
    Returns one row per (signal, target): rho, ci_low, ci_high, p, n (rows), n_groups (groups with a rho).
    """
    columns = ["signal", "target", "rho", "ci_low", "ci_high", "p", "n", "n_groups"]
    if not group:
        data = df.dropna(subset=[control]) if control else df
        if control:
            data = rank_residuals(data[signals + targets], data[control])
        rows = [dict(signal=s, target=t, **spearman_ci(data[s], data[t], None, n_boot, seed).__dict__, n_groups=1)
                for s in signals for t in targets]
        return pd.DataFrame(rows, columns=columns)
    parts = [g for _, g in df.groupby(group)]
    rows = []
    for s in signals:
        for t in targets:
            per = np.array([_group_spearman(g[s].to_numpy(np.float64), g[t].to_numpy(np.float64),
                                            g[control].to_numpy(np.float64) if control else None) for g in parts])
            used = np.isfinite(per)
            m, lo, hi = mean_interval(per)
            p = float(stats.ttest_1samp(per[used], 0.0).pvalue) if used.sum() > 1 and np.ptp(per[used]) > 0 else np.nan
            n = int(sum(np.isfinite(g[s].to_numpy(np.float64)).sum() for g, u in zip(parts, used) if u))
            rows.append(dict(signal=s, target=t, rho=m, ci_low=float(np.clip(lo, -1, 1)), ci_high=float(np.clip(hi, -1, 1)),
                             p=p, n=n, n_groups=int(used.sum())))
    return pd.DataFrame(rows, columns=columns)


def measured_archs(collected, lam: float) -> pd.DataFrame:
    """Every architecture measured to convergence per task (collected.reference) with its size and Hyperband score."""
    ref = collected.reference.copy()
    ref["sum_filters"] = [sum(parse_architecture(a).filters) for a in ref.arch]
    ref["hs"] = ref.accuracy - lam * ref.sum_filters  # thesis Def. 2.6
    return ref


def layer_correlations(archs: pd.DataFrame, methods: list[str], targets=("accuracy", "hs"),
                       n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Within-task Spearman of each method's per-layer MI (and of the size baseline) with accuracy and hs,
    plus the partial Spearman of the MI with the size partialled out (target "<t> | size")."""
    names = {signal_column(m, l): (m, l) for m in methods for l in signal_layers(m)}
    mi_cols = list(names)
    out = pd.concat([signal_correlations(archs, mi_cols + ["sum_filters"], list(targets), "task", n_boot, seed),
                     signal_correlations(archs, mi_cols, list(targets), "task", n_boot, seed, control="sum_filters")
                     .assign(target=lambda d: d.target + " | size")], ignore_index=True)
    out.insert(1, "method", out.signal.map(lambda c: names[c][0] if c in names else "size (sum of filters)"))
    out.insert(2, "layer", pd.array([names[c][1] if c in names else None for c in out.signal], dtype="Int64"))
    return out


def correlation_summary(corr: pd.DataFrame, partial: bool = False) -> dict:
    """Of layer_correlations' per-layer rows (plain, or with size partialled out): how many CIs exclude 0, the largest |rho|."""
    rows = corr[corr.layer.notna() & (corr.target.str.endswith(" | size") == partial)].dropna(subset=["rho"])
    if rows.empty:
        return {"tested": 0, "ci_excluding_0": 0, "top": None}
    top = rows.loc[rows.rho.abs().idxmax()]
    return {"tested": len(rows), "ci_excluding_0": int(((rows.ci_low > 0) | (rows.ci_high < 0)).sum()),
            "top": {"method": top.method, "layer": int(top.layer), "target": top.target, "rho": float(top.rho),
                    "ci": [float(top.ci_low), float(top.ci_high)]}}


# --- MI and depth -----------------------------------------------------------------------------
def layer_means(archs: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Long table method, layer, mean, sem, n of the raw per-layer values over every measured architecture."""
    rows = []
    for m in methods:
        for l in signal_layers(m):
            v = archs[signal_column(m, l)].dropna().to_numpy(np.float64)
            rows.append({"method": m, "layer": l, "mean": v.mean() if len(v) else np.nan,
                         "sem": v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan, "n": len(v)})
    return pd.DataFrame(rows)


def depth_trend(archs: pd.DataFrame, methods: list[str], seed: int = 0, sources: dict | None = None) -> pd.DataFrame:
    """Per method: last minus first layer, paired per architecture, averaged within each task, then per image source
    (`sources`: task -> source; without it each task counts as its own); t-interval and sign-flip p over those means."""
    rows = []
    for m in [m for m in methods if signal_layers(m) != [0]]:  # whole-network signals have no depth
        first, last = signal_column(m, 1), signal_column(m, N_LAYERS)
        d = archs[[last, first, "task"]].dropna()
        clusters = d.task.map(lambda x: sources.get(x, x)).to_numpy() if sources else None
        t = task_test(d[last], d[first], d.task.to_numpy(), seed=seed, clusters=clusters)
        rows.append({"method": m, "layer_1": d[first].mean(), f"layer_{N_LAYERS}": d[last].mean(),
                     **{k: v for k, v in t.__dict__.items()}})
    return pd.DataFrame(rows)


# --- which signal helps the posterior predictor ------------------------------------------------
def signal_value(exp, baseline: str = "NN + arch only", seed: int = 0) -> pd.DataFrame:
    """Per NN predictor of a predict.Experiment1: test MSE over seeds and its paired difference to `baseline`.

    Differences are per test pair and predictor seed, averaged per test task, then per image source (`exp.sources`);
    the CI is crossed over seeds x sources (`predict.experiment.compare`), p_signflip a sign-flip p over the
    seed-mean source means; negative = the signal helps. Only the NNs: the low-variance "Gaussian + X" rows are not here.
    """
    nn_runs = exp.runs[(exp.runs.signal != "") & exp.runs.method.str.startswith("NN")]
    per_pair = exp.errors.groupby(["method", "pair"]).mse.mean().unstack("method")  # (P, methods)
    rows = []
    for method, r in nn_runs.groupby("method", sort=False):
        row = {"method": method, "signal": r.signal.iloc[0], "test_mse_mean": r.test_mse.mean(),
               "test_mse_std": r.test_mse.std(), "n_seeds": len(r)}
        if method != baseline and baseline in per_pair:
            task_of = pd.Series(exp.test.task, index=np.arange(len(exp.test)))
            t = compare(exp.errors, method, baseline, task_of, getattr(exp, "sources", None), seed)
            row.update(diff_vs_baseline=t.mean_diff, ci_low=t.ci_low, ci_high=t.ci_high, n_tasks=t.n_tasks,
                       n_sources=t.n_sources, n_seeds=t.n_seeds, p_signflip=t.p_signflip, p_t=t.p_t)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("test_mse_mean").reset_index(drop=True)


def importance_summary(importances: dict) -> pd.DataFrame:
    """Per AutoBuild model and layer: the most important filter count, relative spread, Spearman with filter count."""
    rows = []
    for method, imp in importances.items():
        imp = np.asarray(imp, np.float64).reshape(N_LAYERS, len(OPTIONS))
        for l, row in enumerate(imp):
            rows.append({"method": method, "layer": l + 1, "best_filters": OPTIONS[int(np.argmax(row))],
                         "rel_spread": float((row.max() - row.min()) / max(abs(row.mean()), 1e-12)),
                         "rho_with_filters": float(stats.spearmanr(OPTIONS, row)[0]) if np.ptp(row) > 0 else np.nan})
    return pd.DataFrame(rows)


# --- controller results, read back (never rerun) -----------------------------------------------
def controller_runs(cfg: StudyConfig, store) -> dict:
    """experiment -> controller.ControllerRun rebuilt from the iterations notebook 05 stored."""
    runs = {}
    for name in ctl.EXPERIMENTS:
        runs[name] = ctl.load_run(cfg, store, name)
        if runs[name] is None:
            raise FileNotFoundError(f"no stored iterations of controller {name} (kind controller-{name}, "
                                    f"config {keys.controller_key(cfg)}) in {store.path}: run notebook 05 "
                                    f"(python -m minas run --profile {cfg.profile} --only 05)")
    return runs


def controller_evals(cfg: StudyConfig, store) -> pd.DataFrame:
    """The frame controller.evaluate_priors returned in notebook 05, rebuilt from the stored Hyperband runs."""
    bracket_key, rows = keys.bracket_key(cfg), []
    for task in data.build_tasks(cfg):
        specs, inputs = collection.collection_brackets(cfg, task.name), collection.input_archs(cfg, task.name)[1]
        # the labels evaluate_priors scores: uniform once, then per controller run each experiment at full share,
        # and one trained on a share < 1 (Exp 1) also as trained; runs after the first carry "-s<run>" in their tags
        learned = [*ctl.EXPERIMENTS, *(f"{e}_as_trained" for e, share in ctl.EXPERIMENTS.items() if share < 1)]
        labels = [("uniform", 0)] + [(p, r) for r in range(cfg.controller.seeds) for p in learned]
        for prior, run in labels:
            for k in range(cfg.controller.eval_instances):
                tag = "collection" if prior == "uniform" and k < len(specs) else keys.eval_tag(prior, run)
                done = store.get_bracket(tag, task.name, k, bracket_key)
                if done is None:
                    raise FileNotFoundError(f"Hyperband run {tag}/{task.name}/{k} is not in {store.path}: "
                                            f"run notebook 05 (python -m minas run --profile {cfg.profile} --only 05)")
                r = BracketResult.from_dict(done["result"])
                rows.append({"prior": prior, "task": task.name, "split": task.split, "instance": k,
                             "input_arch": inputs[k % len(inputs)].id, "hs": r.summed_score,
                             "avg_score": r.summed_score / len(r.scores), "survivors": r.survivors})
    return pd.DataFrame(rows)
