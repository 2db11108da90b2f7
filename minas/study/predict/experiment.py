"""Experiment 1 of the thesis: every posterior predictor and baseline scored on the same held-out pairs (Table 3.1).

Which predictors, what each reads and how it fits come from the predictor slot (`slot.lineup`, the registry's
`PREDICTORS`); this module scores whatever the lineup holds. Source: Kossmann 2019 (thesis), sec. 3.1 and Table 3.1; paired comparisons as in `minas.stats`,
over independent image sources (`Task.source`): each comparison's interval and sign-flip p rest on
source means, and every comparison carries `n_sources`. Controls (issue 23, item 4): "NN + noise" (a
unit-variance column with no information) beside every signal, so "signal X is worse" is read against
"any extra column is worse"; and the low-variance `SignalGaussian` ("Gaussian + X", 20 parameters)
against the input-free fitted Gaussian.

Scale: `hyperband.posterior` normalizes each layer to sum 1; the thesis normalized the whole
92-vector to sum 1 ("a normalized 92 dimensional vector"), i.e. every entry N_LAYERS x smaller and
every MSE 16x smaller. Our tables report our scale and, beside the thesis's numbers,
`*_thesis_scale` = ours / 16.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.nas.space import N_LAYERS, N_OPTIONS, OPTIONS
from minas.nas import hyperband
from minas.study.predict.features import NoFeature
from minas.study.predict.fits import FitSettings
from minas.study.predict.predictors import Pairs, build_pairs, noise_summary, task_noise, task_sources
from minas.study.predict.slot import comparisons, resolve, usable
from minas.stats import cluster_means, mean_interval, task_test

THESIS_SCALE = 1.0 / 16.0  # per-layer-normalized MSE -> 92-normalized MSE (the thesis's scale)
THESIS_TABLE_3_1 = {  # thesis Table 3.1 (train, test), the thesis's reported values (a citation)
    "Uniform": (7.80e-05, 8.13e-05),
    "Fitted Gaussian": (6.92e-05, 6.70e-05),
    "NN + accuracy": (3.57e-05, 7.58e-05),
    "NN + MI": (3.42e-05, 7.38e-05),
    "Noise (dirty)": (6.20e-04, 6.41e-04),
    "Noise (clean)": (6.84e-05, np.nan),
}


@dataclass
class Experiment1:
    """Everything of one Table 3.1 run (MSE on our per-layer scale)."""

    table: pd.DataFrame  # method, group, train/test MSE mean/std, n_seeds, thesis columns
    runs: pd.DataFrame  # method, signal, seed, train_mse, test_mse
    curves: pd.DataFrame  # method, seed, epoch, split, mse
    errors: pd.DataFrame  # per test pair: method, seed, pair, task, sample, mse
    comparisons: pd.DataFrame  # a, b, unit, n, mean_diff, ci_low, ci_high, p_wilcoxon, p_ttest
    predictions: dict[str, np.ndarray]  # method -> (P_test, 92) prediction (seed mean for NNs)
    test: Pairs
    sources: dict = dataclasses.field(default_factory=dict)  # task -> image source (the unit of independence)
    task_noise: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)  # predictors.task_noise: dirty, floor
    skipped: dict = dataclasses.field(default_factory=dict)  # predictor -> why this collection could not feed it

    def task_posteriors(self, method: str) -> dict:
        """method's mean predicted posterior per test task, task -> (4, 23)."""
        p = self.predictions[method]
        return {t: p[self.test.task == t].mean(axis=0).reshape(N_LAYERS, N_OPTIONS) for t in np.unique(self.test.task)}


def holdout_split(cfg, collected, sources: dict):
    """The collection as the fixed split uses it: `predict.holdout: family` keeps the data room's meta split;
    `source` also leaves out every training task that shares an image source with a test task."""
    if cfg.predict.holdout != "source":
        return collected
    s = collected.samples
    held = {sources[t] for t in s.task[s.split == "test"].unique()}
    keep = ~((s.split == "train") & s.task.map(sources).isin(held))
    if not (keep & (s.split == "train")).any():
        raise ValueError(f"predict.holdout=source: every training task shares a source with a test task (test sources "
                         f"{sorted(held)}); hold out whole sources in the data split, or set predict.holdout: family")
    return dataclasses.replace(collected, samples=s[keep].reset_index(drop=True))


def pair_mse(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MSE of each pair over its 92 entries, (P,)."""
    return ((np.asarray(pred, np.float64) - y) ** 2).mean(axis=1)  # (P,)


def run_experiment(cfg, collected, predictors=None, softmax: bool = False) -> Experiment1:
    """Score every predictor of the lineup on the same pairs (Table 3.1): MLPs trained cfg.predict.seeds times.

    predictors: None (every registered predictor, `slot.lineup`), registered names (with the fixed baselines) or
    bound predictor objects; the primary signal is cfg.mi.signals[0]."""
    if collected.samples.empty or not (collected.samples.split == "test").any():
        raise ValueError("no collected input samples on test tasks: run notebook 03 (collection) first")
    chosen, skipped = usable(resolve(predictors, collected.signals, cfg.mi.signals[0]), collected)
    sources = task_sources(cfg, collected)
    collected = holdout_split(cfg, collected, sources)
    runs, curves, errors, preds, te = score_split(cfg, collected, chosen, cfg.predict.seeds, cfg.predict.epochs, softmax)
    k = cfg.hyperband.n_clean
    table = _table(runs, noise_summary(collected, k), _overlap_note(collected, k))
    return Experiment1(table, runs, curves, errors, _comparisons(errors, te, cfg.seed, comparisons(chosen), sources=sources),
                       preds, te, sources, task_noise(collected, k, sources), skipped)


def score_split(cfg, collected, predictors: list, seeds: int, epochs: int, softmax: bool = False, gaussians: bool = True):
    """(runs, curves, errors, predictions, test pairs) of the bound `predictors` (`slot.lineup`) on one train/test
    split; MLPs trained `seeds` x `epochs` (gaussians=False leaves the Gaussian + X fits out)."""
    pc, k, cap = cfg.predict, cfg.hyperband.n_clean, cfg.hyperband.max_clean
    settings = FitSettings(seeds, epochs, pc.lr, pc.batch_size, cfg.seed, softmax)
    pairs: dict = {}

    def pairs_of(feature) -> tuple[Pairs, Pairs]:  # the targets are the same for every feature; only x differs
        if feature not in pairs:
            pairs[feature] = (build_pairs(collected, feature, "train", k, pc.max_pairs_per_task, cfg.seed, cap),
                              build_pairs(collected, feature, "test", k, 0, cfg.seed, cap))
        return pairs[feature]

    tr, te = pairs_of(NoFeature())
    if len(tr) == 0 or len(te) == 0:
        raise ValueError(f"no train or test pairs (train {len(tr)}, test {len(te)}): each task needs >= "
                         f"hyperband.n_clean={k} posteriors; run notebook 03 to finish the collection")
    runs, curves, errors, preds = [], [], [], {}
    meta = {"pair": np.arange(len(te)), "task": te.task, "sample": te.sample}
    for p in predictors:
        if not gaussians and p.fit.kind == "gaussian":
            continue
        trs, tes = pairs_of(p.feature)
        scored = p.fit.run(trs, tes, settings)
        signal = "" if p.fit.kind == "fixed" else p.feature.label
        for sc in scored:
            e = pair_mse(sc.test_pred, tes.y)
            runs.append({"method": p.name, "signal": signal, "seed": sc.seed, "train_mse": sc.train_mse, "test_mse": e.mean()})
            curves += [pd.DataFrame({"method": p.name, "seed": sc.seed, "epoch": np.arange(len(c)), "split": split, "mse": c})
                       for split, c in sc.curves.items()]
            errors.append(pd.DataFrame(dict(meta, method=p.name, seed=sc.seed, mse=e)))
        preds[p.name] = np.mean([sc.test_pred for sc in scored], axis=0).astype(np.float32)  # seed mean for MLPs
    curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["method", "seed", "epoch", "split", "mse"])
    return pd.DataFrame(runs), curves, pd.concat(errors, ignore_index=True), preds, te


def _overlap_note(collected, k: int) -> str:
    """What the clean-noise row is, in numbers: the overlap of C(n, k) targets beside the floor and the thesis's value."""
    s = collected.samples
    train = [len(p) for t, p in collected.posteriors.items() if t in set(s.task[s.split == "train"])]
    if not train:
        return ""
    n = int(np.median(train))
    share = hyperband.clean_overlap(n, k)
    if not np.isfinite(share):
        return ""
    return (f"clean noise = mean pairwise MSE of a task's C({n},{k}) clean targets, which overlap (two share "
            f"{k - 1} of {k} posteriors at C({k + 1},{k})): dirty x {share:.3g} (dirty/{1 / share:.3g}) here, below each "
            f"target's own noise dirty/{2 * k} (the floor); the thesis's {THESIS_TABLE_3_1['Noise (clean)'][0]:.3g} is on "
            f"its scale (ours x {THESIS_SCALE:g}) from its own C(n,k)")


def _table(runs: pd.DataFrame, noise: pd.DataFrame, note: str = "") -> pd.DataFrame:
    agg = runs.groupby("method", sort=False).agg(train_mse_mean=("train_mse", "mean"), train_mse_std=("train_mse", "std"),
                                                 test_mse_mean=("test_mse", "mean"), test_mse_std=("test_mse", "std"),
                                                 n_seeds=("seed", "nunique")).reset_index()
    for kind in ("dirty", "clean"):
        agg.loc[len(agg)] = {"method": f"Noise ({kind})", "n_seeds": 1,
                             "train_mse_mean": noise[kind].get("train", np.nan), "test_mse_mean": noise[kind].get("test", np.nan)}
    agg["group"] = np.where(agg.method.isin(list(THESIS_TABLE_3_1)), "thesis", "beyond")
    agg["test_mse_thesis_scale"] = agg.test_mse_mean * THESIS_SCALE
    agg["train_mse_thesis_scale"] = agg.train_mse_mean * THESIS_SCALE
    agg["thesis_reported_train"] = agg.method.map(lambda m: THESIS_TABLE_3_1.get(m, (np.nan, np.nan))[0])
    agg["thesis_reported_test"] = agg.method.map(lambda m: THESIS_TABLE_3_1.get(m, (np.nan, np.nan))[1])
    agg["note"] = np.where(agg.method == "Noise (clean)", note, "")
    order = ["method", "group", "train_mse_mean", "train_mse_std", "test_mse_mean", "test_mse_std", "n_seeds",
             "train_mse_thesis_scale", "test_mse_thesis_scale", "thesis_reported_train", "thesis_reported_test", "note"]
    return agg.sort_values("group", ascending=False, kind="stable")[order].reset_index(drop=True)


UNIT = ("test pairs, averaged per task, then per source (t-interval over source means, crossed with predictor seeds "
        "when several; sign-flip p over the seed-mean source means)")


def compare(errors: pd.DataFrame, a: str, b: str, task_of, sources: dict | None = None, seed: int = 0):
    """`stats.task_test` of a - b test MSE: per (predictor seed, pair), averaged per task, then per source; the
    interval crossed over predictor seeds x sources when a or b was trained with >= 2 seeds (a method with one
    seed, e.g. a fixed baseline, is the same for every seed). task_of: pair -> task (a Series indexed by pair)."""
    wide = {m: errors[errors.method == m].pivot_table(index="pair", columns="seed", values="mse") for m in (a, b)}
    pairs = wide[a].index.intersection(wide[b].index)
    na, nb = wide[a].shape[1], wide[b].shape[1]
    if na != nb and min(na, nb) > 1:  # different seed counts: compare seed means
        wide = {m: w.mean(axis=1).to_frame(0) for m, w in wide.items()}
        na = nb = 1
    n_seeds = max(na, nb)
    va, vb = (np.broadcast_to(w.loc[pairs].to_numpy(np.float64), (len(pairs), n_seeds)) for w in (wide[a], wide[b]))
    tasks = np.repeat(task_of.loc[pairs].to_numpy(), n_seeds)
    reps = np.tile(np.arange(n_seeds), len(pairs)) if n_seeds > 1 else None
    return task_test(va.ravel(), vb.ravel(), tasks, seed=seed, clusters=_clusters(tasks, sources), replicates=reps)


def _comparisons(errors: pd.DataFrame, te: Pairs | None, seed: int, pairs: list, pair_task=None,
                 sources: dict | None = None) -> pd.DataFrame:
    """a - b of test MSE for each (a, b) of `pairs` (`slot.comparisons`) with sources as the unit (`compare`): per pair and predictor seed, averaged per task, then
    per source (`sources`: task -> source; without it every task counts as its own source); intervals crossed over
    predictor seeds when there are several.

    The task of pair i is te.task[i], or pair_task[i] (a Series indexed by pair) when te is None.
    """
    task_of = pd.Series(te.task, index=np.arange(len(te))) if te is not None else pair_task
    methods = set(errors.method)
    rows = []
    for a, b in pairs:
        if a not in methods or b not in methods:
            continue
        t = compare(errors, a, b, task_of, sources, seed)
        rows.append(dict(a=a, b=b, unit=UNIT, **t.__dict__))
    return pd.DataFrame(rows, columns=["a", "b", "unit", "n", "n_tasks", "n_sources", "n_seeds", "mean_diff", "ci_low",
                                       "ci_high", "p_signflip", "p_t"])


def _clusters(tasks, sources: dict | None):
    """The source of each task in `tasks` (None without a map: every task its own source)."""
    return None if not sources else np.array([sources.get(str(t), str(t)) for t in tasks], dtype=object)


def table_3_1(cfg, collected) -> pd.DataFrame:
    """The Table 3.1 analog beside the thesis's reported numbers (see run_experiment for everything else)."""
    return run_experiment(cfg, collected).table


def example_frame(exp: Experiment1, pair: int, methods: list[str]) -> pd.DataFrame:
    """Long table (source, layer, filters, p) of one test pair's target and predictions (thesis Fig. 3.3)."""
    rows = [("target", exp.test.y[pair])] + [(m, exp.predictions[m][pair]) for m in methods]
    return pd.concat([pd.DataFrame({"source": src, "layer": np.repeat(np.arange(1, N_LAYERS + 1), N_OPTIONS),
                                    "filters": np.tile(OPTIONS, N_LAYERS), "p": np.asarray(v, np.float64)})
                      for src, v in rows], ignore_index=True)


def mse_intervals(exp: Experiment1, level: float = 0.95) -> pd.DataFrame:
    """Per method: mean test MSE over test tasks (pairs seed-averaged, then per task) with a t-interval over tasks.

    Columns: method, group, n_tasks, n_sources, test_mse, ci_low, ci_high (our scale), the same * THESIS_SCALE,
    thesis_reported_test. The mean is over source means (task means averaged within each image source), its
    interval a t-interval over them (`minas.stats.mean_interval`), not a percentile bootstrap: with 3-6
    units the bootstrap's handful of distinct resamples makes it too narrow.
    """
    per_pair = exp.errors.groupby(["method", "pair"], sort=False).mse.mean().unstack("method")  # (P, methods)
    tasks = exp.test.task[per_pair.index.to_numpy()]
    clusters = _clusters(tasks, exp.sources)
    rows = []
    for method in exp.runs.method.unique():
        v, n_tasks = cluster_means(per_pair[method].to_numpy(np.float64), tasks, clusters)  # (n_sources,)
        m, low, high = mean_interval(v, level)
        rows.append({"method": method, "group": "thesis" if method in THESIS_TABLE_3_1 else "beyond", "n_tasks": n_tasks,
                     "n_sources": len(v), "test_mse": m, "ci_low": low, "ci_high": high})
    out = pd.DataFrame(rows)
    for c in ("test_mse", "ci_low", "ci_high"):
        out[f"{c}_thesis_scale"] = out[c] * THESIS_SCALE
    out["thesis_reported_test"] = out.method.map(lambda m: THESIS_TABLE_3_1.get(m, (np.nan, np.nan))[1])
    return out
