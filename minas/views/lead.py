"""The answer a reader can repeat: one plain sentence per finding, then a small table of the numbers behind it.

notebook 06 and `report.html` open with it (issue 33, item 4); the dense paragraphs of `answer.verdict`, every
number inline, follow in the findings list. The sentences carry no number; the table gives each quantity its
value, its 95% interval as "[low, high]" (3 significant digits) and the count of independent sources the interval
rests on. Sources of the question and the thesis's values: Kossmann 2019, Tables 3.1 and 3.2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.study.analysis import correlation_summary
from minas.study.predict import budget, gate
from minas.views.answer import POWER_TARGET, Analysis
from minas.views.findings import PRIORS, Difference, num

COLUMNS = ["finding", "quantity", "value", "95% CI", "sources"]
UNIT = ("Differences of test MSE on the per-layer scale (each layer's posterior sums to 1; the thesis's Table 3.1 "
        "scale is this / 16); negative: the first predictor is better.")


@dataclass(frozen=True)
class Lead:
    """The plain sentences (one per finding, numbered like the table's `finding` column) and their numbers."""

    sentences: list[str]
    table: pd.DataFrame  # COLUMNS; value and 95% CI as text, 3 significant digits
    unit: str = UNIT


def interval(low: float, high: float, signed: bool = True) -> str:
    """'[-0.0011, +0.00023]': the table's interval, 3 significant digits; '' when a bound is missing."""
    text = f"[{num(low, 3, signed)}, {num(high, 3, signed)}]"
    return "" if "n/a" in text else text


def _row(finding: int, quantity: str, value: float, low: float | None = None, high: float | None = None,
         sources: int | None = None, signed: bool = True) -> dict:
    return {"finding": finding, "quantity": quantity, "value": num(value, 3, signed=signed),
            "95% CI": "" if low is None else interval(low, high, signed), "sources": "" if sources is None else str(int(sources))}


def _diff(finding: int, c: pd.DataFrame, a: str, b: str) -> tuple[Difference, dict]:
    d = Difference.of(c, a, b)
    return d, _row(finding, f"{a} minus {b}", d.mean_diff, d.ci_low, d.ci_high, d.n_sources or d.n_tasks)


def lead(a: Analysis, own: pd.DataFrame) -> Lead:
    """The plain answer of one run, from notebook 06's inputs (`a`) and notebook 04's own power check (`own`)."""
    sentences, rows = [], []
    if a.gate is not None:  # the question's gate first: is there anything task-specific to predict?
        n, t = len(sentences) + 1, a.gate.set_index("quantity")
        sentences.append("Whether the target differs between data sets cannot be judged here (too few sources)."
                         if not gate.gate_judged(a.gate) else
                         "The target differs between data sets: there is something task-specific to predict."
                         if gate.gate_open(a.gate) else
                         "The target does not measurably differ between data sets: nothing task-specific to predict, "
                         "so no claim about any signal.")
        for name in ("per layer", "total expected filters", "per entry"):
            r = t.loc[name]
            judged = np.isfinite(r.ratio_low)
            rows.append(_row(n, f"tau^2 / sigma^2, {name} (between / within data sets)", r.ratio,
                             r.ratio_low if judged else None, r.ratio_high if judged else None, r.n_sources, signed=False))
    if not getattr(a.exp, "task_noise", pd.DataFrame()).empty:
        b = budget.signal_budget(a.exp)
        n = len(sentences) + 1
        sentences.append("No measurable room is left above the noise floor: the input-free Gaussian is not measurably "
                         "worse than the floor." if b.gain_low <= 0 else
                         "Even a perfect per-layer signal would likely go unseen by this comparison." if b.g_over_s < b.needed
                         else "The comparison could see a perfect per-layer signal, if the Gaussian's excess were all "
                         "task-specific.")
        rows += [_row(n, "G: the input-free Gaussian's excess over the floor (misfit, fit noise and task signal)", b.gain,
                      b.gain_low, b.gain_high, b.n_sources),
                 _row(n, "G / s, against the comparison's noise s", b.g_over_s, sources=b.n_sources, signed=False),
                 _row(n, "G / s a test over these sources needs (power 0.8)", b.needed, sources=b.n_sources, signed=False)]
    c = a.exp.comparisons[a.exp.comparisons.unit.str.startswith("test pair")]
    n = len(sentences) + 1
    (acc, r1), (gauss, r2) = _diff(n, c, "NN + MI", "NN + accuracy"), _diff(n, c, "NN + MI", "Fitted Gaussian")
    sentences.append("Per-layer MI helps predict which filter counts Hyperband keeps." if acc.ci_high < 0 and gauss.ci_high < 0
                     else "Per-layer MI predicts Hyperband's choices worse than accuracy does." if acc.ci_low > 0
                     else "Per-layer MI does not measurably help predict which filter counts Hyperband keeps.")
    rows += [r1, r2]
    if ((c.a == "NN + noise") & (c.b == "NN + arch only")).any():
        rows.append(_diff(n, c, "NN + noise", "NN + arch only")[1])
    tr = a.vs_uniform[a.vs_uniform.split == "train"]
    if len(tr):
        n = len(sentences) + 1
        better, worse = (tr.ci_low > 0).any(), (tr.ci_high < 0).any()
        sentences.append("A controller's learned prior beats the uniform prior on the training data sets." if better and not worse
                         else "A controller's learned prior does worse than the uniform prior." if worse and not better
                         else "The controller's learned priors are not distinguishable from the uniform prior."
                         if not better else "The controller's learned priors disagree: one beats the uniform prior, one loses.")
        rows += [_row(n, f"{PRIORS.get(r.prior, r.prior)} minus uniform (mean score of Hyperband's output)", r.diff_mean,
                      r.ci_low, r.ci_high, getattr(r, "n_sources", r.n_tasks)) for r in tr.itertuples()]
    part = correlation_summary(a.correlations, partial=True)
    if part["tested"]:
        n = len(sentences) + 1
        sentences.append("Within one data set, some per-layer signals rank networks beyond their size; that does not carry "
                         "to a new data set." if part["ci_excluding_0"] else
                         "Within one data set, no per-layer signal ranks networks beyond their size.")
        t = part["top"]
        rows += [_row(n, f"per-layer correlations, size partialled out, whose CI excludes 0 (of {part['tested']})",
                      part["ci_excluding_0"], signed=False),
                 _row(n, f"largest: {t['method']} layer {t['layer']} with {t['target'].replace(' | size', '')} (partial rho)",
                      t["rho"], *t["ci"])]
    one = own.set_index("strength").loc[1.0]
    n = len(sentences) + 1
    sentences.append("Where MI shows no gain, that is a negative result: the comparison would have seen a perfect signal."
                     if one.power >= POWER_TARGET else
                     "So a null result here is absence of evidence, not evidence that MI carries nothing: the comparison "
                     "could not reliably see even a perfect signal.")
    rows.append(_row(n, f"power to detect a perfect per-layer signal (target {POWER_TARGET:g})", one.power, one.power_low,
                     one.power_high, one.n_sources, signed=False))
    return Lead(sentences, pd.DataFrame(rows, columns=COLUMNS))


def markdown(ld: Lead) -> str:
    """The lead as notebook 06 shows it: numbered sentences, the table (pipes), the unit said once."""
    lines = [f"{i}. {s}" for i, s in enumerate(ld.sentences, 1)]
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS)
    body = "\n".join("| " + " | ".join(str(v) for v in r) + " |" for r in ld.table.itertuples(index=False))
    return "**The answer.**\n\n" + "\n".join(lines) + "\n\n" + head + "\n" + body + "\n\n" + ld.unit
