"""A notebook's work as counts: trainings, architecture-epochs, images, signal calls and their rows.

The units `minas.cost.throughput` prices: a training image (forward + backward) of a network of some FLOPs on
images of a shape, a forward-only image (recalibration, evaluation), 1,000 rows of a signal call, one posterior
predictor and its epochs. `task_shapes` gives the rows and image shapes the counts rest on: each task loaded as
notebook 01 loads it, or, where its files are not on this machine, its data family's `shape` (published sizes
capped by the profile).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minas.core.config import StudyConfig
from minas.data import catalog
from minas.data.task import DataError, TaskShape

FORWARD_SHARE = 1 / 3  # a forward-only image (recalibration, evaluation) costs about a third of a training image
FORWARD_ROWS = 1024  # rows a training recalibrates on after its last epoch (`cnn`'s batch-norm recalibration, at most)


@dataclass
class Work:
    """One notebook's counted work."""

    notebook: str
    trainings: int = 0  # fixed-epoch training calls (a Hyperband rung continues its survivors: one call each)
    convergence_trainings: int = 0
    arch_epochs: float = 0.0
    images: dict = field(default_factory=dict)  # (channels, size) -> training images (forward + backward)
    forward_images: dict = field(default_factory=dict)  # (channels, size) -> recalibration / evaluation images
    mi_estimates: float = 0.0  # signal calls (one network's layers, or one known-MI problem)
    mi_rows: dict = field(default_factory=dict)  # method -> rows read, summed over its calls (x layers share)
    problem_rows: dict = field(default_factory=dict)  # (method, "flat" | "image") -> rows x layers of known-MI problems
    hyperband_instances: int = 0
    controller_instances: int = 0
    predictors: float = 0.0  # posterior-predictor trainings (notebook 04), in units of one on the fixed split's pairs
    predictor_epochs: float = 0.0  # their epochs, in the same unit
    autobuild_epochs: float = 0.0  # AutoBuild's full-batch epochs (notebook 04)
    autobuild_row_epochs: float = 0.0  # the Hyperband rows they read, summed over epochs
    power_collections: int = 0  # planted collections built and scored (notebook 04's power of its own test)
    figures: int = 0  # figures the notebook draws, saves and shows (its `save_figure` calls)
    parallel: bool = False  # run by the engine's workers
    converge_epochs: float = 0.0  # epochs of a training to convergence (0: patience + CONVERGE_EXTRA)
    counted: bool = True  # False: no counter knows this notebook (`minas.cost.counts`); only its start is priced

    def add(self, shape: TaskShape, epochs: float, n: float = 1, rows: int | None = None) -> None:
        """n trainings of `epochs` epochs on `rows` (default all) training rows of `shape`, then recalibrate + test."""
        rows = shape.n_train if rows is None else rows
        key = (shape.channels, shape.size)
        self.arch_epochs += n * epochs
        self.images[key] = self.images.get(key, 0.0) + n * epochs * rows
        self.forward(shape, n * (min(FORWARD_ROWS, rows) + shape.n_test))

    def forward(self, shape: TaskShape, images: float) -> None:
        """Forward-only images of `shape` (evaluation, recalibration)."""
        key = (shape.channels, shape.size)
        self.forward_images[key] = self.forward_images.get(key, 0.0) + images

    def converge(self, cfg: StudyConfig, shape: TaskShape, n: float = 1) -> None:
        """n trainings to convergence: each epoch trains the fit rows, recalibrates and evaluates the held-out rows."""
        epochs = converge_epochs(cfg, self.converge_epochs)
        n_val = max(2, round(cfg.train.val_fraction * shape.n_train))
        self.convergence_trainings += int(n)
        self.add(shape, epochs, n, shape.n_train - n_val)
        self.forward(shape, n * epochs * (min(FORWARD_ROWS, shape.n_train - n_val) + n_val))

    def fixed(self, shape: TaskShape, epochs: float, n: float = 1, calls: int = 1) -> None:
        """n fixed-epoch trainings of `epochs` epochs on all training rows, made in `calls` calls each (a training
        continued through budgets or rungs is one call per budget, each recalibrating and testing)."""
        self.trainings += int(n * calls)
        self.add(shape, epochs, n)
        self.forward(shape, n * (calls - 1) * (min(FORWARD_ROWS, shape.n_train) + shape.n_test))

    def hyperband(self, cfg: StudyConfig, shape: TaskShape, distinct: int, n: float = 1, stored: int = 0) -> None:
        """n Hyperband instances of `distinct` distinct inputs on `shape` (`collection.run_brackets`), `stored` of whose
        first-rung trainings are in the store already: each rung trains its survivors on, one call each."""
        hb = cfg.hyperband
        fresh = [distinct - stored] + [min(distinct, k) for k in hb.survivors]
        calls, epochs = sum(fresh), sum(a * e for a, e in zip(fresh, hb.epochs_per_rung))
        key = (shape.channels, shape.size)
        self.hyperband_instances += int(n)
        self.trainings += int(n * calls)
        self.arch_epochs += n * epochs
        self.images[key] = self.images.get(key, 0.0) + n * epochs * shape.n_train
        self.forward(shape, n * calls * (min(FORWARD_ROWS, shape.n_train) + shape.n_test))

    def problems(self, methods, rows: int, n: float = 1, flat: int = 0, image: int = 0) -> None:
        """n calls of every method on a known-MI problem of `rows` rows (`minas.mi.known`) with `flat` flat inputs
        and `image` image-shaped layers (a layer of the study's networks), all in one call."""
        for m in methods:
            self.mi_estimates += n
            for kind, layers in (("flat", flat), ("image", image)):
                if layers:
                    self.problem_rows[(m, kind)] = self.problem_rows.get((m, kind), 0.0) + n * rows * layers

    def signals(self, methods, rows: int, n: float = 1, share: float = 1.0) -> None:
        """n calls of every method on `rows` rows (share: a call's size relative to one network's 4 layers)."""
        for m in methods:
            self.mi_estimates += n
            self.mi_rows[m] = self.mi_rows.get(m, 0.0) + n * rows * share


CONVERGE_EXTRA = 6.5  # epochs before the best one: default of 2026-12-01 took 8.5 epochs per input sample at patience 2


def converge_epochs(cfg: StudyConfig, measured: float = 0.0) -> float:
    """Epochs of a training to convergence: as measured (`Throughput.converge_epochs`), else patience +
    CONVERGE_EXTRA; train.max_epochs caps both."""
    return min(cfg.train.max_epochs, measured or cfg.train.patience + CONVERGE_EXTRA)


def task_shapes(cfg: StudyConfig) -> tuple[list[TaskShape], str]:
    """(the profile's tasks with their row counts and image shapes, where they came from).

    Loads each task as notebook 01 does; a task whose files are not on this machine (DataError) is planned from its
    data family's `shape` (published sizes capped by data.max_train/test_per_task), when the family offers one.
    """
    out, guessed = [], []
    for fam in catalog.families(cfg):
        for name in [n for n in fam.task_names(cfg) if not cfg.data.tasks or n in cfg.data.tasks]:
            try:
                t = catalog.get_task(cfg, name)
                out.append(TaskShape(t.name, t.split, t.n_train, t.n_test, t.in_channels, t.image_size, t.source))
            except DataError:
                if not hasattr(fam, "shape"):
                    raise
                out.append(fam.shape(cfg, name))
                guessed.append(name)
    return out, f"published sizes for {len(guessed)} task(s) whose files are not here" if guessed else "data"


def mean_shape(shapes: list[TaskShape]) -> TaskShape:
    """A task of the shapes' mean rows (the controller visits training tasks uniformly at random)."""
    first = shapes[0]
    return TaskShape("mean of training tasks", "train", round(np.mean([s.n_train for s in shapes])),
                     round(np.mean([s.n_test for s in shapes])), first.channels, first.size)
