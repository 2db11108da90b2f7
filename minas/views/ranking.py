"""The signals-vs-score figure of issue 13: rank agreement with the final score beside each signal's cost.

Reads `minas.study.ranking.rank_agreement`'s table; the size baseline (total filter count) is drawn as
a band, since in this width-only space it is the bar every signal has to clear.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from minas.study.ranking import SIZE


def _label(method: str, layer: int) -> str:
    return f"{method} L{layer}" if layer else method


def ranking_figure(table: pd.DataFrame, target: str = "accuracy", stat: str = "rho"):
    """Left: each signal's mean within-task `stat` (rho or tau) with `target` and its 95% t-interval over tasks,
    best first; right: the same against seconds per architecture (log scale)."""
    t = table[table.target == target].dropna(subset=[stat]).sort_values(stat).reset_index(drop=True)
    labels = [_label(m, int(l)) for m, l in zip(t.method, t.layer)]
    is_size = (t.method == SIZE).to_numpy()
    colors = np.where(is_size, "tab:red", "tab:blue")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 0.28 * len(t) + 1.6), gridspec_kw={"width_ratios": [3, 2]})
    err = np.vstack([t[stat] - t[f"{stat}_low"], t[f"{stat}_high"] - t[stat]])  # (2, n)
    ax.errorbar(t[stat], np.arange(len(t)), xerr=err, fmt="none", ecolor="gray", capsize=2)
    ax.scatter(t[stat], np.arange(len(t)), c=colors, zorder=3)
    ax.set_yticks(np.arange(len(t)), labels, fontsize=8)
    if is_size.any():
        s = t[is_size].iloc[0]
        ax.axvspan(s[f"{stat}_low"], s[f"{stat}_high"], color="tab:red", alpha=0.12, label="size: 95% CI")
        ax.axvline(s[stat], color="tab:red", ls="--", lw=1, label=f"size (sum of filters) {s[stat]:.2f}")
        ax.legend(fontsize=8, loc="lower right")
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel(f"within-task {'Spearman rho' if stat == 'rho' else 'Kendall tau'} with {target} (mean over tasks)")
    secs = t.seconds_per_arch.clip(lower=1e-5)  # the size baseline costs nothing: draw it at the floor
    bx.scatter(secs, t[stat], c=colors)
    for x, y, name in zip(secs, t[stat], labels):
        bx.annotate(name, (x, y), fontsize=7, xytext=(3, 2), textcoords="offset points")
    bx.set_xscale("log")
    bx.set_xlabel("seconds per architecture")
    bx.set_ylabel(stat)
    fig.tight_layout()
    return fig
