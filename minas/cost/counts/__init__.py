"""Counters: one function per notebook that counts the work it asks for, from the design functions it calls.

A counter is registered under its notebook's stem (`@counts("03_hyperband_collection")`) by a module of this
package; `count` finds the series' notebooks in notebooks/ (NN_name.ipynb, as `minas run` does) and asks each one's
counter, so a new notebook needs its counter module here and nothing else (without one it is planned at its start
only, and `minas plan` says so). Every module of this package is imported on first use.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Callable

from minas.core import series
from minas.core.config import StudyConfig
from minas.cost.work import Work
from minas.data.task import TaskShape

NOTEBOOKS = series.NOTEBOOKS
Counter = Callable[[StudyConfig, list[TaskShape], Work], None]
COUNTERS: dict[str, Counter] = {}  # notebook stem -> counter
_loaded = False


def counts(stem: str) -> Callable[[Counter], Counter]:
    """Register the decorated function as the counter of notebook `stem` (e.g. "01_data_prep")."""
    def register(fn: Counter) -> Counter:
        if stem in COUNTERS and COUNTERS[stem] is not fn:
            raise ValueError(f"notebook {stem!r} has two counters ({COUNTERS[stem].__module__}, {fn.__module__})")
        COUNTERS[stem] = fn
        return fn
    return register


def counters() -> dict[str, Counter]:
    """Every registered counter, after importing every module of this package once."""
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
    return COUNTERS


def notebook_stems() -> list[str]:
    """The series' notebooks in order, as `minas run` finds them (`core.series`: notebooks/NN_name.ipynb)."""
    return series.notebook_names()


def count(cfg: StudyConfig, shapes: list[TaskShape], converge_epochs: float = 0.0,
          stems: list[str] | None = None) -> list[Work]:
    """Every notebook's work for the profile `cfg` on tasks `shapes` (converge_epochs: what a training to convergence
    takes, as `Throughput.converge_epochs` measured it; 0: patience + CONVERGE_EXTRA)."""
    known = counters()
    out = []
    for stem in stems if stems is not None else notebook_stems():
        w = Work(stem, converge_epochs=converge_epochs, counted=stem in known, figures=figures(stem))
        if stem in known:
            known[stem](cfg, shapes, w)
        out.append(w)
    return out


def figures(stem: str) -> int:
    """The figures a notebook saves (and shows): its code cells' `save_figure(` calls (0 for a notebook not there)."""
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        return 0
    cells = json.loads(path.read_text())["cells"]
    return sum("".join(c["source"]).count("save_figure(") for c in cells if c["cell_type"] == "code")


def signal_rows(cfg: StudyConfig, shape: TaskShape) -> int:
    """Rows a signal call reads on a task (`jobs.signal_values`: mi.max_rows of its training rows at most)."""
    return min(cfg.mi.max_rows, shape.n_train)
