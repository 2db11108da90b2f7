"""How a signal becomes columns of the samples and reference tables: `raw_<signal>_<layer>` and
`z_<signal>_<layer>` (z-scored against the task's standardization set, thesis A.4).

Layers are 1..L for a per-layer signal (an MI estimate, the probe, a per-layer proxy) and the single
layer 0 for a whole-network one (a parameter count). The one place that spells a column name.
"""
from __future__ import annotations

import pandas as pd

from minas.core.registry import SIGNALS
from minas.nas.space import N_LAYERS


def signal_column(signal: str, layer: int, standardized: bool = False) -> str:
    """The column of one signal's layer: `raw_<signal>_<layer>`, or `z_<signal>_<layer>` z-scored."""
    return f"{'z' if standardized else 'raw'}_{signal}_{layer}"


def signal_layers(signal: str) -> list[int]:
    """The layers a signal has values for: 1..L for a per-layer signal, [0] for a whole-network one."""
    return list(range(1, N_LAYERS + 1)) if SIGNALS.get(signal).per_layer else [0]


def signal_columns(signal: str, standardized: bool = False) -> list[str]:
    """The columns of one signal: layers 1..L, or the single layer-0 column of a whole-network signal."""
    return [signal_column(signal, l, standardized) for l in signal_layers(signal)]


def signal_long(frame: pd.DataFrame, signals: list[str], id_vars=("task", "arch")) -> pd.DataFrame:
    """Raw signal columns of a samples/reference frame as long rows: id_vars, method, layer, value."""
    parts = [frame[list(id_vars)].assign(method=s, layer=l, value=frame[signal_column(s, l)].to_numpy())
             for s in signals for l in signal_layers(s)]
    return pd.concat(parts, ignore_index=True)
