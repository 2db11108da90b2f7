"""The figures' one style (views/plots.py, views/controller_figures.py): seaborn's whitegrid, one colour-blind
palette, one sequential heatmap map, and the axis labels several figures share.
"""
from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import seaborn as sns

from minas.core.registry import SIGNALS

HEATMAP_CMAP = "viridis"  # every heatmap: one sequential map, 0 at the bottom of its colour bar
PALETTE = "colorblind"  # every categorical colour
STYLE = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85),
         "axes.prop_cycle": plt.cycler(color=sns.color_palette(PALETTE))}
MSE_LABEL = "MSE (per-layer scale)"  # hyperband.posterior sums each layer to 1
HS_LABEL = "mean hs of Hyperband output (accuracy - λ·filters)"


def use_style() -> None:
    """Set the project's one plotting style (STYLE) as the session's matplotlib defaults (idempotent)."""
    plt.rcParams.update(STYLE)


def styled(fn):
    """Draw under the project's one plotting style, whichever notebook calls (sets it as the session default)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        use_style()
        return fn(*args, **kwargs)
    return wrapper


def unit_of(method: str) -> str:
    """A signal's unit ("nats", "accuracy", ...) from the signal registry, "value" if it is not registered."""
    try:
        return SIGNALS.get(method).unit
    except (KeyError, ValueError, ImportError):
        return "value"
