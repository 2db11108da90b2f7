"""The findings in words: the interval format and the sentences notebooks 04 and 05 print about the thesis's
Experiment 1 (Table 3.1) and Experiment 2 (Table 3.2), built from the typed results the study returns
(Kossmann 2019; AutoBuild: Mills et al. 2024), and the display names every sentence uses (`PRIORS`,
`PRIORS_SCORED`, `signal_name`). Notebook 06's answer and the report's are in `answer` (every number inline) and
`lead` (one plain sentence per finding and a table of its numbers).

One interval format for every notebook and the report: `ci` writes "95% CI [low, high]", `estimate` puts a
value before it and `Difference.text` a paired difference with its sign-flip p. A bound that could not be
computed (NaN: too few units) is said to be missing, never printed as "nan".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.nas.space import N_LAYERS, N_OPTIONS
from minas.study.autobuild import Evaluation
from minas.study.controller import THESIS_TABLE_3_2, ControllerRun
from minas.study.predict import CrossValidation, Experiment1

LEVEL = 95  # percent: every interval the study computes is a 95% interval


def num(x: float, digits: int = 2, signed: bool = False) -> str:
    """`x` to `digits` significant digits ('+' before a positive value when `signed`); 'n/a' when not finite."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{float(x):{'+' if signed else ''}.{digits}g}"


def ci(low: float, high: float, digits: int = 2, signed: bool = False) -> str:
    """The one interval format: '95% CI [-0.003, +0.0012]'; 'no 95% CI' when a bound is not finite."""
    if not all(v is not None and math.isfinite(float(v)) for v in (low, high)):
        return f"no {LEVEL}% CI"
    return f"{LEVEL}% CI [{num(low, digits, signed)}, {num(high, digits, signed)}]"


def estimate(value: float, low: float, high: float, digits: int = 2, signed: bool = False) -> str:
    """A value and its interval: '-0.0021 (95% CI [-0.003, -0.0012])'."""
    return f"{num(value, digits, signed)} ({ci(low, high, digits, signed)})"


def signal_name(method: str, layer) -> str:
    """'ba layer 2' for a per-layer signal, the method alone for a whole-network one (layer 0 or missing)."""
    return f"{method} layer {int(layer)}" if layer is not None and not pd.isna(layer) and int(layer) else method


def bullets(lines: list[str]) -> str:
    """Markdown list of `lines`."""
    return "\n".join(f"- {line}" for line in lines)


@dataclass(frozen=True)
class Difference:
    """A paired comparison a - b of test MSE over task means (a row of a `comparisons` table; negative: a is better)."""

    a: str
    b: str
    mean_diff: float
    ci_low: float
    ci_high: float
    p_signflip: float
    n_tasks: int
    n_sources: int | None = None  # the independent units the interval and p rest on (None: the tasks themselves)

    @classmethod
    def of(cls, comparisons: pd.DataFrame, a: str, b: str) -> "Difference":
        """The row (a, b) of a comparisons table (predict.Experiment1, CrossValidation, SeedPooling)."""
        rows = comparisons[(comparisons.a == a) & (comparisons.b == b)]
        if rows.empty:
            raise KeyError(f"no comparison {a!r} minus {b!r}; the table has {list(zip(comparisons.a, comparisons.b))}")
        r = rows.iloc[0]
        sources = int(r.n_sources) if "n_sources" in r.index and pd.notna(r.n_sources) else None
        return cls(a, b, float(r.mean_diff), float(r.ci_low), float(r.ci_high), float(r.p_signflip), int(r.n_tasks), sources)

    @property
    def relation(self) -> str:
        """How a's error stands to b's: 'lower (better) than', 'higher (worse) than' or 'not distinguishable from'."""
        if self.ci_high < 0:
            return "lower (better) than"
        return "higher (worse) than" if self.ci_low > 0 else "not distinguishable from"

    def text(self, digits: int = 2) -> str:
        """'-2.1e-05 (95% CI [-4e-05, -3e-06]), sign-flip p 0.25 over 3 sources (6 tasks; at best 0.25)': the p-value's
        floor 2 / 2^n is that of its units (the sources when the table names them, else the tasks)."""
        n = self.n_sources or self.n_tasks
        units = (f"{n} sources" + (f" ({self.n_tasks} tasks; at best" if n != self.n_tasks else " (at best")
                 if self.n_sources else f"{n} tasks (at best")
        return (f"{estimate(self.mean_diff, self.ci_low, self.ci_high, digits, signed=True)}, sign-flip p "
                f"{num(self.p_signflip)} over {units} {num(2.0 / 2 ** n)})")

    def sentence(self) -> str:
        """'a minus b: <text>: a's error is <relation> b's.'"""
        return f"{self.a} minus {self.b}: {self.text()}: {self.a}'s error is {self.relation} {self.b}'s."


# --- notebook 04: Experiment 1 -----------------------------------------------------------------
def experiment1_findings(exp: Experiment1) -> list[str]:
    """What the fixed split of Experiment 1 says: test MSEs, the noise floor, the thesis's comparisons, like for like."""
    t = exp.table.set_index("method")
    mse = ", ".join(f"{m} {num(t.loc[m, 'test_mse_mean'], 3)}" for m in ["NN + MI", "NN + accuracy", "Fitted Gaussian", "Uniform"])
    clean = t.loc["Noise (clean)"]
    noise = (f"clean-target noise {num(clean.test_mse_mean, 3)}" if np.isfinite(clean.test_mse_mean) else
             f"clean-target noise {num(clean.train_mse_mean, 3)} on training tasks (a held-out task has one clean "
             "posterior, so none on test)")
    acc, gauss = (Difference.of(exp.comparisons, "NN + MI", b) for b in ("NN + accuracy", "Fitted Gaussian"))
    lines = [f"Test MSE: {mse}; {noise}.", acc.sentence(), gauss.sentence()[:-1] + " (thesis: the Gaussian was better)."]
    pairs = set(zip(exp.comparisons.a, exp.comparisons.b))
    like = [("NN + MI (raw)", "NN + accuracy"), ("NN + MI", "NN + accuracy (z)")]
    return lines + [f"Like for like, {Difference.of(exp.comparisons, a, b).sentence()}" for a, b in like if (a, b) in pairs]


def crossval_findings(cv: CrossValidation, exp: Experiment1) -> list[str]:
    """What the cross-validation (leave-one-source-out) says: every comparison, the folds scored, and the fixed split beside it."""
    lines = [Difference.of(cv.comparisons, a, b).sentence() for a, b in zip(cv.comparisons.a, cv.comparisons.b)]
    skipped = cv.folds[cv.folds.skipped != ""]
    lines.append(f"Folds: {len(cv.folds) - len(skipped)} scored, {len(skipped)} skipped (a held-out task with too few "
                 "posteriors)" + (f": {', '.join(skipped.family)}." if len(skipped) else "."))
    fixed, crossed = (Difference.of(c, "NN + MI", "NN + accuracy") for c in (exp.comparisons, cv.comparisons))
    lines.append(f"Fixed split vs cross-validated, NN + MI minus NN + accuracy: {num(fixed.mean_diff, signed=True)} "
                 f"({fixed.n_tasks} tasks) vs {num(crossed.mean_diff, signed=True)} ({crossed.n_tasks} tasks).")
    return lines


def autobuild_findings(ev: Evaluation) -> list[str]:
    """What the AutoBuild comparison says: best ranking, survivor overlap, the built architectures' percentiles."""
    s = ev.summary.set_index("method")
    return [
        f"Best within-instance ranking on held-out tasks: {s.spearman.idxmax()} (Spearman {s.spearman.max():.2f}); "
        f"AutoBuild {s.loc['AutoBuild', 'spearman']:.2f}, AutoBuild + MI {s.loc['AutoBuild + MI', 'spearman']:.2f}, "
        f"sum of filters {s.loc['Sum of filters', 'spearman']:.2f}.",
        f"Survivor overlap: AutoBuild {s.loc['AutoBuild', 'overlap']:.2f}, NN + MI {s.loc['NN + MI', 'overlap']:.2f}, "
        f"chance {s.chance_overlap.iloc[0]:.2f}.",
        f"Built architecture (nearest measured) percentile: AutoBuild {s.loc['AutoBuild', 'built_percentile']:.2f}, "
        f"NN + MI {s.loc['NN + MI', 'built_percentile']:.2f}, smallest net {s.loc['Sum of filters', 'built_percentile']:.2f}."]


# --- notebook 05: Experiment 2 -----------------------------------------------------------------
def _score(t: pd.DataFrame, split: str, prior: str) -> str:
    """'0.412 ± 0.031 (sem 0.012)': a prior's mean hs, the thesis's spread (within-task std) and the sem over data sets."""
    r = t.loc[(split, prior)]
    spread = f"{r.within_task_std:.3f}" if np.isfinite(r.within_task_std) else "n/a (one run per data set)"
    sem = f"{r['sem']:.3f}" if np.isfinite(r["sem"]) else "n/a (one data set)"
    return f"{r['mean']:.3f} ± {spread} (sem {sem})"


PRIORS = {"uniform": "uniform", "exp1": "Exp 1", "exp1_as_trained": "Exp 1 as trained", "exp2": "Exp 2"}  # as 05 names them
PRIORS_SCORED = {"exp1": "Exp 1 scored with every input from the prior", "exp2": "Exp 2 (all from the prior)",
                 "exp1_as_trained": "Exp 1 scored as trained (half the inputs from the prior)"}  # as 06's verdict names them


def _scores(t: pd.DataFrame, split: str) -> str:
    """Every prior's score on one split of Table 3.2 (indexed by split, prior)."""
    return ", ".join(f"{name} {_score(t, split, p)}" for p, name in PRIORS.items() if (split, p) in t.index)


def controller_findings(table: pd.DataFrame, paired: pd.DataFrame, by_run: pd.DataFrame, runs: dict[str, ControllerRun],
                        collapse: pd.DataFrame, collapse_all: pd.DataFrame) -> list[str]:
    """What Experiment 2 says: Table 3.2 beside the thesis, each prior against uniform (over data sets and over
    controller runs), and each run-0 controller's final entropies and collapse.

    table: controller.table_3_2; paired: compare_to_uniform; by_run: seed_table; runs: experiment -> run 0;
    collapse: collapse_table of `runs`; collapse_all: collapse_table of every controller run.
    """
    t, pv, br = (f.set_index(["split", "prior"]) for f in (table, paired, by_run))
    lines = [f"Training data sets ({int(t.loc[('train', 'uniform'), 'n_tasks'])}): {_scores(t, 'train')}; thesis: "
             + ", ".join(f"{r.thesis_mean:.3f} ± {r.thesis_std:.3f}" for r in THESIS_TABLE_3_2.itertuples()) + "."]
    if "test" in t.index.get_level_values(0):
        lines.append(f"Held-out data sets: {_scores(t, 'test')}.")
    learned = [p for p in list(PRIORS)[1:] if ("train", p) in pv.index]
    for e in learned:
        r = pv.loc[("train", e)]
        over = f" (CI and p over {int(r.n_sources)} independent sources)" if "n_sources" in r.index else ""
        lines.append(f"{e}: beats uniform on {int(r.wins)} of {int(r.n_tasks)} training data sets, mean difference "
                     f"{estimate(r.diff_mean, r.ci_low, r.ci_high, 3, signed=True)}, Wilcoxon p = {num(r.wilcoxon_p, 3)}{over}.")
    for e in learned:
        r = br.loc[("train", e)]
        lines.append(f"{e} over {int(r.n_runs)} controller runs: difference to uniform "
                     f"{estimate(r.diff_mean, r.diff_ci_low, r.diff_ci_high, 3, signed=True)} across runs"
                     + (" (one run: no interval)" if r.n_runs < 2 else "")
                     + f"; above uniform in {int(r.runs_above_uniform)} of {int(r.n_runs)} runs.")
    c = collapse.set_index("experiment")
    for e, run in runs.items():
        r = c.loc[e]
        entropies = np.round(r[[f"entropy_{l}" for l in range(1, N_LAYERS + 1)]].to_numpy(float), 2).tolist()
        state = (f"collapsed to {r.architecture} at iteration {int(r.first_collapsed_iteration)}" if r.collapsed
                 else f"not collapsed (smallest layer max-prob {r.min_max_prob:.2f})")
        lines.append(f"{e} (run 0) after {len(run.iterations)} iterations: layer entropies {entropies} "
                     f"(uniform {np.log(N_OPTIONS):.2f}); {state}; input spread {r.input_spread:.3f}.")
    lines.append(f"Collapsed controller runs: {int(collapse_all.collapsed.sum())} of {len(collapse_all)}.")
    return lines


def own_power_finding(table: pd.DataFrame) -> str:
    """What notebook 04's power check says of its own test: detection of a perfect planted signal, false positives."""
    rows = table.set_index("strength")
    one, zero = rows.loc[1.0], rows.loc[0.0]
    clipped = "" if np.isclose(one.gain, one.gain_measured) else (
        f" (the measured G {num(one.gain_measured, 2)} lies outside what a planted world reaches; planted at {num(one.gain, 2)})")
    return (f"In {int(one.reps)} planted collections with this run's G and floor{clipped}, {int(one.n_tasks)} held-out "
            f"tasks from {int(one.n_sources)} independent sources and the predictors trained as above, a perfect per-layer "
            f"signal is detected with power {num(one.power, 2)} ({ci(one.power_low, one.power_high)}); with nothing "
            f"planted, the test calls a difference in {num(zero.rejected, 2)} of them ({ci(zero.rejected_low, zero.rejected_high)}; "
            "5% expected).")
