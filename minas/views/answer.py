"""Notebook 06's answer: the verdict, the findings list and the headline numbers of the whole study, in the one
interval format of `findings`, from the typed results notebooks 04-06 produce. The thesis's question (Kossmann 2019:
does per-layer MI tell which architectures will be good?) answered by one run; the report prints the same sentences.

Sources of the anchors quoted: NAS-Bench-201 zero-cost proxies (Abdelfattah et al., ICLR 2021); synflow's
conservation law (Tanaka et al. 2020); AutoBuild importances (Mills et al. 2024).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.core.config import StudyConfig
from minas.nas.proxies import PROXIES
from minas.nas.space import N_LAYERS
from minas.study.predict import budget
from minas.study.analysis import correlation_summary
from minas.study.controller import EXPERIMENTS, THESIS_TABLE_3_2
from minas.study.predict import THESIS_TABLE_3_1, CrossValidation, Experiment1, SeedPooling
from minas.study.ranking import SIZE
from minas.views.findings import PRIORS_SCORED, Difference, ci, estimate, num, own_power_finding, signal_name
from minas.views.report import read_metrics

NAS_BENCH_ANCHOR = 0.8  # best single zero-cost proxy, Spearman with final accuracy, NAS-Bench-201 CIFAR-10 (Abdelfattah et al. 2021)
POWER_TARGET = 0.8  # the power at which a null result counts as a negative one (the usual planning target)
LIKE_FOR_LIKE = (("NN + MI (raw)", "NN + accuracy"), ("NN + MI", "NN + accuracy (z)"))


@dataclass
class Analysis:
    """What notebook 06 read back and computed: the inputs of its answer."""

    exp: Experiment1  # notebook 04's fixed split
    cv: CrossValidation  # notebook 04's cross-validation (leave-one-source-out)
    pooled: SeedPooling | None  # notebook 04's comparisons over collection seeds (None with one seed)
    table_3_2: pd.DataFrame  # controller.table_3_2 of notebook 05's evaluation runs
    vs_uniform: pd.DataFrame  # controller.compare_to_uniform of the same
    signal_value: pd.DataFrame  # analysis.signal_value: each signal's NN against the architecture alone
    correlations: pd.DataFrame  # analysis.layer_correlations
    depth: pd.DataFrame  # analysis.depth_trend
    autobuild: pd.DataFrame  # analysis.importance_summary of notebook 04's AutoBuild importances
    gate: pd.DataFrame | None = None  # predict.gate.gate_table as notebook 04 saved it (tables/04_gate.csv); None: not read


@dataclass(frozen=True)
class Ranking:
    """Every signal against the training-free proxies: one sentence and the best proxy's rho (None: no proxy)."""

    sentence: str
    best_proxy_rho: float | None


@dataclass(frozen=True)
class Reliability:
    """Test-retest reliability: one sentence and the (signal, layer) cells whose ICC interval covers 0 ('ba L1')."""

    sentence: str
    unreliable: list[str]


def crossval_caption(cv: CrossValidation) -> str:
    """'leave-one-source-out: 5 folds, NNs 1 seed x 20 epochs per fold' (leave-one-family-out when the folds are families)."""
    unit = "source" if cv.sources and set(cv.folds.family) <= set(cv.sources.values()) else "family"
    return f"leave-one-{unit}-out: {len(cv.folds)} folds, NNs {cv.seeds} seed x {cv.epochs} epochs per fold"


def table_3_1(exp: Experiment1) -> pd.DataFrame:
    """Table 3.1 as notebook 06 and the report show it: ours beside the thesis's reported values, named as quotes."""
    cols = ["method", "group", "test_mse_mean", "test_mse_std", "n_seeds", "test_mse_thesis_scale", "thesis_reported_test",
            "train_mse_thesis_scale", "thesis_reported_train"]
    return exp.table[cols].rename(columns={"thesis_reported_test": "thesis_test (Kossmann 2019)",
                                           "thesis_reported_train": "thesis_train (Kossmann 2019)"})


def report_tables(a: Analysis, **more: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table the report collapses, under its title: those of `a`, then `more` (table_3_1, intervals,
    rank_agreement, signal_costs, reliability, power), each titled with how its intervals were computed."""
    titles = {"table_3_1": "Table 3.1 (MSE; thesis columns are the thesis's reported values)",
              "intervals": "Table 3.1 intervals (95% t-interval over test data sets)",
              "rank_agreement": "Every signal vs accuracy and hs: Kendall tau, Spearman rho (t-intervals over source means), cost",
              "signal_costs": "Cost of each signal per architecture", "reliability": "Test-retest ICC per signal and layer",
              "power": "Power of notebook 04's own test over planted collections with this run's G and floor (Clopper-Pearson 95% CIs)"}
    unknown = sorted(set(more) - set(titles))
    if unknown:
        raise ValueError(f"report_tables: no title for {unknown}; known: {sorted(titles)}")
    tables = {titles[k]: v for k, v in more.items() if k in ("table_3_1", "intervals")}
    tables.update({"Table 3.2 (mean hs of Hyperband output; thesis columns quoted)": a.table_3_2,
                   "Prior vs uniform, paired over data sets": a.vs_uniform,
                   "Experiment 1 paired comparisons": a.exp.comparisons, "Signal vs architecture alone": a.signal_value,
                   "Per-layer signal correlations": a.correlations, "MI by depth": a.depth, "AutoBuild per layer": a.autobuild,
                   f"Experiment 1 cross-validated ({crossval_caption(a.cv)}; t-intervals over held-out source means)": a.cv.table,
                   "Experiment 1 cross-validated comparisons (sign-flip p over source means)": a.cv.comparisons})
    tables.update({titles[k]: v for k, v in more.items() if k not in ("table_3_1", "intervals")})
    if a.pooled is not None:
        tables[f"Experiment 1 pooled over {len(a.pooled.seeds)} collection seeds (t-intervals over source means)"] = a.pooled.table
    return tables


def _rho(r) -> str:
    return f"{signal_name(r.method, r.layer)} {estimate(r.rho, r.rho_low, r.rho_high)} over {int(r.n_tasks)} tasks"


def ranking_finding(agree: pd.DataFrame, proxies: set[str] | None = None) -> Ranking:
    """The best training-free proxy, the best trained signal and the size baseline, by within-task Spearman with
    accuracy (ranking.rank_agreement rows), beside the NAS-Bench-201 anchor."""
    proxies = {p.name for p in PROXIES} if proxies is None else proxies
    acc = agree[agree.target == "accuracy"].dropna(subset=["rho"]).sort_values("rho", ascending=False)
    prox, trained = acc[acc.method.isin(proxies)], acc[~acc.method.isin(proxies | {SIZE})]
    size = acc[acc.method == SIZE]
    best = prox.iloc[0] if len(prox) else None
    text = (f"Best training-free proxy: {_rho(best)}, {'above' if best.rho > NAS_BENCH_ANCHOR else 'below'} the "
            f"NAS-Bench-201 anchor of about {NAS_BENCH_ANCHOR} (Spearman with final accuracy); " if best is not None
            else "No training-free proxy was collected; ")
    text += f"best trained signal (MI or probe): {_rho(trained.iloc[0])}; " if len(trained) else ""
    text += (f"the total filter count alone: {_rho(size.iloc[0])} ({int(size.iloc[0].n_archs)} architectures; means over "
             "tasks of within-task rho, t-intervals over tasks). " if len(size) else "")
    text += ("Ours may differ from NAS-Bench-201 because this space varies widths only (no operations or topology, so "
             "size orders much of it), the tasks are small, short trainings on few images, and each task ranks a few "
             "architectures.")
    return Ranking(text, None if best is None else float(best.rho))


def recorded_target_icc(cfg: StudyConfig) -> pd.DataFrame:
    """Notebook 01's target ICC at its last budget (task, value, epochs, icc3 and CI); empty when 01 recorded none."""
    try:
        arch = pd.DataFrame(read_metrics(cfg, "01_data_prep")["architecture_signal"])
    except (FileNotFoundError, KeyError):
        return pd.DataFrame(columns=["task", "value", "epochs", "icc3", "icc3_low", "icc3_high"])
    return arch[arch.epochs == arch.epochs.max()][["task", "value", "epochs", "icc3", "icc3_low", "icc3_high"]]


def reliability_finding(icc: pd.DataFrame, recorded: pd.DataFrame, tasks: list[str]) -> Reliability:
    """How many (signal, layer) cells cannot tell architectures apart (ICC interval covering 0), with the targets'
    ICC of this run (target.icc_by_signal rows) and notebook 01's (`recorded_target_icc`) beside them."""
    if len(icc):
        is_target = icc.method.str.startswith("target")
        sig, tgt = icc[~is_target], icc[is_target]
    else:
        sig = tgt = pd.DataFrame(columns=["method", "layer", "icc3", "icc3_low", "icc3_high", "n_archs", "n_seeds"])
    dead = sig[(sig.icc3_low <= 0) & (sig.icc3_high >= 0)]
    unreliable = [f"{r.method}{f' L{int(r.layer)}' if r.layer else ''}" for r in dead.itertuples()]  # as 06 records them
    size = f"{int(sig.n_archs.max()) if len(sig) else 0} architectures x {int(sig.n_seeds.max()) if len(sig) else 0} seeds"
    text = (f"Test-retest (ICC(3,1), {size} on {', '.join(tasks) or 'no task'}): {len(dead)} of {len(sig)} (signal, layer) "
            "cells have a CI covering 0 and are unable to predict anything there"
            + (f" ({', '.join(unreliable)})" if unreliable else "") + ". Targets here: "
            + ", ".join(f"{r.method.split(': ')[1]} {estimate(r.icc3, r.icc3_low, r.icc3_high)}" for r in tgt.itertuples()))
    text += ("; notebook 01 recorded: " + ", ".join(f"{r.task} {r.value} {estimate(r.icc3, r.icc3_low, r.icc3_high)}"
                                                   for r in recorded.itertuples()) if len(recorded) else "; notebook 01 recorded none")
    return Reliability(text + ".", unreliable)


def own_power(cfg: StudyConfig) -> pd.DataFrame:
    """The power check notebook 04 recorded (`power.own_power`: its own fixed-split test in the world it measured)."""
    return pd.DataFrame(read_metrics(cfg, "04_posterior_prediction")["own_power"])


def power_finding(own: pd.DataFrame, exp: Experiment1) -> str:
    """What Experiment 1 could have detected (notebook 04's own power check) beside what it saw."""
    seen = Difference.of(exp.comparisons, "NN + MI", "NN + arch only")
    return own_power_finding(own) + f" Experiment 1 saw NN + MI minus NN + arch only {seen.text()}."


def power_sentence(own: pd.DataFrame, target: float = POWER_TARGET) -> str:
    """The verdict's last sentence: how far a null result here is a negative result, from the power of notebook 04's
    own test to detect a perfect per-layer signal (strength 1) in the world this run measured."""
    one = own.set_index("strength").loc[1.0]
    n, power = int(one.n_sources), f"power {num(one.power, 2)} ({ci(one.power_low, one.power_high)})"
    if one.power >= target:
        return (f"Read it with the power check: with this run's signal budget and {n} independent sources, the comparison "
                f"detects a perfect per-layer signal with {power}, so where MI shows no gain that is a negative result: MI "
                "carries no per-layer signal here as useful as a perfect one.")
    return (f"Read it with the power check: with this run's signal budget and {n} independent sources, a perfect per-layer "
            f"signal is detected with {power} only (target {target:g}), so a negative verdict here is absence of evidence, "
            "not evidence that MI carries nothing.")


def verdict(a: Analysis, own: pd.DataFrame) -> list[str]:
    """The answer: first the signal budget (whether a perfect per-layer signal could be seen at all, when the saved
    Experiment 1 carries its task noise), then three sentences (Exp 1 with its noise control, Exp 2, per-layer
    signals), and last what the power of notebook 04's own test (`own`) makes of a null result (`power_sentence`)."""
    c = a.exp.comparisons[a.exp.comparisons.unit.str.startswith("test pair")]
    acc, gauss = (Difference.of(c, "NN + MI", b) for b in ("NN + accuracy", "Fitted Gaussian"))
    lead = ("Per-layer MI helps predict which filter counts Hyperband keeps" if acc.ci_high < 0 and gauss.ci_high < 0 else
            "Per-layer MI predicts Hyperband's choices worse than accuracy does" if acc.ci_low > 0 else
            "This run finds no evidence that per-layer MI helps predict which filter counts Hyperband keeps")
    s1 = (f"{lead}: fed MI instead of accuracy, the predictor's test MSE changes by "
          f"{estimate(acc.mean_diff, acc.ci_low, acc.ci_high, signed=True)}, and against the input-free fitted Gaussian by "
          f"{estimate(gauss.mean_diff, gauss.ci_low, gauss.ci_high, signed=True)}, on {len(a.exp.test)} held-out pairs of "
          f"{len(np.unique(a.exp.test.task))} data sets (negative: MI is better; CIs over the means of "
          + (f"{int(c.n_sources.iloc[0])} independent sources)." if "n_sources" in c else "the data sets)."))
    thesis = THESIS_TABLE_3_2.set_index("prior").thesis_mean
    tr = a.vs_uniform[a.vs_uniform.split == "train"].set_index("prior")
    parts = [f"{PRIORS_SCORED.get(p, p)} {num(r.diff_mean, 3, signed=True)} ({ci(r.ci_low, r.ci_high, signed=True)}"
             + (f"; thesis {thesis[p] - thesis['uniform']:+.3f})" if p in thesis.index else ")") for p, r in tr.iterrows()]
    s2 = ("The REINFORCE controller's priors change the mean score of Hyperband's output against the uniform prior by "
          f"{' and '.join(parts)}, over {int(tr.n_tasks.max()) if len(tr) else 0} training data sets"
          + (f" from {int(tr.n_sources.max())} independent source{'s' if int(tr.n_sources.max()) != 1 else ''} (CIs over "
             "source means)." if "n_sources" in tr else "."))
    plain, part = correlation_summary(a.correlations), correlation_summary(a.correlations, partial=True)
    s3 = (f"Within a data set, {plain['ci_excluding_0']} of {plain['tested']} per-layer correlations of a signal with accuracy "
          "or score have a 95% CI excluding 0 (correlated tests: they share tasks and architectures), and "
          f"{part['ci_excluding_0']} of {part['tested']} once the architecture's size is partialled out")
    if part["top"]:
        t = part["top"]
        s3 += (f"; the largest is {t['method']} at layer {t['layer']} with {t['target'].replace(' | size', '')}, "
               f"partial rho {num(t['rho'], signed=True)} ({ci(*t['ci'], signed=True)})")
    if ((c.a == "NN + noise") & (c.b == "NN + arch only")).any():
        noise = Difference.of(c, "NN + noise", "NN + arch only")
        s1 += (f" Read any 'worse' against the control: a column of pure noise changes the same MLP's test MSE by "
               f"{estimate(noise.mean_diff, noise.ci_low, noise.ci_high, signed=True)} against the architecture alone.")
    out = [s1, s2, s3 + "."]
    if not getattr(a.exp, "task_noise", pd.DataFrame()).empty:  # the signal budget leads: can any signal help here?
        out.insert(0, budget.verdict(budget.signal_budget(a.exp), a.gate))  # read through notebook 04's gate
    return out + [power_sentence(own)]


def headline(a: Analysis) -> dict:
    """The numbers notebook 06 records beside its tables (metrics.json keys)."""
    t, s32 = a.exp.table.set_index("method"), a.table_3_2.set_index(["split", "prior"])
    acc, gauss = (Difference.of(a.exp.comparisons, "NN + MI", b) for b in ("NN + accuracy", "Fitted Gaussian"))
    sig = a.signal_value.dropna(subset=["diff_vs_baseline"])
    size = a.correlations[a.correlations.layer.isna()].set_index("target")
    return {"test_mse": t.test_mse_mean.to_dict(), "test_mse_thesis_scale": t.test_mse_thesis_scale.to_dict(),
            "mi_minus_accuracy": acc.mean_diff, "mi_minus_accuracy_ci": [acc.ci_low, acc.ci_high],
            "mi_minus_gaussian": gauss.mean_diff, "mi_minus_gaussian_ci": [gauss.ci_low, gauss.ci_high],
            "hs_train": {p: s32.loc[("train", p), "mean"] for p in ["uniform", *EXPERIMENTS]},
            "best_signal": a.signal_value.method.iloc[0], "signals_beating_arch_only": sig.method[sig.ci_high < 0].tolist(),
            "correlation_summary": correlation_summary(a.correlations),
            "partial_correlation_summary": correlation_summary(a.correlations, partial=True),
            "size_rho": {k: size.loc[k, "rho"] for k in ["accuracy", "hs"]}}


def _top(d: dict) -> str:
    t = d["top"]
    return f"{t['method']} layer {t['layer']} with {t['target']}: {estimate(t['rho'], *t['ci'])}" if t else "none"


def conclusions(a: Analysis, *sentences: str) -> list[str]:
    """The findings list of notebook 06 and the report, every number from `a`; `sentences` (ranking, reliability,
    power) are appended after the pooled comparisons."""
    h, t = headline(a), a.exp.table.set_index("method")
    shown = ["NN + MI", "NN + accuracy", "Fitted Gaussian", "Uniform"]
    acc, gauss = (Difference.of(a.exp.comparisons, "NN + MI", b) for b in ("NN + accuracy", "Fitted Gaussian"))
    pairs = set(zip(a.exp.comparisons.a, a.exp.comparisons.b))
    s32, vu = a.table_3_2.set_index(["split", "prior"]), a.vs_uniform.set_index(["split", "prior"])
    size = a.correlations[a.correlations.layer.isna()].set_index("target")
    plain, part = h["correlation_summary"], h["partial_correlation_summary"]
    notes = [
        "Table 3.1 (thesis scale): " + ", ".join(f"{m} {num(t.loc[m, 'test_mse_thesis_scale'], 3)}" for m in shown)
        + " (thesis: " + ", ".join(num(THESIS_TABLE_3_1[m][1], 3) for m in shown) + ").",
        f"NN + MI minus NN + accuracy: {acc.text()}; minus fitted Gaussian: {gauss.text()} ({len(a.exp.test)} test pairs; "
        "t-intervals over source means).",
        "Like for like (fixed split): " + "; ".join(f"{a_} minus {b}: {Difference.of(a.exp.comparisons, a_, b).text()}"
                                                  for a_, b in LIKE_FOR_LIKE if (a_, b) in pairs) + ".",
        f"Cross-validated ({crossval_caption(a.cv)}): " + "; ".join(
            f"{x} minus {y}: {Difference.of(a.cv.comparisons, x, y).text()}" for x, y in zip(a.cv.comparisons.a, a.cv.comparisons.b)) + ".",
        "Table 3.2 (training data sets, mean hs of the output): " + ", ".join(
            f"{p} {s32.loc[('train', p), 'mean']:.3f}" for p in ["uniform", *EXPERIMENTS])
        + f" (thesis: {', '.join(f'{v:.3f}' for v in THESIS_TABLE_3_2.thesis_mean)}); "
        + ", ".join(f"{e} beats uniform on {vu.loc[('train', e), 'wins']} of {vu.loc[('train', e), 'n_tasks']} data sets"
                    for e in EXPERIMENTS) + ".",
        f"Best predictor signal by test MSE: {h['best_signal']} ({num(a.signal_value.test_mse_mean.iloc[0], 3)}); signals "
        f"whose CI against the architecture alone lies below 0: {', '.join(h['signals_beating_arch_only']) or 'none'} "
        f"(of {int(a.signal_value.diff_vs_baseline.notna().sum())}).",
        f"Per-layer signal vs accuracy / hs within tasks: {plain['ci_excluding_0']} of {plain['tested']} (method, layer, "
        "target) correlations have a 95% CI excluding 0 (these tests share tasks and architectures, so they are "
        f"correlated: the count is no multiple-testing guard); the largest |rho| is {_top(plain)}. Size alone: "
        + ", ".join(f"{estimate(size.loc[k, 'rho'], size.loc[k, 'ci_low'], size.loc[k, 'ci_high'])} with {k}" for k in ["accuracy", "hs"]) + ".",
        f"Beyond size (size partialled out): {part['ci_excluding_0']} of {part['tested']} CIs exclude 0; the largest "
        f"|partial rho| is {_top(part)}.",
        "Per-layer signals from the first to the last layer (each in its unit; synflow is equal in every layer by its "
        "conservation law, Tanaka et al. 2020): " + "; ".join(
            f"{r['method']} {num(r['layer_1'], 3)} -> {num(r[f'layer_{N_LAYERS}'], 3)} (difference "
            f"{ci(r['ci_low'], r['ci_high'], signed=True)})" for _, r in a.depth.iterrows()) + ".",
    ]
    if a.pooled is not None:
        notes.append(f"Pooled over {len(a.pooled.seeds)} collection seeds: " + "; ".join(
            f"{r.a} minus {r.b} {estimate(r.mean_diff, r.ci_low, r.ci_high, signed=True)} over {int(r.n_tasks)} tasks, "
            f"between-seed sd {num(r.sd_between_seeds)}" for r in a.pooled.table.itertuples()) + ".")
    auto = a.autobuild[a.autobuild.method == "AutoBuild"].set_index("layer")
    return notes + list(sentences) + ["AutoBuild, Spearman of importance with filter count per layer: "
                                      + ", ".join(f"layer {l} {auto.loc[l, 'rho_with_filters']:+.2f}" for l in auto.index) + "."]
