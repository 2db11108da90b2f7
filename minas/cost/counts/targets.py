"""Notebooks 01 and 06: `study.target`'s trainings of n_archs architectures x n_seeds seeds per target task.

01 (`target.architecture_signal`): each (architecture, seed) trained through `target.rung_budgets`, continued from
one budget to the next (one call per budget). 06 (`target.signal_reliability`): each trained to convergence, then
every signal of mi.signals read on it.
"""
from __future__ import annotations

from minas.core.config import StudyConfig
from minas.cost.counts import counts, signal_rows
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.study import target


@counts("01_data_prep")
def architecture_signal(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """Notebook 01's architecture signal: n_archs x n_seeds trainings per task through the rungs' budgets."""
    by_name = {s.name: s for s in shapes}
    budgets = target.rung_budgets(cfg)
    for t in cfg.target.tasks:
        w.fixed(by_name[t], budgets[-1], cfg.target.n_archs * cfg.target.n_seeds, calls=len(budgets))


@counts("06_analysis")
def signal_reliability(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """Notebook 06's test-retest of every signal: n_archs x n_seeds trainings to convergence per task, and signals."""
    by_name = {s.name: s for s in shapes}
    n = cfg.target.n_archs * cfg.target.n_seeds
    for t in cfg.target.reliability_tasks:
        w.converge(cfg, by_name[t], n)
        w.signals(cfg.mi.signals, signal_rows(cfg, by_name[t]), n)
