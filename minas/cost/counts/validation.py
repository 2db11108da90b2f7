"""Notebook 02: the estimators' validation, counted from `study.layer_mi.validation_design` (what 02 runs).

Known-MI suite (`mi.validation.validation_suite`: every estimator a problem's kind allows, per seed, one flat
input), the suite at the study's shapes (`run_problems`: every layer of a problem in one call, plus a labels-shuffled
twin of each high-truth problem), the thesis MINE on the flat and C = 10 problems, the bias-vs-rows curve, noisy
labels on every row of the first training task (input pixels), and two sets of trained networks: `real_layers`
(estimates on the training and the held-out rows, beside linear and MLP probes on both) and `layer_mi_on_tasks`.
"""
from __future__ import annotations

from minas.core.config import StudyConfig
from minas.cost.counts import counts
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.mi import ESTIMATORS
from minas.mi.known import SUITE_TASKS
from minas.mi.validation import LOW
from minas.study import layer_mi


def _problem_calls(w: Work, problems: list, methods: list, rows: int, shuffled: bool) -> None:
    """`run_problems`: each method on each problem (its layers in one call), a shuffled twin per high truth."""
    for p in problems:
        twins = 2 if shuffled and p.truth != LOW else 1
        flat = sum(len(s) == 1 for s in p.shapes)
        w.problems(methods, rows, twins, flat=flat, image=len(p.shapes) - flat)


@counts("02_mine_validation")
def validate(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """Notebook 02's estimator calls and its trained networks."""
    d = layer_mi.validation_design(cfg)
    for task in SUITE_TASKS.get(cfg.profile, SUITE_TASKS["default"]):
        ms = [m for m in ESTIMATORS if not task.continuous or ESTIMATORS[m].continuous]
        w.problems(ms, cfg.mi.validation_rows, cfg.mi.validation_seeds, flat=1)
    _problem_calls(w, d.problems, d.suite_methods, d.study_rows, shuffled=True)
    _problem_calls(w, d.thesis_problems, d.thesis_methods, d.study_rows, shuffled=False)
    for r in cfg.mi.curve_rows:
        _problem_calls(w, d.curve_problems, d.suite_methods, r, shuffled=False)
    first = [s for s in shapes if s.split == "train"][0]
    w.problems(d.suite_methods, first.n_train + first.n_test, len(d.flips), flat=1)  # noisy labels: input pixels
    n = d.real["n_tasks"] * d.real["n_archs"]
    w.converge(cfg, first, n)  # real_layers: every training and every held-out row, probes on both
    for rows in (first.n_train, first.n_test):
        w.signals(d.real_methods, rows, n)
        w.signals(["probe"], first.n_train, n * 2)  # a linear and an MLP probe, trained on the training rows
    w.converge(cfg, first, n)  # layer_mi_on_tasks
    w.signals(d.per_layer_methods, min(cfg.mi.max_rows, first.n_train), n * d.real["seeds"])
