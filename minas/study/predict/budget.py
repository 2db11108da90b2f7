"""The signal budget of Experiment 1: the floor of clean targets, the input-free Gaussian's excess over it, the test's noise.

Source: issue 23 (item 1) and issue 31 on Kossmann 2019 (thesis) sec. 3.1. One unit throughout: MSE on the per-layer
scale (each layer of a posterior sums to 1, the squared error averaged over the 92 entries; the thesis's scale is
this / 16). A clean target of a task is the mean of k Hyperband posteriors (`hyperband.clean_posteriors`), each drawn
around the task's expected posterior mu with per-entry variance sigma^2 = dirty / 2 (`hyperband.noise_level` is the
mean pairwise MSE, 2 sigma^2). Any prediction fixed before the target is drawn has E MSE = MSE(prediction, mu) +
sigma^2 / k, so no predictor goes below the floor dirty / (2k), whether or not the C(n, k) targets of a task overlap
(`predictors.task_noise`). Then:
- G = MSE(input-free fitted Gaussian) - floor: the Gaussian's shape misfit, its fit noise and any task-specific
  variance together. Only the last is a signal's to remove, and the gate measures it (`gate.gate_table`: tau^2 per
  entry of the expected posterior); a better input-free shape could remove the misfit with no signal at all. G is
  therefore not "what a perfect signal could gain" (issue 31). Its 95% t-interval is over independent image sources.
- s: the paired sd, over the same held-out source means, of the difference of two NN predictors (default
  NN + MI minus NN + arch only): the noise any "signal X helps" must clear. It is the comparison's own standard
  error x sqrt(n_sources) (`predict.experiment.compare`), so with several predictor seeds it includes the shift
  two trainings share.
- G / s against `needed_effect(n, df)`, the standardized effect that comparison's two-sided t-test (at its own df:
  Satterthwaite's when crossed over predictor seeds) detects with power 0.8 at alpha 0.05 (noncentral t; Cohen 1988).
`verdict` reads all of it through the gate: where tau^2's interval includes 0 there is nothing task-specific to
predict in this design, and the verdict makes no claim about signals.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.study.predict.experiment import compare
from minas.stats import mean_interval, needed_effect
from minas.study.predict.gate import gate_judged, gate_open, gate_sentence

UNIT = "MSE, per-layer scale (each layer's posterior sums to 1; mean over 92 entries; thesis scale = this / 16)"


@dataclass
class SignalBudget:
    """Floor, the input-free Gaussian's excess G over it, paired sd s of NN differences, and G / s, in one unit (UNIT)."""

    k: int  # posteriors per clean target
    n_tasks: int  # held-out tasks
    n_sources: int  # independent source means behind every interval here
    dirty: float  # mean over sources of the posteriors' dirty noise
    floor: float  # dirty / (2k), mean over sources
    floor_low: float
    floor_high: float
    gaussian: float  # test MSE of the input-free fitted Gaussian, mean over sources
    gain: float  # G = gaussian - floor: misfit + fit noise + task-specific variance
    gain_low: float
    gain_high: float
    s: float  # sd over source means of (a - b)
    a: str
    b: str
    g_over_s: float
    needed: float  # G / s the a - b test (at its df) detects with power 0.8 (alpha 0.05, two-sided)
    per_task: pd.DataFrame  # task, source, dirty, floor, gaussian, gain, diff (a - b)
    unit: str = UNIT
    df: float = np.nan  # degrees of freedom of the a - b test behind `needed`


def signal_budget(result, a: str = "NN + MI", b: str = "NN + arch only", baseline: str = "Fitted Gaussian",
                  level: float = 0.95) -> SignalBudget:
    """The budget of an Experiment 1 (`predict.run_experiment`) or cross-validation result, over its held-out tasks."""
    noise = getattr(result, "task_noise", None)
    if noise is None or noise.empty:
        raise ValueError("the result carries no task_noise: rerun notebook 04 (predict.run_experiment) with this version")
    err = result.errors
    missing = [m for m in (a, b, baseline) if m not in set(err.method)]
    if missing:
        raise ValueError(f"methods {missing} are not in the result; it has {sorted(set(err.method))}")
    per_pair = err.groupby(["method", "pair"]).mse.mean().unstack("method")  # (P, methods), seed-mean
    task_of = err.drop_duplicates("pair").set_index("pair").task
    tasks = task_of.loc[per_pair.index].to_numpy()
    frame = pd.DataFrame({"task": tasks, "gaussian": per_pair[baseline].to_numpy(),
                          "diff": (per_pair[a] - per_pair[b]).to_numpy()}).groupby("task").mean()
    noise = noise.set_index("task")
    frame = frame.join(noise[["source", "dirty", "floor"]], how="left")
    if frame.floor.isna().any():
        raise ValueError(f"no dirty noise for tasks {list(frame.index[frame.floor.isna()])}: each needs >= 2 posteriors")
    sources = getattr(result, "sources", None) or {}
    frame["source"] = [sources.get(t, s) for t, s in zip(frame.index, frame.source)]
    frame["gain"] = frame.gaussian - frame.floor
    by_source = frame.groupby("source")[["dirty", "floor", "gaussian", "gain", "diff"]].mean()  # (n_sources, 5)
    n = len(by_source)
    floor, f_lo, f_hi = mean_interval(by_source.floor, level)
    gain, g_lo, g_hi = mean_interval(by_source.gain, level)
    test = compare(err, a, b, task_of, sources) if n > 1 else None
    s = test.se * np.sqrt(n) if test is not None else float("nan")
    df = test.df if test is not None else float("nan")
    return SignalBudget(int(noise.k.iloc[0]), len(frame), n, float(by_source.dirty.mean()), floor, f_lo, f_hi,
                        float(by_source.gaussian.mean()), gain, g_lo, g_hi, s, a, b,
                        gain / s if s > 0 else float("nan"), needed_effect(n, df=df),
                        frame.reset_index()[["task", "source", "dirty", "floor", "gaussian", "gain", "diff"]], UNIT, df)


def budget_table(budget: SignalBudget) -> pd.DataFrame:
    """The budget as one table (quantity, value, ci_low, ci_high), every MSE in `budget.unit`."""
    b = budget
    rows = [("target floor dirty/(2k)", b.floor, b.floor_low, b.floor_high),
            ("input-free Gaussian", b.gaussian, np.nan, np.nan),
            ("G = Gaussian - floor (misfit + fit noise + task-specific)", b.gain, b.gain_low, b.gain_high),
            (f"s: sd of {b.a} - {b.b} over sources", b.s, np.nan, np.nan),
            ("G / s", b.g_over_s, np.nan, np.nan),
            (f"G / s needed (power 0.8, {b.n_sources} sources, df {b.df:.3g})", b.needed, np.nan, np.nan)]
    return pd.DataFrame(rows, columns=["quantity", "value", "ci_low", "ci_high"]).assign(
        n_sources=b.n_sources, n_tasks=b.n_tasks, k=b.k)


def verdict(budget: SignalBudget, gate: pd.DataFrame | None = None) -> str:
    """The sentence a report opens with: the gate first (`gate.gate_table`), then G, its CI, G / s and the G / s the
    test needs. Where the gate is shut (tau^2's interval includes 0) it says so and makes no claim about signals."""
    b = budget
    where = f"{b.n_tasks} held-out tasks from {b.n_sources} independent sources; {b.unit}"
    g = (f"G = {b.gain:.2g} (95% CI [{b.gain_low:+.2g}, {b.gain_high:+.2g}]), {b.gain / b.gaussian:.1%} of the "
         f"input-free Gaussian's {b.gaussian:.3g}; floor dirty/(2k) = {b.floor:.3g} at k = {b.k}")
    misfit = ("G mixes the Gaussian's shape misfit and fit noise with task-specific variance, and only the last is a "
              "signal's to remove")
    if gate is not None and not gate_judged(gate):
        return (f"First: whether the target differs between tasks cannot be judged here. {gate_sentence(gate)} So this "
                "run makes no claim about any signal (MI, accuracy or a proxy). For the record, the input-free "
                f"Gaussian's excess over the floor is {g} ({where}); {misfit}.")
    if gate is not None and not gate_open(gate):
        return (f"First: there is nothing task-specific to predict in this design. {gate_sentence(gate)} The interval of "
                "tau^2, the between-task variance of the expected posterior, includes 0 both per layer and per entry, so "
                "this run makes no claim about any signal (MI, accuracy or a proxy): no comparison below can show one "
                f"helping or failing. For the record, the input-free Gaussian's excess over the floor is {g} ({where}); "
                f"{misfit}.")
    opened = f"{gate_sentence(gate)} " if gate is not None else ""
    if not np.isfinite(b.gain_low) or not np.isfinite(b.g_over_s):
        return (f"{opened}The signal budget cannot be judged with {b.n_sources} independent source(s) ({where}): {g}. "
                "No comparison below can be read as evidence either way.")
    if b.gain_low <= 0:
        return (f"First: this target leaves no measurable task-specific signal. {opened}The input-free Gaussian's excess "
                f"over the floor is {g} ({where}); G is not distinguishable from 0, so no predictor could be shown "
                "to beat the input-free Gaussian, and every comparison below is absence of evidence.")
    if b.g_over_s < b.needed:
        return (f"First: even a perfect per-layer signal would likely go unseen here. {opened}{g} ({where}); {misfit}, so "
                f"even all of G is G/s = {b.g_over_s:.2f} paired sds of {b.a} minus {b.b} (s = {b.s:.2g}), below the "
                f"{b.needed:.2f} their test (df {b.df:.3g}, {b.n_sources} sources) needs for power 0.8. A null comparison "
                "below is absence of evidence.")
    return (f"A perfect per-layer signal could be visible here, if G were all task-specific: {g} ({where}); "
            f"G/s = {b.g_over_s:.2f} (s = {b.s:.2g}) reaches the {b.needed:.2f} the test (df {b.df:.3g}, "
            f"{b.n_sources} sources) needs for power 0.8. {misfit}: read the comparisons below with the gate. {opened}").strip()
