"""Notebook 04: posterior predictors, counted from the functions 04 calls (thesis 3.1).

Experiment 1 (`predict.run_experiment`): one NN per signal of `default_signals` x predict.seeds; its own power check
(`power.own_power`): per strength, predict.power_reps planted collections and their shuffled twins, each an NN per
planted signal x predict.seeds; the cross-validation over sources (`run_cross_validation` with
`predict.design.crossval_settings`): per source a fold of `cv_signals` NNs, on every other source's tasks;
AutoBuild (`autobuild.evaluate`). Predictors are counted in units of one NN on the fixed split's training pairs.
The predictor slot's registry (issue 30, item 2) is where these lists should come from once it exists.
"""
from __future__ import annotations

import inspect
from types import SimpleNamespace

from minas.core.config import StudyConfig
from minas.cost.counts import counts
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.study import predict
from minas.study.predict import crossval, design, power


def own_power_strengths() -> tuple:
    """The planted strengths notebook 04's `power.own_power` call scores (its default)."""
    return tuple(inspect.signature(power.own_power).parameters["strengths"].default)


@counts("04_posterior_prediction")
def posterior_prediction(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """Notebook 04's predictor trainings and their epochs."""
    pc = cfg.predict
    collected = SimpleNamespace(signals=list(cfg.mi.signals))  # what the signal lists read of a collection
    nets = len(predict.default_signals(collected, cfg.mi.signals[0])) * pc.seeds
    strengths = own_power_strengths()
    power_nets = len(strengths) * 2 * pc.power_reps * len(power.SIGNAL) * pc.seeds
    n_train = max(1, sum(s.split == "train" for s in shapes))
    sources = {s.source or s.name for s in shapes}
    per_fold = (len(shapes) - len(shapes) / max(1, len(sources))) / n_train  # a fold's training tasks, in split units
    cv = design.crossval_settings(cfg)
    cv_nets = len(sources) * len(crossval.cv_signals(collected, cfg.mi.signals[0])) * cv["seeds"] * per_fold
    w.predictors += nets + power_nets + cv_nets
    w.predictor_epochs += (nets + power_nets) * pc.epochs + cv_nets * cv["epochs"]
    w.power_collections += len(strengths) * pc.power_reps
