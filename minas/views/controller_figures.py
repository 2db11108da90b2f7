"""The controller's figures (Experiment 2; thesis Kossmann 2019, Fig. 3.4-3.9 and Table 3.2): loss, summed output
score and reward per iteration, the prior's entropy, and Hyperband's output per data set under each prior.
Offered through `minas.views.plots` too.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from minas.nas.space import N_OPTIONS
from minas.views.style import HS_LABEL, styled

CONTROLLER_LABELS = {"loss": "cross entropy [nats]", "hs": "summed output score HS", "reward": "reward (ΔHS)"}


@styled
def controller_curves(hist: pd.DataFrame, metrics=("loss", "hs", "reward")):
    """Loss, Hyperband summed output score and reward per iteration and experiment (thesis Fig. 3.4-3.9)."""
    d = hist[hist.metric.isin(metrics)]
    g = sns.relplot(data=d, x="iteration", y="value", row="metric", col="experiment", kind="line", marker="o",
                    errorbar=None, height=2.2, aspect=1.8, facet_kws={"sharey": "row"}, row_order=list(metrics))
    g.map_dataframe(sns.scatterplot, x="iteration", y="value", s=12, color="gray", alpha=0.6)
    g.set_titles("{col_name}")
    for metric, axes in zip(metrics, g.axes):
        axes[0].set_ylabel(CONTROLLER_LABELS.get(metric, metric))
    return g.figure


@styled
def entropy_curves(hist: pd.DataFrame):
    """Per-layer entropy of the controller's mean prior per iteration; dotted: the uniform prior's log 23."""
    ent = hist[hist.metric.str.startswith("entropy")].assign(layer=lambda d: d.metric.str.split("_").str[-1])
    g = sns.relplot(data=ent, x="iteration", y="value", hue="layer", col="experiment", kind="line", marker="o", height=2.6, aspect=1.6)
    for ax in g.axes.flat:
        ax.axhline(np.log(N_OPTIONS), color="gray", ls=":")
    g.set_axis_labels("iteration", "entropy of the prior [nats]")
    return g.figure


@styled
def controller_summary(hist: pd.DataFrame):
    """The report's controller figure: summed output score HS and the prior's mean entropy per iteration."""
    d = hist[hist.metric.eq("hs") | hist.metric.str.startswith("entropy")].copy()
    d["panel"] = np.where(d.metric.eq("hs"), "summed output score HS", "mean entropy of the prior [nats]")
    d = d.groupby(["experiment", "panel", "iteration"], as_index=False).value.mean()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, panel in zip(axes, ["summed output score HS", "mean entropy of the prior [nats]"]):
        sns.lineplot(d[d.panel == panel], x="iteration", y="value", hue="experiment", marker="o", ax=ax)
        ax.set(ylabel=panel, xlabel="iteration")
    axes[1].axhline(np.log(N_OPTIONS), color="gray", ls=":", label="uniform prior")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


@styled
def scores_per_task(evals: pd.DataFrame):
    """Mean hs of the Hyperband output per data set under each prior (thesis Table 3.2, per data set)."""
    g = sns.catplot(data=evals, x="task", y="avg_score", hue="prior", col="split", kind="point", dodge=0.4,
                    sharex=False, height=3, aspect=2.2, linestyles="none")
    g.set_xticklabels(rotation=60, ha="right")
    g.set_axis_labels("data set", HS_LABEL)
    return g.figure
