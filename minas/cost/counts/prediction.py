"""Notebook 04: posterior predictors, counted from the functions 04 calls (thesis 3.1).

Experiment 1 (`predict.run_experiment`): one NN per signal of `default_signals` x predict.seeds; its own power check
(`power.own_power`): per strength, predict.power_reps planted collections and their shuffled twins, each an NN per
planted signal x predict.seeds; the cross-validation over sources (`run_cross_validation` with
`predict.design.crossval_settings`): per source a fold of `cv_signals` NNs, on every other source's tasks;
AutoBuild (`autobuild.evaluate`: each of its `variants` x predict.seeds, full-batch on the training tasks' Hyperband
rows). Predictors are counted in units of one NN on the fixed split's training pairs.
The predictor slot's registry (issue 30, item 2) is where these lists should come from once it exists.
"""
from __future__ import annotations

import inspect
from types import SimpleNamespace

from minas.core.config import StudyConfig
from minas.cost.counts import counts
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.study import autobuild, collection, predict
from minas.study.predict import crossval, design, power


def _default(fn, name: str):
    """The default of `fn`'s argument `name`: what notebook 04's call, which leaves it out, runs with."""
    return inspect.signature(fn).parameters[name].default


def own_power_strengths() -> tuple:
    """The planted strengths notebook 04's `power.own_power` call scores."""
    return tuple(_default(power.own_power, "strengths"))


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
    hb = cfg.hyperband
    rows = sum(len(collection.collection_brackets(cfg, s.name, s.split)) for s in shapes if s.split == "train")
    rows *= hb.n_inputs + sum(hb.survivors)  # a Hyperband row per rung and architecture of the training tasks
    fits = len(autobuild.variants(cfg, collected)) * pc.seeds
    w.autobuild_epochs += fits * _default(autobuild.evaluate, "epochs")
    w.autobuild_row_epochs += w.autobuild_epochs * rows
