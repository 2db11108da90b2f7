"""Every figure the notebooks and the report show, in one style: labelled axes with units, shared colour scales.

Sources of what is drawn: Kossmann 2019 (thesis Fig. 3.1-3.15, Tables 3.1-3.2) and Mills et al. 2024
(AutoBuild importances). Each function takes a table the study computed and returns a matplotlib
Figure; nothing here computes a statistic. MI is in nats; a signal's unit comes from its registry entry.
The one style is `minas.views.style`; the controller's figures live in `minas.views.controller_figures` and are
offered here too, so a notebook imports one module.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from minas.nas.space import N_LAYERS, N_OPTIONS, OPTIONS
from minas.study.collection import signal_long

from minas.views.controller_figures import (  # noqa: F401  (the notebooks' one plotting module)
    controller_curves,
    controller_summary,
    entropy_curves,
    scores_per_task,
)
from minas.views.style import HEATMAP_CMAP, MSE_LABEL, styled, unit_of


# --- heatmaps over (layer, filter option) ------------------------------------------------------
def _option_ticks(ax, every: int = 4) -> None:
    ticks = np.arange(0, N_OPTIONS, every)
    ax.set_xticks(ticks + 0.5, [str(OPTIONS[i]) for i in ticks], rotation=0)
    ax.set_yticks(np.arange(N_LAYERS) + 0.5, [str(l) for l in range(1, N_LAYERS + 1)], rotation=0)
    ax.set_xlabel("filters")
    ax.set_ylabel("layer")


def heatmap_grid(panels: dict, ncols: int, label: str, vmax: float | None = None, panel_size=(3.2, 1.5)):
    """One (layer x filters) heatmap per panel title, all on one colour scale 0..vmax with one colour bar."""
    titles = list(panels)
    vmax = float(max(np.max(p) for p in panels.values())) if vmax is None else vmax
    ncols = max(1, min(ncols, len(titles)))
    nrows = max(1, -(-len(titles) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols + 1.0, panel_size[1] * nrows + 0.6),
                             squeeze=False, constrained_layout=True)
    for ax, title in zip(axes.flat, titles):
        sns.heatmap(np.asarray(panels[title]).reshape(N_LAYERS, N_OPTIONS), ax=ax, cmap=HEATMAP_CMAP, vmin=0, vmax=vmax, cbar=False)
        _option_ticks(ax)
        ax.set_title(title, fontsize=9)
    for ax in list(axes.flat)[len(titles):]:
        ax.axis("off")
    fig.colorbar(plt.cm.ScalarMappable(plt.Normalize(0, vmax), HEATMAP_CMAP), ax=axes, label=label, shrink=0.9)
    return fig


@styled
def posterior_heatmaps(posteriors: dict, tasks: list[str] | None = None, ncols: int = 4):
    """Mean Hyperband posterior per task (layers x filter options), one shared colour scale."""
    tasks = list(posteriors) if tasks is None else tasks
    panels = {f"{t} (n={len(posteriors[t])})": posteriors[t].mean(axis=0) for t in tasks}
    return heatmap_grid(panels, ncols, "posterior probability")


@styled
def prior_heatmaps(snap: pd.DataFrame):
    """The controller's mean prior at the first, middle and last iteration per experiment (thesis Fig. 3.10-3.15)."""
    panels = {f"{e}, {w}": g.pivot(index="layer", columns="filters", values="p").to_numpy()
              for (e, w), g in snap.groupby(["experiment", "when"], sort=False)}
    return heatmap_grid(panels, snap.when.nunique(), "prior probability", vmax=max(0.2, float(snap.p.max())))


@styled
def importance_heatmap(importances: dict):
    """AutoBuild importance per (layer, option) per model, each scaled to its maximum (Mills et al. 2024)."""
    panels = {m: np.asarray(v) / np.max(v) for m, v in importances.items()}
    return heatmap_grid(panels, 1, "importance / model's max", vmax=1.0, panel_size=(9.0, 1.5))


# --- Experiment 1 --------------------------------------------------------------------------------
@styled
def loss_curves(curves: pd.DataFrame, methods=("NN + MI", "NN + accuracy")):
    """Predictor train/test MSE per epoch, mean over seeds with a one-std band (thesis Fig. 3.1-3.2)."""
    g = sns.relplot(data=curves[curves.method.isin(methods)], x="epoch", y="mse", hue="split", col="method",
                    kind="line", errorbar="sd", height=3, aspect=1.3)
    g.set(yscale="log")
    g.set_axis_labels("epoch", MSE_LABEL)
    return g.figure


@styled
def example_prediction(example: pd.DataFrame, title: str = ""):
    """One test pair's clean posterior (target) against each prediction, per layer (thesis Fig. 3.3)."""
    g = sns.relplot(data=example, x="filters", y="p", hue="source", col="layer", kind="line", height=2.6, aspect=1.1)
    g.set_axis_labels("filters", "probability")
    if title:
        g.figure.suptitle(title, y=1.04)
    return g.figure


@styled
def table_3_1_figure(intervals: pd.DataFrame):
    """Test MSE per method on the thesis's scale with 95% t-intervals over data sets, the thesis's values marked."""
    d = intervals.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(d) + 1.2))
    y = np.arange(len(d))
    ax.errorbar(d.test_mse_thesis_scale, y, xerr=[d.test_mse_thesis_scale - d.ci_low_thesis_scale,
                                                  d.ci_high_thesis_scale - d.test_mse_thesis_scale],
                fmt="o", capsize=3, label="this run (95% CI)")
    known = d.thesis_reported_test.notna()
    ax.scatter(d.thesis_reported_test[known], y[known], marker="x", s=60, color="C3", zorder=3, label="thesis (Kossmann 2019)")
    ax.set_yticks(y, d.method)
    ax.set(xlabel="test MSE, thesis scale (ours / 16)", ylabel="predictor or baseline")
    ax.set_title("Table 3.1: predicting Hyperband posteriors on held-out data sets")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


@styled
def signal_value_figure(sv: pd.DataFrame, baseline: str = "NN + arch only"):
    """Each predictor signal's test-MSE difference to the architecture alone with its 95% CI (negative: it helps)."""
    d = sv.dropna(subset=["diff_vs_baseline"]).iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.42 * len(d) + 1.2))
    y = np.arange(len(d))
    ax.errorbar(d.diff_vs_baseline, y, xerr=[d.diff_vs_baseline - d.ci_low, d.ci_high - d.diff_vs_baseline], fmt="o", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, d.method)
    ax.set(xlabel=f"test MSE minus {baseline} ({MSE_LABEL}; 95% CI)", ylabel="predictor (its signal)")
    ax.set_title("Which signal helps the posterior predictor")
    fig.tight_layout()
    return fig


# --- per-layer signals ---------------------------------------------------------------------------
@styled
def mi_by_layer(samples: pd.DataFrame, method: str):
    """Raw per-layer signal of the input samples, one line per task."""
    long = signal_long(samples, [method], id_vars=("task", "split", "arch")).rename(columns={"value": "mi"})
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.lineplot(long, x="layer", y="mi", hue="task", style="split", ax=ax, errorbar="sd", marker="o")
    ax.set_ylabel(f"I(C_i; y) [{unit_of(method)}], {method}" if unit_of(method) == "nats" else f"{method} [{unit_of(method)}]")
    ax.set_xticks(range(1, N_LAYERS + 1))
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


@styled
def mi_by_depth(archs: pd.DataFrame, methods: list[str]):
    """Per-layer value of each signal over every measured architecture (mean, 95% CI), each panel in its unit."""
    long = signal_long(archs, methods)
    fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3.0), squeeze=False)
    for ax, m in zip(axes[0], methods):
        sns.pointplot(long[long.method == m], x="layer", y="value", ax=ax, errorbar=("ci", 95))
        ax.set(title=m, xlabel="layer", ylabel="I(C_i; y) [nats]" if unit_of(m) == "nats" else f"{m} [{unit_of(m)}]")
    fig.tight_layout()
    return fig


@styled
def noise_bars(noise: pd.DataFrame):
    """Dirty vs clean posterior noise (mean pairwise MSE) per task."""
    long = noise.melt(id_vars=["task", "split"], value_vars=["dirty", "clean"], var_name="posterior", value_name="mse")
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(noise)), 3.2))
    sns.barplot(long, x="task", y="mse", hue="posterior", ax=ax)
    ax.set_yscale("log")
    ax.set(xlabel="data set", ylabel=f"mean pairwise {MSE_LABEL}")
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


@styled
def correlation_figure(corr: pd.DataFrame):
    """Per target: each method's per-layer rho with its 95% CI; the size baseline's CI as a grey band."""
    targets = list(dict.fromkeys(corr.target))
    ncols = min(2, len(targets))
    nrows = -(-len(targets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 3.0 * nrows), sharey=True, squeeze=False)
    for ax, target in zip(axes.flat, targets):
        c = corr[corr.target == target]
        layered = c[c.layer.notna()]
        for i, (method, g) in enumerate(layered.groupby("method")):
            x = g.layer.astype(float) + 0.12 * (i - (layered.method.nunique() - 1) / 2)
            ax.errorbar(x, g.rho, yerr=[g.rho - g.ci_low, g.ci_high - g.rho], marker="o", capsize=3, ls="none", label=method)
        for _, s in c[c.layer.isna()].iterrows():
            ax.axhspan(s.ci_low, s.ci_high, color="gray", alpha=0.2, label=f"{s.method}: 95% CI")
        ax.axhline(0, color="black", lw=0.8)
        ax.set(title=f"within-task Spearman with {target}", xlabel="layer", xticks=range(1, N_LAYERS + 1))
    for ax in axes[:, 0]:
        ax.set_ylabel("within-task Spearman rho (95% t-interval over tasks)")
    for ax in list(axes.flat)[len(targets):]:
        ax.axis("off")
    axes[0, -1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


@styled
def power_figure(own: pd.DataFrame, power: float = 0.8):
    """Notebook 04's own power check (`power.own_power`). Left: per planted strength, how often the test detects the
    planted signal (CI wholly below 0) and how often it calls any difference (CI excludes 0), Clopper-Pearson 95%
    bars, the target power and 0.05 dashed. Right: the planted effect on test MSE (mean, bars: sd over collections)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.3))
    x = own.strength.to_numpy(float)
    for col, label, dx in (("power", "detected (CI below 0)", -0.01), ("rejected", "any difference (CI excludes 0)", 0.01)):
        low, high = own[f"{col}_low"].to_numpy(float), own[f"{col}_high"].to_numpy(float)
        v = own[col].to_numpy(float)
        a.errorbar(x + dx, v, yerr=[v - low, high - v], marker="o", capsize=3, label=label)
    a.axhline(power, ls="--", color="gray", lw=1, label=f"target power {power}")
    a.axhline(0.05, ls=":", color="gray", lw=1, label="alpha 0.05")
    first = own.iloc[0]
    a.set(xlabel="planted strength (1: a perfect per-layer signal)", ylabel="rate over planted collections",
          ylim=(-0.03, 1.03), title=f"{int(first.reps)} collections, {int(first.n_tasks)} held-out tasks, "
          f"{int(first.n_sources)} sources", xticks=x)
    b.errorbar(x, own.effect, yerr=own.effect_sd.fillna(0), marker="o", capsize=3)
    b.axhline(0, color="black", lw=0.8)
    b.set(xlabel="planted strength", ylabel=f"effect on test {MSE_LABEL}", title="NN + signal minus its shuffled twin (< 0: helps)",
          xticks=x)
    a.legend(fontsize=7)
    fig.tight_layout()
    return fig


@styled
def source_grid(tasks: list, n_images: int = 12):
    """One row per independent source: training images of its first task, one per class up to n_images."""
    first = {}
    for t in tasks:
        first.setdefault(t.source, t)
    fig, axes = plt.subplots(len(first), 1, figsize=(0.6 * n_images, 0.65 * len(first) + 0.3), squeeze=False)
    for ax, (source, t) in zip(axes[:, 0], first.items()):
        picks = [int((t.y_train == c).nonzero()[0, 0]) for c in range(t.n_classes)][:n_images]
        row = np.concatenate([t.x_train[i, 0].numpy() for i in picks], axis=-1)  # (H, k*W), first channel
        ax.imshow(row, cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_ylabel(source, rotation=0, ha="right", va="center", fontsize=7)
    return fig
