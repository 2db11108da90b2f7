"""Scoring trained controllers: Hyperband under each final prior (thesis Table 3.2) and summaries of training.

Source: Kossmann 2019 (thesis) section 3.2, Table 3.2 (mean hs of the Hyperband output under
the uniform, Exp 1 and Exp 2 priors) and Fig. 3.4-3.15 (training curves, priors over time). Not in
the thesis: every prior is scored on the same draws (common random numbers), Exp 1 also as trained
(half its inputs from the prior), and over several controller runs with a t-interval across them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.core.keys import eval_tag
from minas.nas.space import N_LAYERS, N_OPTIONS, OPTIONS
from minas.study.controller.environment import Environment
from minas.study.controller.policy import (
    COLLAPSE_PROB,
    EXPERIMENTS,
    Policy,
    collapsed,
    entropy,
    input_vector,
)
from minas.study.controller.records import ControllerRun
from minas.stats import cluster_means, mean_interval

THESIS_TABLE_3_2 = pd.DataFrame({  # thesis Table 3.2: mean hs of Hyperband output, 20 training sets
    "prior": ["uniform", "exp1", "exp2"], "thesis_mean": [0.504, 0.506, 0.463], "thesis_std": [0.014, 0.015, 0.000]})


def evaluate_priors(env: Environment, policies: dict[str, Policy | None], tasks: list[str], instances: int,
                    run: int = 0, as_trained: bool = True) -> pd.DataFrame:
    """Hyperband runs with every prior (None: uniform) on every task; one row per (prior, task, instance).

    Common random numbers: bracket k of a task draws its inputs from the same uniforms under every
    prior and controller run (`env.eval_spec`), so priors are paired per (task, k). Each policy is
    scored with all N inputs from its prior (thesis Table 3.2); with `as_trained`, an experiment that
    trained on a share < 1 (Exp 1) is also scored that way, as `<name>_as_trained`. `run` is the
    controller run the policies come from (column controller_run; -1 on uniform rows). avg_score is
    HS / survivors, the mean hs of the Hyperband output (thesis Table 3.2).
    """
    keys, specs = _eval_specs(env, policies, tasks, instances, run, as_trained)
    return _eval_frame(env, policies, keys, env.run(specs), run)


def _eval_specs(env: Environment, policies: dict[str, Policy | None], tasks: list[str], instances: int, run: int,
                as_trained: bool) -> tuple[list, list]:
    """evaluate_priors up to Hyperband: ((label, policy name, share), task, k) per instance and its spec."""
    labels = []  # (label, policy name, share of the inputs from the prior)
    for name, pol in policies.items():
        labels.append((name, name, 1.0))
        if as_trained and pol is not None and EXPERIMENTS.get(name, 1.0) < 1.0:
            labels.append((f"{name}_as_trained", name, EXPERIMENTS[name]))
    keys = [(lab, t, k) for lab in labels for t in tasks for k in range(instances)]
    pairs = sorted({(t, env.eval_input(t, k)) for _, t, k in keys}, key=lambda p: (p[0], p[1].id))
    feats = dict(zip(pairs, env.features(pairs))) if pairs else {}
    specs = []
    for (label, name, share), t, k in keys:
        arch, pol = env.eval_input(t, k), policies[name]
        prior = None if pol is None else pol.priors(input_vector(arch, feats[(t, arch)])[None])[0]
        tag = eval_tag(label, run if pol is not None else 0)
        specs.append(env.eval_spec(tag, t, k, prior, share))
    return keys, specs


def _eval_frame(env: Environment, policies: dict[str, Policy | None], keys: list, results: list, run: int) -> pd.DataFrame:
    return pd.DataFrame([{"prior": label, "task": t, "split": "test" if t in env.test_tasks else "train",
                          "instance": k, "input_arch": env.eval_input(t, k).id,
                          "hs": r.summed_score, "avg_score": r.summed_score / len(r.scores), "survivors": r.survivors,
                          "controller_run": -1 if policies[name] is None else run, "share": share}
                         for ((label, name, share), t, k), r in zip(keys, results)])


def evaluate_runs(env: Environment, runs: dict[tuple[str, int], ControllerRun], tasks: list[str], instances: int) -> pd.DataFrame:
    """evaluate_priors for the uniform prior once and every (experiment, controller run)'s final policy, one frame;
    every instance of every run goes to Hyperband in one call (side by side)."""
    parts = [({"uniform": None, **{e: r.policy for (e, s), r in runs.items() if s == 0}}, 0)]
    parts += [({e: r.policy for (e, s2), r in runs.items() if s2 == s}, s) for s in sorted({s for _, s in runs} - {0})]
    plans = [(policies, run, *_eval_specs(env, policies, tasks, instances, run, True)) for policies, run in parts]
    results = env.run([spec for *_, specs in plans for spec in specs])
    frames, at = [], 0
    for policies, run, keys, specs in plans:
        frames.append(_eval_frame(env, policies, keys, results[at : at + len(specs)], run))
        at += len(specs)
    return pd.concat(frames, ignore_index=True)


def seed_table(evals: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (split, prior): mean over controller runs of the mean avg_score over tasks, and its difference to uniform
    (paired: same tasks, same draws), each with a t-interval across controller runs (NaN with one run)."""
    per_run = (evals.groupby(["split", "prior", "controller_run", "task"])["avg_score"].mean()
               .groupby(["split", "prior", "controller_run"]).mean().rename("run_mean").reset_index())
    uni = per_run[per_run.prior == "uniform"].set_index("split").run_mean
    per_run["diff"] = per_run.run_mean - per_run.split.map(uni)
    rows = []
    for (split, prior), g in per_run.groupby(["split", "prior"], sort=False):
        mean, lo, hi = mean_interval(g.run_mean, level)
        diff, dlo, dhi = mean_interval(g["diff"], level)
        rows.append({"split": split, "prior": prior, "n_runs": len(g), "n_tasks": int(evals[(evals.split == split) & (evals.prior == prior)].task.nunique()),
                     "mean": mean, "ci_low": lo, "ci_high": hi, "diff_mean": diff, "diff_ci_low": dlo,
                     "diff_ci_high": dhi, "runs_above_uniform": int((g["diff"] > 0).sum())})
    return pd.DataFrame(rows)


def score_table(evals: pd.DataFrame) -> pd.DataFrame:
    """Per (split, prior): mean over tasks (each equally), the thesis spread (mean within-task std), std and sem across tasks.

    A task's rows are all its evaluation runs of every controller run (within_task_std spans both).
    """
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


def compare_to_uniform(evals: pd.DataFrame, sources: dict | None = None) -> pd.DataFrame:
    """Per (split, prior): paired over tasks, mean of (prior - uniform) per-task avg_score, its 95% t-interval
    (`stats.mean_interval`) and a Wilcoxon p. sources (task -> image source): the tasks of one source are averaged
    first and the interval and p are over those source means, the independent units (`n_sources`)."""
    from scipy.stats import wilcoxon

    per_task = evals.groupby(["split", "prior", "task"])["avg_score"].mean().unstack("prior")
    rows = []
    for split, g in per_task.groupby(level="split"):
        for prior in [c for c in g.columns if c != "uniform"]:
            both = g[[prior, "uniform"]].dropna()
            d = both[prior] - both["uniform"]
            tasks = list(d.index.get_level_values("task"))
            units = cluster_means(d.to_numpy(), tasks, [sources.get(t, t) for t in tasks] if sources else None)[0]
            p = wilcoxon(units).pvalue if len(units) > 1 and (units != 0).any() else np.nan
            _, lo, hi = mean_interval(units)
            rows.append({"split": split, "prior": prior, "diff_mean": units.mean(), "ci_low": lo, "ci_high": hi,
                         "wins": int((d > 0).sum()), "n_tasks": len(d), "n_sources": len(units), "wilcoxon_p": p})
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
