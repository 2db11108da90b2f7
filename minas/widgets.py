"""Interactive views for the notebooks (ipywidgets): browse per-layer MI across tasks, architectures, estimators.

The MI estimates come from `minas.mi` (MINE: Belghazi et al. 2018; per-layer MI as in Kossmann 2019).
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

COLUMNS = ("task", "arch", "method", "seed", "layer", "value", "curve")


class MIExplorer(widgets.VBox):
    """Dropdowns (task, arch, method) over a frame of MI estimates; redraws on every change.

    `redraws` counts the drawings and `shown` holds the latest per-layer mean/std table, so a
    test can set a dropdown's `.value` from Python and check what was drawn.
    """

    def __init__(self, frame: pd.DataFrame):
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"mi_explorer: frame lacks columns {missing}; needs {list(COLUMNS)}")
        self.frame = frame
        self.task, self.arch, self.method = (
            widgets.Dropdown(options=sorted(frame[c].astype(str).unique()), description=c) for c in ("task", "arch", "method"))
        self.output = widgets.Output()
        self.redraws = 0
        self.shown = pd.DataFrame()
        for d in (self.task, self.arch, self.method):
            d.observe(lambda _change: self.redraw(), names="value")
        super().__init__([widgets.HBox([self.task, self.arch, self.method]), self.output])
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
        self.output.clear_output(wait=True)
        with self.output:
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
            if len(rows):
                ax1.errorbar(self.shown["layer"], self.shown["mean"], yerr=self.shown["std"].fillna(0), marker="o", capsize=4)
                for (layer, seed), r in rows.groupby(["layer", "seed"]):
                    curve = r["curve"].iloc[0]
                    ax2.plot(np.arange(1, len(curve) + 1), curve, color=plt.cm.viridis(layer / 4), alpha=0.7,
                             label=f"layer {layer}" if seed == rows["seed"].min() else None)
                ax2.legend(fontsize=7)
            else:
                ax1.text(0.5, 0.5, "no estimates for this choice", ha="center", transform=ax1.transAxes)
            ax1.set(xlabel="layer", ylabel="MI (nats)", title=f"{self.task.value} / {self.arch.value} / {self.method.value}")
            ax2.set(xlabel="critic epoch", ylabel="bound (nats, training rows)", title="critic training")
            fig.tight_layout()
            from IPython.display import display

            display(fig)
            plt.close(fig)
        self.redraws += 1


def mi_explorer(frame: pd.DataFrame) -> MIExplorer:
    """A widget to browse MI per layer (error bars over seeds) and critic curves; columns: COLUMNS."""
    return MIExplorer(frame)
