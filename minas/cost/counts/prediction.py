"""Notebook 04: posterior predictors, counted from the functions 04 calls (thesis 3.1).

Experiment 1 (`predict.run_experiment`): every MLP of the registered predictors' lineup (`predict.lineup`, the
PREDICTORS slot) x predict.seeds; its own power check (`power.own_power`): per strength, predict.power_reps planted
collections and their shuffled twins, each the MLPs of `power.SIGNAL` x predict.seeds; the cross-validation over
sources (`run_cross_validation` with `predict.design.crossval_settings`): per source a fold of the lineup's MLPs
marked `crossval`, on every other source's tasks;
AutoBuild (`autobuild.evaluate`: each of its `variants` x predict.seeds, full-batch on the training tasks' Hyperband
rows). Predictors are counted in units of one NN on the fixed split's training pairs; the Gaussian + X fits and
fixed baselines are not counted.
"""
from __future__ import annotations

import inspect
from types import SimpleNamespace

from minas.core.config import StudyConfig
from minas.cost.counts import counts
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.study import autobuild, collection, predict
from minas.study.predict import design, power


def _default(fn, name: str):
    """The default of `fn`'s argument `name`: what notebook 04's call, which leaves it out, runs with."""
    return inspect.signature(fn).parameters[name].default


def _mlps(predictors: list) -> int:
    """The predictors of a lineup that train (the thesis MLPs); the fixed baselines and Gaussian fits are cheap."""
    return sum(p.fit.kind == "mlp" for p in predictors)


def own_power_strengths() -> tuple:
    """The planted strengths notebook 04's `power.own_power` call scores."""
    return tuple(_default(power.own_power, "strengths"))


@counts("04_posterior_prediction")
def posterior_prediction(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """Notebook 04's predictor trainings and their epochs."""
    pc = cfg.predict
    signals, primary = list(cfg.mi.signals), cfg.mi.signals[0]
    nets = _mlps(predict.lineup(signals, primary)) * pc.seeds
    strengths = own_power_strengths()
    power_nets = len(strengths) * 2 * pc.power_reps * _mlps(power.SIGNAL) * pc.seeds
    n_train = max(1, sum(s.split == "train" for s in shapes))
    sources = {s.source or s.name for s in shapes}
    per_fold = (len(shapes) - len(shapes) / max(1, len(sources))) / n_train  # a fold's training tasks, in split units
    cv = design.crossval_settings(cfg)
    cv_nets = len(sources) * _mlps(predict.lineup(signals, primary, crossval=True)) * cv["seeds"] * per_fold
    w.predictors += nets + power_nets + cv_nets
    w.predictor_epochs += (nets + power_nets) * pc.epochs + cv_nets * cv["epochs"]
    w.power_collections += len(strengths) * pc.power_reps
    hb = cfg.hyperband
    rows = sum(len(collection.collection_brackets(cfg, s.name, s.split)) for s in shapes if s.split == "train")
    rows *= hb.n_inputs + sum(hb.survivors)  # a Hyperband row per rung and architecture of the training tasks
    fits = len(autobuild.variants(cfg, SimpleNamespace(signals=signals))) * pc.seeds  # what `variants` reads
    w.autobuild_epochs += fits * _default(autobuild.evaluate, "epochs")
    w.autobuild_row_epochs += w.autobuild_epochs * rows
