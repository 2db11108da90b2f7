"""AutoBuild judged on the study's held-out tasks (notebook 04, Experiment 1's side table): importances trained per
signal on the training tasks' Hyperband rows, against the sum of filters and the posterior predictors.

Source: Mills et al. 2024 (AutoBuild, CVPR), on the thesis collection (Kossmann 2019): rank agreement within each
Hyperband instance and rung, overlap with the survivors, the built architecture's score percentile, and the MSE of
the distribution built from the importances to the clean posteriors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from minas.core.config import StudyConfig
from minas.core.seeding import derive_seed
from minas.nas import hyperband
from minas.nas.space import N_LAYERS, from_indices, parse_architecture
from minas.study.autobuild.model import (
    build,
    chain_data,
    distribution,
    fit_temperature,
    node_importance,
    span_importance,
    train_importance,
)
from minas.study.predict import AccuracyFeature, NoFeature, SignalFeature


def task_context(collected, feature) -> dict | None:
    """task -> mean of a predictor feature (`predict.features`) over its input samples (None for `NoFeature`)."""
    if feature == NoFeature():
        return None

    sig = feature.matrix(collected)
    return {t: sig[np.flatnonzero((collected.samples.task == t).to_numpy())].mean(axis=0) for t in collected.samples.task.unique()}


def posterior_score(dist: np.ndarray, archs) -> np.ndarray:
    """Score of each architecture under a (4, 23) distribution: sum over layers of its option's probability."""
    idx = np.array([parse_architecture(a).indices for a in archs])  # (N, 4)
    return np.asarray(dist)[np.arange(N_LAYERS), idx].sum(axis=1)


@dataclass
class Evaluation:
    """AutoBuild vs baselines on the held-out tasks."""

    summary: pd.DataFrame  # method: posterior_mse, spearman, kendall, overlap, built score percentile
    instances: pd.DataFrame  # per (method, task, sample, rung): spearman, kendall (and overlap at rung 0)
    built: pd.DataFrame  # per (method, task): built arch, nearest measured arch, distance, score, percentile
    importances: dict  # method -> (4, 23) importance (mean over test tasks and seeds)
    spans: pd.DataFrame  # top option pairs of adjacent layers (first AutoBuild variant)
    curves: pd.DataFrame  # method, seed, step, loss


def _rank_stats(rows: pd.DataFrame, pred: np.ndarray, method: str) -> list[dict]:
    from scipy import stats

    out, rows = [], rows.assign(pred=pred)
    last = rows.rung.max()
    for (task, sample, rung), g in rows.groupby(["task", "sample", "rung"]):
        ok = g.pred.nunique() > 1 and g.score.nunique() > 1
        r = {"method": method, "task": task, "sample": sample, "rung": rung,
             "spearman": stats.spearmanr(g.pred, g.score)[0] if ok else np.nan,
             "kendall": stats.kendalltau(g.pred, g.score)[0] if ok else np.nan, "overlap": np.nan}
        if rung == 0:
            final = set(rows[(rows.task == task) & (rows["sample"] == sample) & (rows.rung == last)].arch)
            top = set(g.sort_values("pred", ascending=False, kind="stable").arch.head(len(final)))
            r["overlap"] = len(top & final) / max(len(final), 1)
        out.append(r)
    return out


def _built_rows(rows: pd.DataFrame, built: dict, method: str) -> list[dict]:
    out = []
    for task, arch in built.items():
        g = rows[(rows.task == task) & (rows.rung == 0)]
        idx = np.array([parse_architecture(a).indices for a in g.arch])
        dist = np.abs(idx - np.array(parse_architecture(arch).indices)).sum(axis=1)
        near = int(np.argmin(dist))
        s = g.score.to_numpy()
        out.append({"method": method, "task": task, "built": arch, "nearest": g.arch.iloc[near], "distance": int(dist[near]),
                    "score": s[near], "percentile": float((s < s[near]).mean() + 0.5 * (s == s[near]).mean())})
    return out


def variants(cfg: StudyConfig, collected) -> dict:
    """AutoBuild's variants, name -> the `predict` feature it conditions on: none, the study's MI, accuracy."""
    primary = cfg.mi.signals[0] if cfg.mi.signals[0] in collected.signals else collected.signals[0]
    return {"AutoBuild": NoFeature(), "AutoBuild + MI": SignalFeature(primary), "AutoBuild + accuracy": AccuracyFeature()}


def evaluate(cfg: StudyConfig, collected, exp=None, signals: dict | None = None, epochs: int = 200) -> Evaluation:
    """Train AutoBuild per signal (name -> `predict` feature) on training tasks' brackets; compare on test tasks.

    Baselines: sum of filters (score = -sum filters); with `exp` (predict.Experiment1) the
    posterior predictors' mean test-task posteriors scored by `posterior_score`.
    """

    b, k = collected.brackets, cfg.hyperband.n_clean
    train_rows, test_rows = b[b.split == "train"], b[b.split == "test"].reset_index(drop=True)
    if train_rows.empty or test_rows.empty:
        raise ValueError("no Hyperband rows for train or test tasks: run notebook 03 (collection) first")
    signals = signals or variants(cfg, collected)
    test_tasks = sorted(test_rows.task.unique())
    train_tasks = sorted(t for t in train_rows.task.unique() if t in collected.posteriors)
    clean = {t: hyperband.clean_posteriors(collected.posteriors[t], k)[0] for t in list(train_tasks) + test_tasks
             if t in collected.posteriors}
    dists, scores, curves, importances, spans = {}, {}, [], {}, pd.DataFrame()
    for name, sig in signals.items():
        ctx = task_context(collected, sig)
        data, test = chain_data(train_rows, ctx), chain_data(test_rows, ctx)
        imp_tr, imp_te, preds = [], [], []
        for s in range(cfg.predict.seeds):
            model, curve = train_importance(data, epochs, seed=derive_seed(cfg.seed, "autobuild", sig.label, s))
            curves.append(pd.DataFrame({"method": name, "seed": s, "step": np.arange(len(curve)), "loss": curve}))
            shared = None if ctx else node_importance(model)  # without context one map serves every task
            imp_tr.append([shared if shared is not None else node_importance(model, ctx[t]) for t in train_tasks])
            imp_te.append({t: shared if shared is not None else node_importance(model, ctx[t]) for t in test_tasks})
            with torch.no_grad():
                preds.append(model(test.idx, test.context if ctx else None)[1].numpy())
            if spans.empty:
                spans = pd.concat([span_importance(model, (l, l + 1)) for l in range(N_LAYERS - 1)], ignore_index=True)
        tr_mean = [np.mean([imp[i] for imp in imp_tr], axis=0) for i in range(len(train_tasks))]
        te_mean = {t: np.mean([imp[t] for imp in imp_te], axis=0) for t in test_tasks}
        temp = fit_temperature(tr_mean, [clean[t] for t in train_tasks])
        dists[name] = {t: distribution(te_mean[t], temp) for t in test_tasks}
        scores[name] = np.mean(preds, axis=0)
        importances[name] = np.mean(list(te_mean.values()), axis=0)
    sizes = np.array([sum(parse_architecture(a).filters) for a in test_rows.arch])
    scores["Sum of filters"] = -sizes.astype(np.float64)
    smallest = from_indices([0] * N_LAYERS).id
    built = {"Sum of filters": {t: smallest for t in test_tasks}}
    for name in (exp.predictions if exp is not None else {}):
        if name in ("Uniform",):
            continue
        post = exp.task_posteriors(name)
        dists[name] = post
        scores[name] = np.concatenate([posterior_score(post[t], [a]) for t, a in zip(test_rows.task, test_rows.arch)])
    for name, d in dists.items():
        built[name] = {t: build(d[t]) for t in test_tasks}
    inst = pd.DataFrame([r for name, p in scores.items() for r in _rank_stats(test_rows, p, name)])
    built_df = pd.DataFrame([r for name, bt in built.items() for r in _built_rows(test_rows, bt, name)])
    mse = {name: np.mean([((d[t][None] - clean[t]) ** 2).mean() for t in test_tasks if len(clean.get(t, []))])
           for name, d in dists.items()}
    summary = inst.groupby("method", sort=False)[["spearman", "kendall", "overlap"]].mean()
    summary = summary.join(built_df.groupby("method")[["percentile", "distance"]].mean().add_prefix("built_"), how="outer")
    summary["posterior_mse"] = pd.Series(mse)
    summary["chance_overlap"] = float(test_rows[test_rows.rung == test_rows.rung.max()].groupby(["task", "sample"]).size().mean()
                                      / test_rows[test_rows.rung == 0].groupby(["task", "sample"]).size().mean())
    return Evaluation(summary.reset_index(names="method"), inst, built_df, importances, spans,
                      pd.concat(curves, ignore_index=True))
