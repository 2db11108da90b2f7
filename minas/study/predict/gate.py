"""The question's gate: is there anything task-specific to predict in a collection's Hyperband posteriors?

Source: issue 31 (item 1) and DESIGN.md "The question's gate"; posteriors as in Kossmann 2019 (thesis) Def. 2.5 and
sec. 3.1. Every single Hyperband posterior of a task is one draw around the task's expected posterior. One-way
random effects over those draws (`minas.stats.variance_components`: tasks as groups, the 95% interval a percentile
bootstrap over independent image sources, a permutation null shuffling single posteriors across tasks) give tau^2,
the between-task variance of the expected quantity, against sigma^2, the variance of one posterior around it, for:
- each layer's expected filter count (sum over options of p x filters) and the total over the 4 layers;
- "per layer": the 4 layers' expected filter counts as 4 columns (components averaged over layers), the primary
  estimand of a per-layer signal; it splits exactly into a shared width factor (the mean over layers: every layer
  wider or narrower together) plus per-layer shape (each layer minus that mean): tau^2(per layer) =
  tau^2(width) + tau^2(shape), both of the same ANOVA form;
- "per entry": the 92 posterior entries (each layer sums to 1), what Table 3.1's MSE scores.
A signal can only help predict what differs between tasks: where tau^2's interval includes 0 there is nothing
task-specific to predict in this design, whatever a test's power.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.nas.space import N_LAYERS, OPTIONS
from minas.stats import holm, variance_components

FILTERS = "filters^2 (expected filter count of a posterior)"
ENTRY = "per-layer scale^2 (each layer's posterior sums to 1), per entry"
PRIMARY = ("per layer", "per entry")  # the gate is open where either's tau^2 interval lies above 0
COLUMNS = ["quantity", "unit", "d", "tau2", "tau2_low", "tau2_high", "sigma2", "sigma2_low", "sigma2_high", "ratio",
           "ratio_low", "ratio_high", "share", "p_perm", "p_holm", "n_posteriors", "n_tasks", "n_sources"]


def posterior_quantities(posteriors: np.ndarray) -> dict[str, np.ndarray]:
    """The gate's quantities of single posteriors (n, 4, 23): name -> (n,) or (n, d) array."""
    p = np.asarray(posteriors, dtype=np.float64)
    layers = p @ np.asarray(OPTIONS, dtype=np.float64)  # (n, 4) expected filters per layer
    width = layers.mean(axis=1)  # (n,) shared factor: every layer wider or narrower together
    out = {f"layer {i + 1} expected filters": layers[:, i] for i in range(N_LAYERS)}
    out.update({"total expected filters": layers.sum(axis=1), "per layer": layers,
                "width (mean over layers)": width, "shape (layer minus width)": layers - width[:, None],
                "per entry": p.reshape(len(p), -1)})
    return out


def gate_table(posteriors: dict, sources: dict | None = None, n_boot: int = 2000, n_perm: int = 2000,
               seed: int = 0) -> pd.DataFrame:
    """tau^2 [95% CI over sources], sigma^2, their ratio and the permutation p of every gate quantity.

    posteriors: task -> (n, 4, 23) single Hyperband posteriors (`Collected.posteriors`); sources: task -> image source
    (the interval's unit; without it every task is its own). `p_holm`: Holm over the rows' permutation p (one family).
    """
    tasks = [t for t in sorted(posteriors) if len(posteriors[t])]
    if len(tasks) < 2:
        raise ValueError(f"the gate needs single posteriors of >= 2 tasks; got {len(tasks)}: run notebook 03 first")
    stacked = np.concatenate([np.asarray(posteriors[t], np.float64) for t in tasks])  # (N, 4, 23)
    groups = np.concatenate([[t] * len(posteriors[t]) for t in tasks])
    clusters = np.array([str((sources or {}).get(t, t)) for t in groups], dtype=object)
    rows = []
    for name, values in posterior_quantities(stacked).items():
        vc = variance_components(values, groups, clusters, n_boot=n_boot, n_perm=n_perm, seed=seed)
        rows.append({"quantity": name, "unit": ENTRY if name == "per entry" else FILTERS, "d": vc.d,
                     **{k: getattr(vc, k) for k in COLUMNS[3:13]}, "p_perm": vc.p_perm,
                     "n_posteriors": vc.n, "n_tasks": vc.n_groups, "n_sources": vc.n_clusters})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table.p_perm)
    return table[COLUMNS]


def gate_judged(table: pd.DataFrame) -> bool:
    """Can the gate be read: do the PRIMARY quantities have intervals (>= 5 independent sources)?"""
    rows = table.set_index("quantity").loc[list(PRIMARY)]
    return bool(np.isfinite(rows.tau2_low).all())


def gate_open(table: pd.DataFrame) -> bool:
    """Is there task-specific variance to predict: does tau^2's 95% interval lie above 0 for a PRIMARY quantity?"""
    rows = table.set_index("quantity").loc[list(PRIMARY)]
    return bool((rows.tau2_low > 0).any())


def gate_sentence(table: pd.DataFrame) -> str:
    """The gate in words: each primary quantity and the total, the width/shape split, and whether it is open."""
    t = table.set_index("quantity")

    def one(name: str) -> str:
        r = t.loc[name]
        ci = f"[{r.tau2_low:+.3g}, {r.tau2_high:+.3g}]" if np.isfinite(r.tau2_low) else "(no interval)"
        return (f"{name}: tau^2 = {r.tau2:.3g} {ci}, sigma^2 = {r.sigma2:.3g}, ratio {r.ratio:.3g}, "
                f"permutation p {r.p_perm:.2g}")

    layer, width = t.loc["per layer"].tau2, t.loc["width (mean over layers)"].tau2
    split = (f"of the per-layer tau^2, {width / layer:.0%} is a shared width factor (all layers wider or narrower "
             "together) and the rest per-layer shape" if layer > 0 else "the per-layer tau^2 is not above 0, so it has "
             "no width/shape split to read")
    where = f"{int(t.loc['per entry'].n_tasks)} tasks from {int(t.loc['per entry'].n_sources)} sources"
    if not gate_judged(table):
        state = (" With under 5 independent sources a bootstrap over them is no interval, so the gate cannot be judged "
                 "here (the permutation p stands alone).")
    elif gate_open(table):
        above = [q for q in PRIMARY if t.loc[q].tau2_low > 0]
        state = f" The gate is open: tau^2's interval lies above 0 {' and '.join(above)}."
    else:
        state = " The gate is shut: tau^2's interval includes 0 per layer and per entry."
    return (f"Gate ({where}, single posteriors): {one('per layer')}; {one('total expected filters')}; {one('per entry')}; "
            f"{split}.{state}")
