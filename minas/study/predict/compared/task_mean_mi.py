"""Gaussian + task-mean MI: the primary signal, raw, averaged over the task's input samples (issue 31, item 4).

Source: issue 31's measurement that NN + MI reads MI z-scored within each task (thesis A.4), whose task
mean is zero by construction: a task-level signal (what a designed spread between tasks plants) cannot
reach it. This channel keeps MI's task level: per layer, the raw MI averaged over the task's input
samples, the same for every sample of the task. Fitted by the low-variance `SignalGaussian` (20 numbers).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from minas.study.predict.features import SignalFeature, task_mean
from minas.study.predict.fits import GROUPED_GAUSSIAN
from minas.study.predict.slot import PosteriorPredictor, register


@dataclass(frozen=True)
class TaskMean:
    """Any feature averaged over the input samples of each task (its task level, without the within-task spread)."""

    of: SignalFeature = SignalFeature(z=False)
    width = 1

    @property
    def label(self) -> str:
        return f"task mean {self.of.label}"

    @property
    def signal(self) -> str:
        return self.of.signal or ""

    def bind(self, signals: list[str], primary: str | None) -> TaskMean | None:
        of = self.of.bind(signals, primary)
        return None if of is None else dataclasses.replace(self, of=of)

    def missing(self, collected) -> str:
        return self.of.missing(collected)

    def matrix(self, collected) -> np.ndarray:
        return task_mean(collected, self.of.matrix(collected))


register(PosteriorPredictor("Gaussian + task-mean MI", TaskMean(), GROUPED_GAUSSIAN,
                            "the primary signal's raw task mean per layer moves each layer's Gaussian",
                            rank=90, against=("Fitted Gaussian", "Gaussian + noise", "Gaussian + descriptors")))
