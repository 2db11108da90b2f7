"""Power of Experiment 1's test in the world a run measured: how often it detects a planted per-layer signal.

Source: planted collections (`minas.study.predict.synthetic.calibrated_collected`) whose target floor and gain G
are a run's own (`budget.signal_budget`: G = MSE of the input-free fitted Gaussian minus the floor), scored
by the same code as notebook 04 (`predict.score_split`, thesis Kossmann 2019 sec. 3.1) with the run's
predictor seeds and epochs, and judged by the same statistic (source means, crossed over predictor seeds).
The planted z-score has unit variance at every strength, which is its correlation with the task's
preference (0: noise; 1: the preference itself, a perfect per-layer signal). The effect is NN + signal minus
the same NN fed the signal shuffled across all samples of all tasks: the shuffled twin keeps the inputs'
distribution, so strength 0 is a true null. A detection is a 95% interval wholly below 0; the two-sided
rejection rate (interval excluding 0) at strength 0 is the false-positive rate. Every rate comes with its
Clopper-Pearson 95% interval over the repetitions. `folds` judges the cross-validated design instead
(whole sources held out), whose interval rests on every task. Every cell (strength, gain, floor, design, rep) draws
its planted collection from its own seed (issue 31, item 3: cells shared one, so their errors were not independent).
`refit_size` measures the null rejection rate of the permutation-with-refit test of Gaussian + X (`refit`) beside
the t-interval's, at any number of held-out sources.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.core.seeding import derive_seed, rng_for
from minas.study.collection import signal_columns
from minas.study.predict import lineup, run_cross_validation, score_split, task_sources
from minas.study.predict.experiment import compare
from minas.stats import binomial_interval, task_test
from minas.study.predict.refit import gaussian_refit_test
from minas.study.predict.synthetic import TASK_WIDTHS, calibrated_collected, planted_gain

SIGNAL = lineup(["mine_fast"], names=["NN + MI"])  # the planted signal, fed as notebook 04 feeds MI (z-scored)
PREDICTORS = ("NN + MI", "Gaussian + MI")  # whose test the power is of


def shuffled(col, method: str = "mine_fast", seed: int = 0):
    """The same collection with the method's columns permuted across all samples of all tasks (a null signal)."""
    s = col.samples.copy()
    cols = signal_columns(method) + signal_columns(method, standardized=True)
    s[cols] = s[cols].to_numpy()[rng_for(seed, "power-shuffle").permutation(len(s))]
    return type(col)(**{**col.__dict__, "samples": s})


def _planted_effect(cfg, col, null, seeds: int, epochs: int, folds: int, predictor: str = "NN + MI"):
    """Source-level test of `predictor` on `col` minus the same predictor on its shuffled twin `null` (same pairs,
    same order; `experiment.compare`: crossed over predictor seeds when there are several, as notebook 04's
    comparisons). predictor: "NN + MI" (the thesis MLP) or "Gaussian + MI" (the 20-parameter fitted Gaussian whose
    per-layer mean and width are linear in the signal; fixed split only).

    folds = 0: the collection's own train/test split (notebook 04's fixed split). folds = k: every task held out
    once, tasks dealt round-robin into k folds and scored by notebook 04's cross-validation code
    (`predict.run_cross_validation`), so the interval rests on every task rather than on the test split.
    """
    source = col.samples.groupby("task").source.first() if "source" in col.samples else None
    sources = dict(source) if source is not None else None
    if predictor not in PREDICTORS or (folds and predictor != "NN + MI"):
        raise ValueError(f"predictor {predictor!r}: one of {PREDICTORS} (cross-validated folds: NN + MI only)")
    if folds:
        tasks = sorted(col.samples.task.unique())
        groups = sorted(set(source)) if source is not None else tasks
        unit = {g: f"fold{i % folds}" for i, g in enumerate(groups)}  # whole sources dealt into folds
        families = {t: unit[source[t]] if source is not None else unit[t] for t in tasks}
        runs = [run_cross_validation(cfg, c, families, SIGNAL, seeds, epochs, by="family",
                                     sources=sources or {t: t for t in tasks}).errors for c in (col, null)]
    else:
        chosen = lineup(["mine_fast"], names=[predictor])
        runs = [score_split(cfg, c, chosen, seeds, epochs)[2] for c in (col, null)]
    task_of = runs[0].drop_duplicates("pair").set_index("pair").task
    errors = pd.concat([runs[0], runs[1].assign(method=runs[1].method.where(runs[1].method != predictor, "null"))])
    return compare(errors, predictor, "null", task_of, sources)


def calibrated_power(cfg, gain: float, floor: float, n_train: int, n_test: int, strengths=(0.0, 0.5, 1.0),
                     reps: int = 40, seeds: int | None = None, epochs: int | None = None, tasks_per_source: int = 1,
                     folds: int = 0, level: float = 0.95, sources: list | None = None,
                     predictor: str = "NN + MI") -> pd.DataFrame:
    """Power of notebook 04's test in a planted world with the run's measured `gain` (G) and target `floor`.

    Planted collections (`synthetic.calibrated_collected`) have the profile's samples per task and k
    (cfg.collection, cfg.hyperband.n_clean); predictors train cfg.predict.seeds x cfg.predict.epochs unless given.
    sources: each task's source, train tasks first (a real design's; else tasks_per_source tasks per source).
    Every (strength, gain, floor, tasks, rep) cell draws its collection from its own seed. Columns: strength, effect, effect_sd,
    power (CI wholly below 0) with power_low/power_high (Clopper-Pearson), rejected (CI excludes 0: at strength 0
    the false-positive rate) with its interval, s (mean over reps of se x sqrt(n_sources): the paired sd of the source
    differences, crossed predictor-seed noise included), n_tasks, n_sources, reps,
    gain, floor, seeds, epochs, design, predictor (whose test: `PREDICTORS`).
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
                                       float(strength), seed=derive_seed(11, "power-cell", float(strength), gain, floor,
                                                                         n_train, n_test, folds, predictor, r),
                                       tasks_per_source=tasks_per_source,
                                       sources=sources)
            tests.append(_planted_effect(cfg, col, shuffled(col, seed=r), seeds, epochs, folds, predictor))
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
                     "design": f"{folds}-fold over sources" if folds else "fixed split", "predictor": predictor})
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


def refit_size(cfg, gain: float, floor: float, n_train: int, held_out=(18, 51, 144), reps: int = 200,
               n_perm: int = 19, alpha: float = 0.05, max_pairs_per_task: int = 6, signal: str = "mine_fast",
               seed: int = 0) -> pd.DataFrame:
    """Null rejection rates of "Gaussian + X beats the fitted Gaussian" at each number of held-out sources.

    Planted nulls (`synthetic.calibrated_collected` at strength 0: the signal is noise; the run's `gain` and `floor`,
    one source per task, cfg's samples per task and k), each scored twice on the same fit: the permutation-with-refit
    test (`refit.gaussian_refit_test`, one-sided, n_perm shuffles: exact at alpha (n_perm + 1) integer) and the
    two-sided t over held-out source means that notebook 04's comparison uses (`stats.task_test`, one shared fit).
    Training pairs capped at `max_pairs_per_task` (speed; the test's validity does not rest on it). Columns:
    n_test_sources, test, rejected, rejected_low, rejected_high (Clopper-Pearson), reps, n_train, n_perm, alpha.
    """
    c, k = cfg.collection, cfg.hyperband.n_clean
    feature = lineup([signal], names=["Gaussian + MI"])[0].feature  # the signal z-scored, as notebook 04 feeds it
    rows = []
    for n_test in held_out:
        hits = {"permutation with refit": 0, "t over held-out sources (one fit)": 0}
        for r in range(reps):
            col = calibrated_collected(n_train, n_test, c.n_train_samples, c.n_test_samples, k, floor, gain, 0.0,
                                       seed=derive_seed(seed, "refit-size", n_test, r))
            t = gaussian_refit_test(col, feature, k, None, n_perm, seed=derive_seed(seed, "refit-perm", n_test, r),
                                    max_pairs_per_task=max_pairs_per_task)
            hits["permutation with refit"] += t.p <= alpha
            hits["t over held-out sources (one fit)"] += _t_rejects(col, feature, k, max_pairs_per_task, alpha)
        for name, h in hits.items():
            lo, hi = binomial_interval(h, reps)
            rows.append({"n_test_sources": n_test, "test": name, "rejected": h / reps, "rejected_low": lo,
                         "rejected_high": hi, "reps": reps, "n_train": n_train, "n_perm": n_perm, "alpha": alpha})
    return pd.DataFrame(rows)


def _t_rejects(col, feature, k: int, max_pairs_per_task: int, alpha: float) -> bool:
    """Does the t-interval over held-out sources of MSE(Gaussian + X) - MSE(fitted Gaussian) exclude 0 (one fit)?"""
    from minas.study.predict.predictors import build_pairs, fit_gaussian, fit_signal_gaussian
    tr = build_pairs(col, feature, "train", k, max_pairs_per_task, 0, 0)
    te = build_pairs(col, feature, "test", k, 0, 0, 0)
    base = fit_gaussian(tr.y.mean(axis=0).reshape(4, 23)).ravel()
    g = fit_signal_gaussian(tr).predict(te.x)
    a, b = ((g - te.y) ** 2).mean(axis=1), ((base[None] - te.y) ** 2).mean(axis=1)
    return bool(task_test(a, b, te.task).p_t <= alpha)
