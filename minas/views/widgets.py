"""Interactive views for the notebooks (ipywidgets): per-layer MI, and Hyperband posteriors vs predictions.

The MI estimates come from `minas.mi` (MINE: Belghazi et al. 2018; per-layer MI as in Kossmann 2019);
the posteriors and their predictors from `minas.study.predict` (thesis Experiment 1, Fig. 3.3).
Each view shows a text marker "drawn N times: <selection>" that changes on every redraw, so a
browser test can see a redraw without comparing images.
"""
from __future__ import annotations

import os

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from minas.core.progress import HEADLESS  # 1 in the kernels `minas run` starts
from minas.study.predict import example_frame

COLUMNS = ("task", "arch", "method", "seed", "layer", "value", "curve")


def _marker() -> widgets.Label:
    label = widgets.Label(value="")
    label.add_class("minas-redraw-marker")
    return label


def _show(output: widgets.Output, fig) -> None:
    """Replace the output's content by the figure (as a PNG) and close it.

    In a headless run (`HEADLESS` = 1) the figure is a plain output of the cell instead: papermill's client mimics
    the Output widget by sending on the kernel's shell channel while it waits for the cell's reply there, and
    under CPU load that reply was then seen only when the cell timeout ran out (600 s per widget cell on
    `smoke`, measured 2026-12-01; nbclient issue 312). The executed notebook shows the figure without widget state.
    """
    from IPython.display import display

    if os.environ.get(HEADLESS) == "1":
        display(fig)
        plt.close(fig)
        return
    output.clear_output(wait=True)
    with output:
        display(fig)
    plt.close(fig)


class MIExplorer(widgets.VBox):
    """Dropdowns (task, arch, method) over a frame of MI estimates; redraws once per change.

    The arch dropdown lists the chosen task's architectures. `redraws` counts the drawings,
    `shown` holds the latest per-layer mean/std table and `marker` says "drawn N times: task / arch /
    method", so a test can set a dropdown's `.value` from Python and check what was drawn.
    """

    def __init__(self, frame: pd.DataFrame):
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"mi_explorer: frame lacks columns {missing}; needs {list(COLUMNS)}")
        self.frame = frame
        self.task, self.method = (widgets.Dropdown(options=sorted(frame[c].astype(str).unique()), description=c)
                                  for c in ("task", "method"))
        self.arch = widgets.Dropdown(options=self._archs(self.task.value), description="arch")
        self.output, self.marker = widgets.Output(), _marker()
        self.redraws = 0
        self.shown = pd.DataFrame()
        self._hold = False  # set while the task change refills the arch options: one redraw per change
        self.task.observe(self._task_changed, names="value")
        for d in (self.arch, self.method):
            d.observe(lambda _change: None if self._hold else self.redraw(), names="value")
        super().__init__([widgets.HBox([self.task, self.arch, self.method]), self.marker, self.output])
        self.redraw()

    def _archs(self, task) -> list[str]:
        return sorted(self.frame.loc[self.frame["task"].astype(str) == task, "arch"].astype(str).unique())

    def _task_changed(self, _change) -> None:
        keep, self._hold = self.arch.value, True
        try:
            self.arch.options = self._archs(self.task.value)
            if keep in self.arch.options:
                self.arch.value = keep
        finally:
            self._hold = False
        self.redraw()

    def selection(self) -> pd.DataFrame:
        """The rows of the chosen task, architecture and estimator."""
        f = self.frame
        keep = (f["task"].astype(str) == self.task.value) & (f["arch"].astype(str) == self.arch.value)
        return f[keep & (f["method"].astype(str) == self.method.value)]

    def redraw(self) -> None:
        """Per-layer MI (mean +- std over seeds) and the critics' training curves."""
        rows = self.selection()
        self.shown = rows.groupby("layer")["value"].agg(["mean", "std", "count"]).reset_index()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
        if len(rows):
            ax1.errorbar(self.shown["layer"], self.shown["mean"], yerr=self.shown["std"].fillna(0), marker="o", capsize=4)
            for (layer, seed), r in rows.groupby(["layer", "seed"]):
                curve = r["curve"].iloc[0]
                ax2.plot(np.arange(1, len(curve) + 1), curve, color=plt.cm.viridis(layer / 4), alpha=0.7,
                         label=f"layer {layer}" if seed == rows["seed"].min() else None)
            if ax2.lines:
                ax2.legend(fontsize=7)
        else:
            ax1.text(0.5, 0.5, "no estimates for this choice", ha="center", transform=ax1.transAxes)
        what = f"{self.task.value} / {self.arch.value} / {self.method.value}"
        ax1.set(xlabel="layer", ylabel="MI (nats; probe: accuracy)", title=what)
        ax2.set(xlabel="critic epoch", ylabel="bound (nats, training rows)", title="critic training")
        fig.tight_layout()
        _show(self.output, fig)
        self.redraws += 1
        self.marker.value = f"drawn {self.redraws} times: {what}"


def mi_explorer(frame: pd.DataFrame) -> MIExplorer:
    """A widget to browse MI per layer (error bars over seeds) and critic curves; columns: COLUMNS."""
    return MIExplorer(frame)


class PosteriorExplorer(widgets.VBox):
    """Dropdowns (test task, pair) over a predict.Experiment1: per layer, the clean Hyperband posterior
    (target) of the chosen test pair against each predictor's prediction (thesis Fig. 3.3).

    `redraws`, `shown` (the long frame drawn: source, layer, filters, p) and `marker` as in MIExplorer.
    """

    def __init__(self, exp, methods: list[str]):
        unknown = [m for m in methods if m not in exp.predictions]
        if unknown:
            raise ValueError(f"posterior_explorer: no predictions for {unknown}; known: {sorted(exp.predictions)}")
        if len(exp.test) == 0:
            raise ValueError("posterior_explorer: the experiment has no test pairs")
        self.exp, self.methods = exp, list(methods)
        self.task = widgets.Dropdown(options=sorted(np.unique(exp.test.task).tolist()), description="test task")
        self.pair = widgets.Dropdown(options=self._pairs(self.task.value), description="pair")
        self.output, self.marker = widgets.Output(), _marker()
        self.redraws = 0
        self.shown = pd.DataFrame()
        self._hold = False
        self.task.observe(self._task_changed, names="value")
        self.pair.observe(lambda _change: None if self._hold else self.redraw(), names="value")
        super().__init__([widgets.HBox([self.task, self.pair]), self.marker, self.output])
        self.redraw()

    def _pairs(self, task) -> list[tuple[str, int]]:
        t = self.exp.test
        return [(f"sample {t.sample[i]}, clean posterior {t.clean[i]}", int(i)) for i in np.flatnonzero(t.task == task)]

    def _task_changed(self, _change) -> None:
        self._hold = True
        try:
            self.pair.options = self._pairs(self.task.value)
        finally:
            self._hold = False
        self.redraw()

    def redraw(self) -> None:
        """One panel per layer: target and every prediction over the 23 filter options."""
        i = int(self.pair.value)
        self.shown = example_frame(self.exp, i, self.methods)
        fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), sharey=True)
        for layer, ax in enumerate(axes, start=1):
            for source, g in self.shown[self.shown.layer == layer].groupby("source", sort=False):
                ax.plot(g.filters, g.p, lw=2.5 if source == "target" else 1.2, color="black" if source == "target" else None,
                        label=source)
            ax.set(title=f"layer {layer}", xlabel="filters")
        axes[0].set_ylabel("probability")
        axes[-1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
        fig.tight_layout()
        _show(self.output, fig)
        self.redraws += 1
        self.marker.value = f"drawn {self.redraws} times: {self.task.value} / pair {i} ({self.pair.label})"


def posterior_explorer(exp, methods: list[str]) -> PosteriorExplorer:
    """A widget to compare, for any test pair, the target posterior with each predictor's prediction."""
    return PosteriorExplorer(exp, methods)
