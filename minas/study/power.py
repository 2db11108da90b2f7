"""Power of Experiment 1's task-level test: the smallest planted effect on posterior MSE it detects.

Source: the planted collections of `minas.study.synthetic` (a per-layer signal whose strength is
set by hand), scored by the same code as notebook 04 (`predict.score_split`, thesis Kossmann 2019
sec. 3.1) and judged by the same statistic (`stats.task_test`: t-interval over test-task means).
The planted z-score has unit variance at every strength, which is its correlation with the task's
preference (0: noise; 1: the preference itself), so the network always sees inputs on a real
z-score's scale. For each planted strength, `reps` independent collections with the profile's numbers of tasks and
samples; the effect is NN + MI minus the same NN fed the same signal shuffled across all samples
of all tasks (test MSE; negative: the signal helps; the planted signal is a task's preference, so a
shuffle within a task would keep it). The shuffled twin keeps the inputs' distribution, so
strength 0 is a true null (an all-zero "architecture only" input is not: a net fed any noise column
trains differently). A detection is a t-interval lying wholly below 0 at the 95% level (alpha 0.05,
two-sided); the strength-0 row's detection rate is the test's false-positive rate. The same check
runs on the cross-validated design (`folds`), whose interval rests on every task. The
smallest mean effect whose detection rate reaches the target power is what the study could have
seen; the sign-flip test over n tasks cannot reach p < 2 / 2^n at all, which is reported beside.

`calibrated_power` (issue 23, item 5) plants in the measured world instead: a run's target floor and
gain G (`budget.signal_budget`) set the planted posteriors (`synthetic.calibrated_collected`), the
predictors train with the run's seeds and epochs (cfg.predict), statistics rest on source means as in
notebook 04, and each power comes with its Clopper-Pearson 95% interval over >= 40 repetitions. Beside
the one-sided detection rate (CI wholly below 0), the two-sided rejection rate (CI excluding 0) is
the false-positive rate at strength 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.core.seeding import rng_for
from minas.study.collection import signal_columns
from minas.study.predict import run_cross_validation, score_split
from minas.study.predict.experiment import compare
from minas.study.stats import binomial_interval, task_test
from minas.study.predict import task_sources
from minas.study.synthetic import TASK_WIDTHS, calibrated_collected, planted_gain, synthetic_collected

SIGNAL = {"NN + MI": "mi:mine_fast"}  # the planted signal, fed as notebook 04 feeds MI


def shuffled(col, method: str = "mine_fast", seed: int = 0):
    """The same collection with the method's columns permuted across all samples of all tasks (a null signal)."""
    s = col.samples.copy()
    cols = signal_columns(method) + signal_columns(method, standardized=True)
    s[cols] = s[cols].to_numpy()[rng_for(seed, "power-shuffle").permutation(len(s))]
    return type(col)(**{**col.__dict__, "samples": s})


def _planted_effect(cfg, col, null, seeds: int, epochs: int, folds: int):
    """Source-level test of NN + MI on `col` minus the same NN on its shuffled twin `null` (same pairs, same order;
    `experiment.compare`: crossed over predictor seeds when there are several, as notebook 04's comparisons).

    folds = 0: the collection's own train/test split (notebook 04's fixed split). folds = k: every task held out
    once, tasks dealt round-robin into k folds and scored by notebook 04's cross-validation code
    (`predict.run_cross_validation`), so the interval rests on every task rather than on the test split.
    """
    source = col.samples.groupby("task").source.first() if "source" in col.samples else None
    sources = dict(source) if source is not None else None
    if folds:
        tasks = sorted(col.samples.task.unique())
        groups = sorted(set(source)) if source is not None else tasks
        unit = {g: f"fold{i % folds}" for i, g in enumerate(groups)}  # whole sources dealt into folds
        families = {t: unit[source[t]] if source is not None else unit[t] for t in tasks}
        runs = [run_cross_validation(cfg, c, families, SIGNAL, seeds, epochs, by="family",
                                     sources=sources or {t: t for t in tasks}).errors for c in (col, null)]
    else:
        runs = [score_split(cfg, c, SIGNAL, seeds, epochs, gaussians=False)[2] for c in (col, null)]
    task_of = runs[0].drop_duplicates("pair").set_index("pair").task
    errors = pd.concat([runs[0], runs[1].assign(method=runs[1].method.where(runs[1].method != "NN + MI", "null"))])
    return compare(errors, "NN + MI", "null", task_of, sources)


def power_curve(cfg, n_train: int, n_test: int, n_samples: int, strengths=(0.0, 0.5, 0.8, 1.0), reps: int = 6,
                seeds: int = 1, epochs: int | None = None, folds: int = 0) -> pd.DataFrame:
    """Per planted strength: mean effect on test MSE, its spread, detection rate (power) over `reps` collections.

    strength: the planted z-score's correlation with the task's preference (`synthetic.synthetic_collected`).
    folds = 0 judges the fixed split (n_test task means); folds = k > 1 cross-validates over all
    n_train + n_test tasks in k folds (the design of notebook 04's leave-one-family-out rows, with k folds
    instead of one per family, so each fold trains on fewer tasks: a conservative stand-in).
    Columns: strength, effect (mean over reps of the mean task difference), effect_sd, power, n_tasks, reps, design.
    """
    if folds == 1 or folds < 0:
        raise ValueError(f"folds={folds}: use 0 for the fixed split or k >= 2 for k-fold over tasks")
    epochs = epochs or cfg.predict.epochs
    rows = []
    for strength in strengths:
        effects, hits, n_tasks = [], [], n_test
        for r in range(reps):
            col = synthetic_collected(n_train, n_test, n_samples, methods=("mine_fast",), seed=1000 * r + 7,
                                      strength=float(strength))
            t = _planted_effect(cfg, col, shuffled(col, seed=r), seeds, epochs, folds)
            effects.append(t.mean_diff)
            hits.append(bool(t.ci_high < 0))
            n_tasks = t.n_tasks
        low, high = binomial_interval(int(np.sum(hits)), reps)
        rows.append({"strength": float(strength), "effect": float(np.mean(effects)), "effect_sd": float(np.std(effects, ddof=1)),
                     "power": float(np.mean(hits)), "power_low": low, "power_high": high, "n_tasks": n_tasks, "reps": reps,
                     "design": f"{folds}-fold over tasks" if folds else "fixed split"})
    return pd.DataFrame(rows)


def calibrated_power(cfg, gain: float, floor: float, n_train: int, n_test: int, strengths=(0.0, 0.5, 1.0),
                     reps: int = 40, seeds: int | None = None, epochs: int | None = None, tasks_per_source: int = 1,
                     folds: int = 0, level: float = 0.95, sources: list | None = None) -> pd.DataFrame:
    """Power of notebook 04's test in a planted world with the run's measured `gain` (G) and target `floor`.

    Planted collections (`synthetic.calibrated_collected`) have the profile's samples per task and k
    (cfg.collection, cfg.hyperband.n_clean); predictors train cfg.predict.seeds x cfg.predict.epochs unless given.
    sources: each task's source, train tasks first (a real design's; else tasks_per_source tasks per source).
    The same `reps` collections serve every strength (common random numbers). Columns: strength, effect, effect_sd,
    power (CI wholly below 0) with power_low/power_high (Clopper-Pearson), rejected (CI excludes 0: at strength 0
    the false-positive rate) with its interval, s (mean over reps of se x sqrt(n_sources): the paired sd of the source
    differences, crossed predictor-seed noise included), n_tasks, n_sources, reps,
    gain, floor, seeds, epochs, design.
    """
    if reps < 1 or n_train < 1 or n_test < 1:
        raise ValueError(f"reps={reps}, n_train={n_train}, n_test={n_test}: each must be >= 1")
    seeds, epochs = seeds or cfg.predict.seeds, epochs or cfg.predict.epochs
    c, k = cfg.collection, cfg.hyperband.n_clean
    rows = []
    for strength in strengths:
        tests = []
        for r in range(reps):
            col = calibrated_collected(n_train, n_test, c.n_train_samples, c.n_test_samples, k, floor, gain,
                                       float(strength), seed=1000 * r + 11, tasks_per_source=tasks_per_source,
                                       sources=sources)
            tests.append(_planted_effect(cfg, col, shuffled(col, seed=r), seeds, epochs, folds))
        hits = sum(t.ci_high < 0 for t in tests)
        rejected = sum(t.ci_high < 0 or t.ci_low > 0 for t in tests)
        units = tests[0].n_sources
        s = [t.se * np.sqrt(units) for t in tests]  # the units' sd behind each interval, training noise included
        effects = [t.mean_diff for t in tests]
        rows.append({"strength": float(strength), "effect": float(np.mean(effects)), "effect_sd": float(np.std(effects, ddof=1)) if reps > 1 else np.nan,
                     "power": hits / reps, **dict(zip(("power_low", "power_high"), binomial_interval(hits, reps, level))),
                     "rejected": rejected / reps, **dict(zip(("rejected_low", "rejected_high"), binomial_interval(rejected, reps, level))),
                     "s": float(np.nanmean(s)), "n_tasks": tests[0].n_tasks, "n_sources": units, "reps": reps,
                     "gain": gain, "floor": floor, "seeds": seeds, "epochs": epochs,
                     "design": f"{folds}-fold over sources" if folds else "fixed split"})
    return pd.DataFrame(rows)


def own_power(cfg, exp, collected, gain: float, floor: float, strengths=(0.0, 1.0)) -> pd.DataFrame:
    """Power of notebook 04's own fixed-split test in the world it measured: `calibrated_power` with this run's G and
    floor (`budget.signal_budget`), its training and held-out tasks and their sources, cfg.predict.power_reps planted
    collections per strength. G outside what a planted world reaches (0 .. its largest) is clipped; column
    `gain_measured` keeps the run's own value."""
    src = task_sources(cfg, collected)
    test = sorted(np.unique(exp.test.task))
    train = sorted(set(collected.samples[collected.samples.split == "train"].task) - set(test))
    reachable = min(max(gain, 0.0), planted_gain(1.0, TASK_WIDTHS[-1]))
    table = calibrated_power(cfg, reachable, floor, len(train), len(test), strengths=strengths, reps=cfg.predict.power_reps,
                             sources=[src[t] for t in train + test])
    return table.assign(gain_measured=gain)


def detectable_effect(curve: pd.DataFrame, power: float = 0.8) -> float:
    """The smallest |effect| among strengths detected with at least `power`; NaN when none reaches it."""
    ok = curve[curve.power >= power]
    return float(ok.effect.abs().min()) if len(ok) else float("nan")


def power_summary(curve: pd.DataFrame, n_tasks: int, power: float = 0.8) -> str:
    """What a power curve says, in words: the smallest detected effect, or that none was detected (with the best
    power and where); and the strengths at which the planted signal made the predictor worse (effect > 0), since
    there a larger planted signal is not a more detectable one."""
    x = detectable_effect(curve, power)
    planted = curve[curve.strength > 0]
    if np.isfinite(x):
        out = f"We could have detected a planted improvement of {x:.2g} in test MSE (power >= {power} at alpha 0.05, {n_tasks} test tasks)"
    elif len(planted):
        best = planted.sort_values(["power", "strength"]).iloc[-1]
        out = (f"No planted strength was detected with power {power} ({n_tasks} test tasks; best power {best.power:.2f}, "
               f"at strength {best.strength:g}, mean effect {best.effect:+.2g} in test MSE)")
    else:
        out = "No planted strength was tried"
    worse = planted[planted.effect > 0]
    if len(worse):
        out += (f"; at strength{'s' if len(worse) > 1 else ''} " + ", ".join(f"{v:g}" for v in worse.strength) + " the planted signal made the predictor worse "
                "(mean effect " + ", ".join(f"{v:+.2g}" for v in worse.effect) + "), so a stronger signal was not a more "
                "detectable one (a sign that with this few training tasks the network learns no map that carries over to new tasks)")
    return out + "."


def min_signflip_p(n_tasks: int) -> float:
    """The smallest two-sided sign-flip p-value n task means can give: 2 / 2^n (all signs alike)."""
    return 2.0 / 2**n_tasks
