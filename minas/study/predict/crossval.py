"""Experiment 1 cross-validated over task families: every task held out once, never beside its own family.

Source: Kossmann 2019 (thesis), sec. 3.1, scored on one fixed split of data sets; this module is the
issue-14 check on that split. Leave-one-family-out: for each family (`Task.family`, e.g. all tasks
derived by one transform of one source), the predictors are trained on the tasks of every other
family and scored on that family's tasks. A held-out task therefore never shares a family with a
task the predictor saw. The evidence is per task: each task's test pairs share its clean targets,
so a method's error is first averaged within the task, and intervals and p-values
(`stats.task_test`: t-interval over task means, sign-flip permutation p) rest on the task count.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.study.predict.experiment import COMPARED, _comparisons, default_signals, score_split
from minas.study.stats import mean_interval

CV_METHODS = ("NN + MI", "NN + MI (raw)", "NN + accuracy", "NN + accuracy (z)", "NN + arch only")  # trained per fold


@dataclass
class CrossValidation:
    """Leave-one-family-out Experiment 1: per-fold errors, a table over tasks and task-level comparisons."""

    folds: pd.DataFrame  # family, tasks (held out), n_train_tasks, n_test_pairs, skipped
    errors: pd.DataFrame  # method, seed, family, task, pair (unique over folds), mse
    table: pd.DataFrame  # method, n_tasks, test_mse (mean of task means), ci_low, ci_high (t-interval over tasks)
    comparisons: pd.DataFrame  # a, b, unit, n, n_tasks, mean_diff, ci_low, ci_high, p_signflip
    seeds: int  # predictor trainings per (fold, signal)
    epochs: int  # predictor epochs per training


def cv_signals(collected, primary: str | None = None) -> dict:
    """The signals trained per fold: the thesis's two NNs, their like-for-like twins and the architecture alone."""
    return {k: v for k, v in default_signals(collected, primary).items() if k in CV_METHODS}


def task_means(errors: pd.DataFrame) -> pd.DataFrame:
    """(tasks, methods) test MSE: pairs averaged over seeds, then over the task's pairs."""
    per_pair = errors.groupby(["method", "task", "pair"]).mse.mean()
    return per_pair.groupby(["task", "method"]).mean().unstack("method")


def _interval_table(means: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    rows = []
    for method in means.columns:
        v = means[method].dropna().to_numpy(np.float64)
        m, low, high = mean_interval(v, level)
        rows.append({"method": method, "n_tasks": len(v), "test_mse": m, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows).sort_values("test_mse").reset_index(drop=True)


def run_cross_validation(cfg, collected, families: dict, signals: dict | None = None, seeds: int = 1,
                         epochs: int | None = None) -> CrossValidation:
    """Leave-one-family-out Experiment 1 over every collected task (train and held-out alike).

    families: task -> family name (`data.get_task(cfg, t).family`). seeds and epochs of the per-fold
    predictor trainings (defaults: 1 seed, cfg.predict.epochs) keep the cost of n_families folds in check.
    """
    signals = signals or cv_signals(collected, cfg.mi.signals[0])
    epochs = epochs or cfg.predict.epochs
    tasks = collected.samples.task
    names = sorted(tasks.unique())
    missing = [t for t in names if t not in families]
    if missing:
        raise ValueError(f"no family for tasks {missing}: pass families = {{task: data.get_task(cfg, task).family}}")
    folds, errors, offset = [], [], 0
    for family in sorted({families[t] for t in names}):
        held = [t for t in names if families[t] == family]
        fold = dataclasses.replace(collected, samples=collected.samples.assign(
            split=np.where(tasks.isin(held), "test", "train")))
        try:
            _, _, err, _, te = score_split(cfg, fold, signals, seeds, epochs)
        except ValueError as e:  # e.g. a held-out task with fewer than n_clean posteriors
            folds.append({"family": family, "tasks": ", ".join(held), "n_train_tasks": len(names) - len(held),
                          "n_test_pairs": 0, "skipped": str(e)})
            continue
        errors.append(err.assign(family=family, pair=err.pair + offset))
        offset += len(te)
        folds.append({"family": family, "tasks": ", ".join(held), "n_train_tasks": len(names) - len(held),
                      "n_test_pairs": len(te), "skipped": ""})
    if not errors:
        raise ValueError("no fold could be scored: every task needs >= hyperband.n_clean posteriors")
    errors = pd.concat(errors, ignore_index=True)
    pair_task = errors.drop_duplicates("pair").set_index("pair").task.sort_index()
    comparisons = _comparisons(errors, None, cfg.seed, COMPARED, pair_task=pair_task)
    return CrossValidation(pd.DataFrame(folds), errors, _interval_table(task_means(errors)), comparisons, seeds, epochs)
