"""Notebook 03: the collection, counted from `study.collection`'s design (thesis 2.1-2.2).

Per collection seed (`seed_configs`) and task: every standardization and input-sample architecture
(`input_archs`) trained to convergence with every signal, and the task's Hyperband instances
(`collection_brackets`), each rung training its distinct survivors (`Work.hyperband`).
"""
from __future__ import annotations

from minas.core.config import StudyConfig
from minas.cost.counts import counts, signal_rows
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.study import collection


@counts("03_hyperband_collection")
def collect(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """`collection.collect`'s jobs: input samples (one engine job each), then every Hyperband instance."""
    w.parallel = True
    for c in collection.seed_configs(cfg):
        for s in shapes:
            std, inputs = collection.input_archs(c, s.name, s.split)
            pairs = len({a.id for a in std + inputs})
            w.converge(c, s, pairs)
            w.signals(c.mi.signals, signal_rows(c, s), pairs)
            for spec in collection.collection_brackets(c, s.name, s.split):
                w.hyperband(c, s, len({a.id for a in spec.archs}))
