"""Scoring trained controllers: Hyperband under each final prior (thesis Table 3.2) and summaries of training.

Source: Kossmann 2019 (thesis) section 3.2, Table 3.2 (mean hs of the Hyperband output under
the uniform, Exp 1 and Exp 2 priors) and Fig. 3.4-3.15 (training curves, priors over time).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.nas.space import N_LAYERS, N_OPTIONS, OPTIONS
from minas.study.controller.environment import Environment
from minas.study.controller.policy import COLLAPSE_PROB, Policy, collapsed, entropy, input_vector
from minas.study.controller.training import ControllerRun
from minas.study.stats import paired_test

THESIS_TABLE_3_2 = pd.DataFrame({  # thesis Table 3.2: mean hs of Hyperband output, 20 training sets
    "prior": ["uniform", "exp1", "exp2"], "thesis_mean": [0.504, 0.506, 0.463], "thesis_std": [0.014, 0.015, 0.000]})


def evaluate_priors(env: Environment, policies: dict[str, Policy | None], tasks: list[str], instances: int) -> pd.DataFrame:
    """Hyperband runs with every prior (None: uniform) on every task; one row per (prior, task, instance).

    avg_score is HS / survivors, the mean hs of the Hyperband output (thesis Table 3.2).
    """
    keys = [(name, t, k) for name in policies for t in tasks for k in range(instances)]
    pairs = sorted({(t, env.eval_input(t, k)) for _, t, k in keys}, key=lambda p: (p[0], p[1].id))
    feats = dict(zip(pairs, env.features(pairs))) if pairs else {}
    specs = []
    for name, t, k in keys:
        arch = env.eval_input(t, k)
        pol = policies[name]
        prior = None if pol is None else pol.priors(input_vector(arch, feats[(t, arch)])[None])[0]
        specs.append(env.eval_spec(f"controller-eval-{name}", t, k, prior))
    results = env.run(specs)
    return pd.DataFrame([{"prior": name, "task": t, "split": "test" if t in env.test_tasks else "train",
                          "instance": k, "input_arch": env.eval_input(t, k).id,
                          "hs": r.summed_score, "avg_score": r.summed_score / len(r.scores), "survivors": r.survivors}
                         for (name, t, k), r in zip(keys, results)])


def score_table(evals: pd.DataFrame) -> pd.DataFrame:
    """Per (split, prior): mean over tasks (each equally), the thesis spread (mean within-task std), std and sem across tasks."""
    per_task = evals.groupby(["split", "prior", "task"], sort=False)["avg_score"].agg(["mean", "std"]).reset_index()
    out = per_task.groupby(["split", "prior"], sort=False).agg(
        mean=("mean", "mean"), within_task_std=("std", "mean"), across_task_std=("mean", "std"), n_tasks=("task", "size"))
    out["sem"] = out["across_task_std"] / np.sqrt(out["n_tasks"])
    return out.reset_index()


def table_3_2(evals: pd.DataFrame) -> pd.DataFrame:
    """score_table beside the thesis's reported values (quoted for the training split only)."""
    table = score_table(evals).merge(THESIS_TABLE_3_2, on="prior", how="left")
    table.loc[table.split != "train", ["thesis_mean", "thesis_std"]] = np.nan
    return table


def compare_to_uniform(evals: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per (split, prior): paired over tasks, mean of (prior - uniform) per-task avg_score, its 95% CI
    (bootstrap over tasks, `stats.paired_test`) and a Wilcoxon p."""
    from scipy.stats import wilcoxon

    per_task = evals.groupby(["split", "prior", "task"])["avg_score"].mean().unstack("prior")
    rows = []
    for split, g in per_task.groupby(level="split"):
        for prior in [c for c in g.columns if c != "uniform"]:
            both = g[[prior, "uniform"]].dropna()
            d = both[prior] - both["uniform"]
            p = wilcoxon(d).pvalue if len(d) > 1 and (d != 0).any() else np.nan
            t = paired_test(both[prior], both["uniform"], seed=seed)
            rows.append({"split": split, "prior": prior, "diff_mean": d.mean(), "ci_low": t.ci_low, "ci_high": t.ci_high,
                         "wins": int((d > 0).sum()), "n_tasks": len(d), "wilcoxon_p": p})
    return pd.DataFrame(rows)


def history_frame(runs: dict[str, ControllerRun]) -> pd.DataFrame:
    """Long table for plots: experiment, iteration, metric (loss, reward, hs, entropy_l), value."""
    parts = []
    for name, r in runs.items():
        its = r.iterations.melt("iteration", ["loss", "reward"] + [f"entropy_{l}" for l in range(1, N_LAYERS + 1)], "metric")
        parts += [its.assign(experiment=name), r.visits[["iteration", "hs"]].melt("iteration", var_name="metric").assign(experiment=name)]
    return pd.concat(parts, ignore_index=True)


def prior_frame(runs: dict[str, ControllerRun]) -> pd.DataFrame:
    """Long table of the mean prior at the first, middle and last iteration: experiment, when, layer, filters, p."""
    rows = []
    for name, r in runs.items():
        n = len(r.priors)
        for when, it in (("first", 0), ("middle", (n - 1) // 2), ("last", n - 1)):
            rows += [{"experiment": name, "when": f"{when} (it. {it + 1})", "layer": l + 1, "filters": OPTIONS[o],
                      "p": r.priors[it, l, o]} for l in range(N_LAYERS) for o in range(N_OPTIONS)]
    return pd.DataFrame(rows)


def collapse_table(runs: dict[str, ControllerRun], threshold: float = COLLAPSE_PROB) -> pd.DataFrame:
    """Per experiment: final per-layer entropies, smallest layer max-prob, collapse flag, architecture, first iteration."""
    rows = []
    for name, r in runs.items():
        first = next((i + 1 for i, p in enumerate(r.priors) if collapsed(p, threshold) is not None), None)
        arch = collapsed(r.priors[-1], threshold)
        rows.append({"experiment": name, **{f"entropy_{l + 1}": e for l, e in enumerate(entropy(r.priors[-1]))},
                     "min_max_prob": float(r.priors[-1].max(-1).min()), "collapsed": arch is not None,
                     "architecture": arch.id if arch else "", "first_collapsed_iteration": first,
                     "input_spread": float(r.iterations.input_spread.iloc[-1])})
    return pd.DataFrame(rows)
