"""Figures of the architecture signal (minas.study.target): ICC per budget, accuracy per architecture and seed,
and the test-retest ICC of every signal."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


def icc_figure(icc: pd.DataFrame, column: str = "icc3"):
    """ICC (two-way consistency by default) of accuracy and hs per task vs training epochs, 95% CI bars."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True, squeeze=False)
    for ax, value in zip(axes[0], ("accuracy", "hs")):
        d = icc[icc.value == value]
        for task, g in d.groupby("task"):
            g = g.sort_values("epochs")
            ax.errorbar(g.epochs, g[column], yerr=[g[column] - g[f"{column}_low"], g[f"{column}_high"] - g[column]],
                        marker="o", capsize=3, label=task)
        ax.axhline(0.5, color="grey", ls="--", lw=0.8)  # the target: half the variance from the architecture
        ax.axhline(0.0, color="black", lw=0.5)
        ax.set(xlabel="training epochs (cumulative)", ylabel=f"ICC of {value} ({column}, 95% CI)", ylim=(-0.6, 1.0),
               title=f"share of {value} variance between architectures")
    axes[0, 1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def accuracy_by_arch(runs: pd.DataFrame, epochs: int | None = None):
    """Test accuracy of each architecture (sorted by total filters), one dot per training seed, one panel per task."""
    d = runs[~runs.diverged]
    d = d[d.epochs == (epochs or d.epochs.max())].sort_values("sum_filters")
    g = sns.catplot(data=d, x="arch", y="accuracy", hue="seed", col="task", kind="strip", sharex=False, sharey=False,
                    height=3, aspect=1.3, jitter=False, palette="deep")
    g.set_xticklabels(rotation=60, ha="right", fontsize=7)
    g.set_axis_labels("architecture (filters per layer, by total)", "test accuracy")
    g.figure.suptitle(f"accuracy after {int(d.epochs.max())} epochs, one dot per training seed", y=1.03)
    return g.figure


def signal_icc_figure(icc: pd.DataFrame, column: str = "icc3"):
    """Test-retest ICC of every signal per layer (points, 95% CI bars), the targets accuracy and hs beside in red.

    Reads `minas.study.target.icc_by_signal`; methods named "target: ..." are the targets. Near 0: seed noise
    swamps the differences between architectures, so the signal cannot rank them.
    """
    d = icc.sort_values(["method", "layer"]).reset_index(drop=True)
    labels = [f"{m} L{int(l)}" if l else m for m, l in zip(d.method, d.layer)]
    if d.task.nunique() > 1:
        labels = [f"{t}: {x}" for t, x in zip(d.task, labels)]
    is_target = d.method.str.startswith("target").to_numpy()
    fig, ax = plt.subplots(figsize=(7, 0.24 * len(d) + 1.4))
    y = np.arange(len(d))
    ax.errorbar(d[column], y, xerr=[d[column] - d[f"{column}_low"], d[f"{column}_high"] - d[column]], fmt="none",
                ecolor="grey", capsize=2)
    ax.scatter(d[column], y, c=np.where(is_target, "tab:red", "tab:blue"), zorder=3)
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(0, color="black", lw=0.5)
    ax.axvline(0.5, color="grey", ls="--", lw=0.8)
    ax.set(xlim=(-1.05, 1.05), xlabel=f"test-retest ICC ({column}, 95% CI): share of variance between architectures",
           title=f"{int(d.n_archs.max())} architectures x {int(d.n_seeds.max())} seeds per task")
    fig.tight_layout()
    return fig
