"""Gaussian + descriptors: the task's own descriptors move each layer's Gaussian (issue 31, item 4).

Source: issue 31's control for "what MI adds": a designed spread between tasks (classes, rows, resolution,
difficulty) is visible in the task's descriptors, so a signal must beat them, not only the input-free
fitted Gaussian (Kossmann 2019, sec. 3.1). The feature is four numbers per task, the same in every layer's
slot: classes, training rows and image side (`Collected.tasks`, the data room's `task_table`), and the
mean converged accuracy of the task's input samples. The fit is the low-variance `SignalGaussian`, 11
numbers per layer at four features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minas.nas.space import N_LAYERS
from minas.study.predict.features import ReadsNoSignal, task_mean
from minas.study.predict.fits import GROUPED_GAUSSIAN
from minas.study.predict.slot import PosteriorPredictor, register

COLUMNS = ("classes", "n_train", "size")  # of Collected.tasks; the fourth descriptor is the input samples' mean accuracy


@dataclass(frozen=True)
class TaskDescriptors(ReadsNoSignal):
    """classes, training rows, image side and the input samples' mean accuracy of the sample's task, per layer."""

    label = "descriptors"
    width = 4

    def missing(self, collected) -> str:
        tasks = getattr(collected, "tasks", None)
        if tasks is None or tasks.empty or not set(COLUMNS) <= set(tasks.columns):
            return ("the collection carries no task table (Collected.tasks with classes, n_train, size): read it with "
                    "collection.load_collected, or give a hand-built collection one")
        absent = sorted(set(collected.samples.task) - set(tasks.name))
        return f"tasks {absent} are not in the collection's task table" if absent else ""

    def matrix(self, collected) -> np.ndarray:
        if why := self.missing(collected):
            raise ValueError(f"feature 'descriptors': {why}")
        s = collected.samples
        own = collected.tasks.set_index("name").loc[s.task, list(COLUMNS)].to_numpy(np.float64)  # (n, 3)
        accuracy = task_mean(collected, s["accuracy"].to_numpy(np.float64)[:, None])  # (n, 1)
        d = np.concatenate([own, accuracy], axis=1)  # (n, 4)
        return np.tile(d, (1, N_LAYERS))  # (n, L x 4), layer-major: every layer sees the same four


register(PosteriorPredictor("Gaussian + descriptors", TaskDescriptors(), GROUPED_GAUSSIAN,
                            "the task's classes, rows, px and input samples' mean accuracy move each layer's Gaussian",
                            rank=80, against=("Fitted Gaussian", "Gaussian + accuracy")))
