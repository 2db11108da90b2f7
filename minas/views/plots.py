"""Seaborn figures shared by the notebooks (collection views; others add theirs here)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from minas.nas.space import OPTIONS
from minas.study.collection import signal_long


def posterior_heatmaps(posteriors: dict, tasks: list[str] | None = None, ncols: int = 4):
    """One heatmap per task of its mean Hyperband posterior (layers x filter options)."""
    tasks = list(posteriors) if tasks is None else tasks
    nrows = max(1, int(np.ceil(len(tasks) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 1.6 * nrows + 0.4), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        mean = posteriors[task].mean(axis=0)  # (4, 23)
        sns.heatmap(mean, ax=ax, cmap="viridis", cbar=False, xticklabels=False, yticklabels=[1, 2, 3, 4])
        ax.set_title(f"{task} (n={len(posteriors[task])})", fontsize=9)
        ax.set_xlabel(f"filters {OPTIONS[0]}..{OPTIONS[-1]}", fontsize=8)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def noise_bars(noise: pd.DataFrame):
    """Dirty vs clean posterior noise (mean pairwise MSE) per task."""
    long = noise.melt(id_vars=["task", "split"], value_vars=["dirty", "clean"], var_name="posterior", value_name="mse")
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(noise)), 3.2))
    sns.barplot(long, x="task", y="mse", hue="posterior", ax=ax)
    ax.set_yscale("log")
    ax.set_ylabel("mean pairwise MSE")
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def mi_by_layer(samples: pd.DataFrame, method: str):
    """Raw per-layer MI of the input samples, one line per task."""
    long = signal_long(samples, [method], id_vars=("task", "split", "arch")).rename(columns={"value": "mi"})
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.lineplot(long, x="layer", y="mi", hue="task", style="split", ax=ax, errorbar="sd", marker="o")
    ax.set_ylabel(f"I(C_i; y) [nats], {method}")
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig
