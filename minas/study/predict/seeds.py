"""Experiment 1 across collection seeds: how far its verdict moves with another collection.

Source: Kossmann 2019 (thesis), sec. 3.1 scored Experiment 1 on one collection. `collection.seeds`
repeats the whole collection (architecture draws, trainings, MI estimates, Hyperband instances;
`collection.seed_configs`), and this module pools the paired comparisons of one Experiment 1 per
collection seed. The unit of evidence stays the held-out task: per collection seed, a - b of test
MSE is averaged within each task (pairs averaged over predictor seeds first, as in
`experiment._comparisons`); those (seed, task) differences are averaged over seeds within each task,
then within each image source, and the t-interval and sign-flip p (`stats.task_test`) rest on the
source means. The between-seed sd
of each collection's own mean difference says how much one collection's verdict moves with another.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.study.collection import load_collected, seed_configs
from minas.study.predict.experiment import Experiment1, _clusters, run_experiment
from minas.stats import task_test

UNIT = "per-task a - b averaged over collection seeds, then per source (t-interval and sign-flip p over source means)"


@dataclass
class SeedPooling:
    """Experiment 1's comparisons pooled over collection seeds."""

    table: pd.DataFrame  # a, b, unit, n (test pairs over all seeds), n_tasks, n_sources, n_seeds, mean_diff, ci_low, ci_high, p_signflip,
                         # sd_between_seeds, seed_min, seed_max (range of the collections' own mean differences)
    per_task: pd.DataFrame  # a, b, seed, task, pairs, diff: a - b of test MSE per (collection seed, held-out task)
    by_seed: pd.DataFrame  # each collection's own comparisons (experiment.comparisons) with its seed
    seeds: list  # the collection seeds (profile seed + i)


def task_differences(exp: Experiment1, pairs: list | None = None) -> pd.DataFrame:
    """a - b of test MSE per held-out task of one Experiment 1 (pairs averaged over predictor seeds, then per task;
    column `pairs`: how many test pairs each task mean holds), for each (a, b) of `pairs` (default: the comparisons
    the experiment made, `exp.comparisons`)."""
    pairs = _made(exp) if pairs is None else pairs
    per_pair = exp.errors.groupby(["method", "pair"]).mse.mean().unstack("method")  # (P, methods), seed-mean
    tasks = exp.test.task[per_pair.index.to_numpy()]
    rows = []
    for a, b in pairs:
        if a not in per_pair or b not in per_pair:
            continue
        d = (per_pair[a] - per_pair[b]).to_numpy(np.float64)  # (P,)
        ok = np.isfinite(d)
        g = pd.Series(d[ok]).groupby(tasks[ok])
        rows += [{"a": a, "b": b, "task": str(t), "pairs": int(n), "diff": float(v)} for (t, v), n in zip(g.mean().items(), g.size())]
    return pd.DataFrame(rows, columns=["a", "b", "task", "pairs", "diff"])


def _made(exp: Experiment1) -> list[tuple[str, str]]:
    return list(zip(exp.comparisons.a, exp.comparisons.b))


def pool_seeds(exps: list[Experiment1], seeds: list[int], pairs: list | None = None, seed: int = 0) -> SeedPooling:
    """Pool one Experiment 1 per collection seed: per-task differences averaged over seeds, statistics over tasks
    (pairs: the (a, b) to pool; default the comparisons the first experiment made)."""
    if len(exps) != len(seeds) or not exps:
        raise ValueError(f"one Experiment 1 per collection seed: got {len(exps)} results for seeds {list(seeds)}")
    pairs = _made(exps[0]) if pairs is None else pairs
    per_task = pd.concat([task_differences(e, pairs).assign(seed=int(s)) for e, s in zip(exps, seeds)], ignore_index=True)
    per_task = per_task[["a", "b", "seed", "task", "pairs", "diff"]]
    sources = {t: s for e in exps for t, s in (e.sources or {}).items()}
    rows = []
    for a, b in pairs:
        g = per_task[(per_task.a == a) & (per_task.b == b)]
        if g.empty:
            continue
        t = task_test(g["diff"].to_numpy(), np.zeros(len(g)), g.task.to_numpy(), seed=seed,  # crossed: seeds x sources
                      clusters=_clusters(g.task.to_numpy(), sources), replicates=g.seed.to_numpy())
        own = g.groupby("seed")["diff"].mean()  # (n_seeds,) each collection's own mean difference over its tasks
        rows.append(dict(a=a, b=b, unit=UNIT, n=int(g.pairs.sum()), n_tasks=t.n_tasks, n_sources=t.n_sources,
                         n_seeds=int(g.seed.nunique()), mean_diff=t.mean_diff,
                         ci_low=t.ci_low, ci_high=t.ci_high, p_signflip=t.p_signflip,
                         sd_between_seeds=float(own.std(ddof=1)) if len(own) > 1 else np.nan,
                         seed_min=float(own.min()), seed_max=float(own.max())))
    table = pd.DataFrame(rows, columns=["a", "b", "unit", "n", "n_tasks", "n_sources", "n_seeds", "mean_diff", "ci_low", "ci_high",
                                        "p_signflip", "sd_between_seeds", "seed_min", "seed_max"])
    by_seed = pd.concat([e.comparisons.assign(seed=int(s)) for e, s in zip(exps, seeds)], ignore_index=True)
    return SeedPooling(table, per_task.reset_index(drop=True), by_seed, [int(s) for s in seeds])


def seed_experiments(cfg, store, first: Experiment1 | None = None) -> list[Experiment1]:
    """Experiment 1 on each collection seed's collection (`collection.seed_configs`); `first`: the profile seed's, if run."""

    out = []
    for i, c in enumerate(seed_configs(cfg)):
        out.append(first if i == 0 and first is not None else run_experiment(c, load_collected(c, store)))
    return out


def run_seed_pooling(cfg, store, first: Experiment1 | None = None) -> SeedPooling:
    """Experiment 1 per collection seed (reusing `first` for the profile seed), pooled by `pool_seeds`."""

    seeds = [c.seed for c in seed_configs(cfg)]
    return pool_seeds(seed_experiments(cfg, store, first), seeds, seed=cfg.seed)


def pooling_note(p: SeedPooling) -> str:
    """One sentence: how many tasks and collection seeds carry each pooled CI, and how far the collections disagree."""
    t = p.table
    if t.empty:
        return "No comparison could be pooled over collection seeds."
    sd = ", ".join(f"{r.a} minus {r.b} {r.sd_between_seeds:.2g} (collections' own means {r.seed_min:.2g} to {r.seed_max:.2g})"
                   for r in t.itertuples())
    return (f"Each 95% CI rests on {int(t.n_sources.min())}" + (f"-{int(t.n_sources.max())}" if t.n_sources.nunique() > 1 else "")
            + f" independent source means of {int(t.n_tasks.max())} held-out task means, each task's the mean over "
            f"{int(t.n_seeds.max())} collection seeds (seeds {p.seeds}): "
            "the whole collection (architecture draws, trainings, MI estimates, Hyperband instances) was repeated per seed. "
            f"Between-seed sd of each difference: {sd}.")
