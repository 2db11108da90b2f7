"""The cost of a profile's series, counted from its settings and the study's code before any work.

Counts per notebook: trainings (fixed-epoch, to convergence), architecture-epochs, images, signal
estimates and their rows, Hyperband and controller instances; then hours from a throughput (seconds
per training image as a function of a network's FLOPs and per 1,000 rows of each signal: `calibrate`
measures this machine, or a JSON file measured elsewhere). Counts follow `collection`'s
`collection_brackets`, `input_archs`, `seed_configs` (03), Algorithm 1 of Kossmann 2019 as
`controller` runs it (M Hyperband instances per iteration, inputs fixed by `iteration_plan`) and
`evaluate_runs`' priors (05), the suites of `mi.validation` and `study.layer_mi` (02), and `study.target`
(01, 06). A training to convergence is planned at the epochs the throughput's calibration measured on the
profile's first task, else at `CONVERGE_EXTRA` epochs past patience (max_epochs caps both).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minas.core.config import StudyConfig
from minas.data import catalog, fashion, thesis
from minas.data.task import DataError
from minas.mi import ESTIMATORS
from minas.mi.validation import SUITE_TASKS, shape_problems
from minas.nas import population
from minas.study import collection, layer_mi
from minas.study.controller import EXPERIMENTS
from minas.cost.throughput import Throughput, calibrate, load_throughput, uniform_seconds

CONVERGE_EXTRA = 6.5  # epochs before the best one: default of 2026-12-01 took 8.5 epochs per input sample at patience 2
FORWARD_SHARE = 1 / 3  # a forward-only image (recalibration, evaluation) costs about a third of a training image
CV_NETS, CV_SEEDS = 6, 3  # notebook 04's cross-validation: predict.crossval.CV_METHODS per fold, seeds=3 (its cell)
OWN_POWER_STRENGTHS = 2  # power.own_power: strengths 0 and 1, each a planted collection and its shuffled twin
SUITE_LAYERS = 0.25  # a known-MI suite estimate reads one layer-like input: a quarter of a 4-layer network's call


@dataclass
class TaskShape:
    """What the cost of training on a task depends on."""

    name: str
    split: str
    n_train: int
    n_test: int
    channels: int
    size: int
    source: str = ""  # the independent image source (`Task.source`): notebook 04 cross-validates over sources


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
    hyperband_instances: int = 0
    controller_instances: int = 0
    predictors: float = 0.0  # posterior-predictor trainings (notebook 04), in units of one on the fixed split's pairs
    predictor_epochs: float = 0.0  # their epochs, in the same unit
    parallel: bool = False  # run by the engine's workers
    converge_epochs: float = 0.0  # epochs of a training to convergence (0: patience + CONVERGE_EXTRA)

    def add(self, shape: TaskShape, epochs: float, n: float = 1, rows: int | None = None) -> None:
        """n trainings of `epochs` epochs on `rows` (default all) training rows of `shape`, then recalibrate + test."""
        rows = shape.n_train if rows is None else rows
        key = (shape.channels, shape.size)
        self.arch_epochs += n * epochs
        self.images[key] = self.images.get(key, 0.0) + n * epochs * rows
        self.forward_images[key] = self.forward_images.get(key, 0.0) + n * (min(1024, rows) + shape.n_test)

    def converge(self, cfg: StudyConfig, shape: TaskShape, n: float = 1) -> None:
        """n trainings to convergence: each epoch trains the fit rows, recalibrates and evaluates the held-out rows."""
        epochs = min(cfg.train.max_epochs, self.converge_epochs or cfg.train.patience + CONVERGE_EXTRA)
        n_val = max(2, round(cfg.train.val_fraction * shape.n_train))
        self.convergence_trainings += int(n)
        self.add(shape, epochs, n, shape.n_train - n_val)
        key = (shape.channels, shape.size)
        self.forward_images[key] += n * epochs * (min(1024, shape.n_train - n_val) + n_val)

    def signals(self, methods, rows: int, n: float = 1, share: float = 1.0) -> None:
        """n calls of every method on `rows` rows (share: a call's size relative to one network's 4 layers)."""
        for m in methods:
            self.mi_estimates += n
            self.mi_rows[m] = self.mi_rows.get(m, 0.0) + n * rows * share


# the thesis data sets' published sizes (train, test, channels, side), for a plan on a machine without the data:
# MNIST, Fashion-MNIST, KMNIST (LeCun 1998, Xiao 2017, Clanuwat 2018), EMNIST letters (Cohen 2017), K-49 (232,365
# training images before balancing: the cap is an upper bound), CIFAR (Krizhevsky 2009), Tiny ImageNet: 10 classes
# x 500 training and 50 validation images, 64 px read at 32 (Le & Yang 2015)
PUBLISHED = {"mnist": (60000, 10000, 1, 28), "fashion-mnist": (60000, 10000, 1, 28), "kmnist": (60000, 10000, 1, 28),
             "emnist-letters": (124800, 20800, 1, 28), "k49": (232365, 38547, 1, 28), "cifar10": (50000, 10000, 3, 32),
             "cifar100": (50000, 10000, 3, 32), "tiny-imagenet": (5000, 500, 3, 32)}


def task_shapes(cfg: StudyConfig) -> tuple[list[TaskShape], str]:
    """(the profile's tasks with their row counts and image shapes, where they came from).

    Loads each task as notebook 01 does; a thesis or fashion task whose files are not on this machine
    (DataError) is planned from its data set's published size capped by data.max_train/test_per_task.
    """

    out, guessed = [], []
    for fam in catalog.families(cfg):
        for name in [n for n in fam.task_names(cfg) if not cfg.data.tasks or n in cfg.data.tasks]:
            try:
                t = catalog.get_task(cfg, name)
                out.append(TaskShape(t.name, t.split, t.n_train, t.n_test, t.in_channels, t.image_size, t.source))
                continue
            except DataError:
                if fam.name == "thesis":
                    n_tr, n_te, ch, side = PUBLISHED["tiny-imagenet" if name.startswith("tiny-imagenet") else name]
                    split = "test" if name in thesis.THESIS_TEST else "train"
                elif fam.name == "fashion":
                    (n_tr, n_te, _, _), ch, side = PUBLISHED["fashion-mnist"], 1, cfg.data.image_size
                    split = "test" if fashion.FASHION[name][0] in fashion.FASHION_TEST_FAMILIES else "train"
                else:
                    raise
            guessed.append(name)
            source = "tiny-imagenet" if name.startswith("tiny-imagenet") else name if fam.name == "thesis" else "fashion-mnist"
            out.append(TaskShape(name, split, min(n_tr, cfg.data.max_train_per_task),
                                 min(n_te, cfg.data.max_test_per_task), ch, side, source))
    return out, f"published sizes for {len(guessed)} task(s) whose files are not here" if guessed else "data"


def hyperband_epochs(cfg: StudyConfig) -> tuple[int, float]:
    """(training calls, architecture-epochs) of one Hyperband instance: n_inputs -> survivors, epochs per rung."""
    hb = cfg.hyperband
    alive = [hb.n_inputs] + list(hb.survivors)
    return sum(alive), float(sum(a * e for a, e in zip(alive, hb.epochs_per_rung)))


def _hyperband(cfg: StudyConfig, w: Work, shape: TaskShape, n: float) -> None:
    calls, epochs = hyperband_epochs(cfg)
    w.hyperband_instances += int(n)
    w.trainings += int(n * calls)
    w.arch_epochs += n * epochs
    key = (shape.channels, shape.size)
    w.images[key] = w.images.get(key, 0.0) + n * epochs * shape.n_train
    w.forward_images[key] = w.forward_images.get(key, 0.0) + n * calls * (min(1024, shape.n_train) + shape.n_test)


def count(cfg: StudyConfig, shapes: list[TaskShape] | None = None, converge_epochs: float = 0.0) -> list[Work]:
    """Every notebook's work for the profile `cfg` (shapes: `task_shapes(cfg)` unless given; converge_epochs: what a
    training to convergence takes, as `Throughput.converge_epochs` measured it; 0: patience + CONVERGE_EXTRA)."""

    shapes = shapes if shapes is not None else task_shapes(cfg)[0]
    by_name = {s.name: s for s in shapes}
    train_tasks = [s for s in shapes if s.split == "train"]
    methods = list(cfg.mi.signals)

    def rows(s: TaskShape) -> int:
        return min(cfg.mi.max_rows, s.n_train)
    budgets = sum(cfg.hyperband.epochs_per_rung)

    w1 = Work("01_data_prep", converge_epochs=converge_epochs)
    for t in cfg.target.tasks:  # architecture signal: n_archs x n_seeds trainings continued through the rungs
        n = cfg.target.n_archs * cfg.target.n_seeds
        w1.add(by_name[t], budgets, n)
        w1.trainings += n * len(cfg.hyperband.epochs_per_rung)

    w2 = Work("02_mine_validation", converge_epochs=converge_epochs)
    default, suite = methods[0], [m for m in dict.fromkeys([methods[0], "infonce", "ba"]) if m in ESTIMATORS]
    for task in SUITE_TASKS.get(cfg.profile, SUITE_TASKS["default"]):
        ms = [m for m in ESTIMATORS if not task.continuous or ESTIMATORS[m].continuous]
        w2.signals(ms, cfg.mi.validation_rows, cfg.mi.validation_seeds, SUITE_LAYERS)
    study_rows = min(cfg.mi.max_rows, cfg.data.max_train_per_task)
    problems = shape_problems(layer_mi.study_networks(cfg), ks=cfg.mi.suite_ks)
    w2.signals(suite, study_rows, len(problems))
    w2.signals(["mine"], study_rows, sum(1 for p in problems if p.kind == "flat" or p.shapes[0][0] == 10))
    curve = [p for p in problems if p.k == 10 and (p.kind == "flat" or p.shapes[0][0] == 10)]
    for r in cfg.mi.curve_rows:
        w2.signals(suite, r, len(curve))
    first = train_tasks[0]
    w2.signals(suite, rows(first), 3)  # noisy labels: three flip rates
    n_std = cfg.mi.n_standardize
    for ms, row_sets in (([default, "infonce", "ba", "mine"], 2), (["mine", "mine_fast", "infonce", "ba"], 1)):
        w2.converge(cfg, first, n_std)  # real_layers (training and held-out rows), then layer_mi_on_tasks
        w2.signals([m for m in dict.fromkeys(ms) if m in ESTIMATORS], rows(first), n_std * row_sets)

    w3 = Work("03_hyperband_collection", parallel=True, converge_epochs=converge_epochs)
    for c in collection.seed_configs(cfg):
        for s in shapes:
            n_inputs = cfg.mi.n_standardize + _n_samples(c, s)
            w3.converge(c, s, n_inputs)
            w3.signals(methods, rows(s), n_inputs)
            _hyperband(c, w3, s, _n_samples(c, s))

    w4 = Work("04_posterior_prediction", converge_epochs=converge_epochs)
    _predictors(cfg, w4, shapes)
    w5 = Work("05_controller_training", parallel=True, converge_epochs=converge_epochs)
    cc = cfg.controller
    visits = cc.seeds * cc.iterations * cc.datasets_per_iteration
    mean_train = _mean_shape(train_tasks)
    w5.converge(cfg, mean_train, cc.seeds * cc.iterations * cc.datasets_per_iteration)  # the iterations' input samples
    w5.signals(methods, rows(mean_train), visits)
    for _ in EXPERIMENTS:
        _hyperband(cfg, w5, mean_train, visits)
    labels = sum(1 + (share < 1.0) for share in EXPERIMENTS.values())  # each experiment, Exp 1 also as trained
    for s in shapes:
        _hyperband(cfg, w5, s, (1 + labels * cc.seeds) * cc.eval_instances)  # uniform once, every run's priors
    w5.controller_instances = visits * len(EXPERIMENTS) + (1 + labels * cc.seeds) * cc.eval_instances * len(shapes)

    w6 = Work("06_analysis", converge_epochs=converge_epochs)
    for t in cfg.target.reliability_tasks:
        n = cfg.target.n_archs * cfg.target.n_seeds
        w6.converge(cfg, by_name[t], n)
        w6.signals(methods, rows(by_name[t]), n)
    return [w1, w2, w3, w4, w5, w6]


def _predictors(cfg: StudyConfig, w: Work, shapes: list[TaskShape]) -> None:
    """Notebook 04's predictor trainings: Experiment 1 (one NN per signal of `default_signals` x predict.seeds), its
    own power check (OWN_POWER_STRENGTHS x power_reps planted collections and their shuffled twins, NN + signal only),
    the cross-validation (one fold per source, CV_NETS x CV_SEEDS at half the epochs, on every other source's tasks,
    scaled by their share of the fixed split's training tasks). The fitted Gaussians and AutoBuild are not counted."""
    pc = cfg.predict
    n_train = max(1, sum(s.split == "train" for s in shapes))
    sources = {s.source or s.name for s in shapes}
    nets = (len(cfg.mi.signals) + 5) * pc.seeds  # accuracy, MI, raw MI, arch only, accuracy z, noise; one per other signal
    power_nets = OWN_POWER_STRENGTHS * 2 * pc.power_reps * pc.seeds
    per_fold = (len(shapes) - len(shapes) / max(1, len(sources))) / n_train  # the tasks a fold trains on, in split units
    cv_nets = len(sources) * CV_NETS * CV_SEEDS * per_fold
    half = max(1, pc.epochs // 2)
    w.predictors += nets + power_nets + cv_nets
    w.predictor_epochs += (nets + power_nets) * pc.epochs + cv_nets * half


def _n_samples(cfg: StudyConfig, shape: TaskShape) -> int:  # collection.n_samples, without loading the task
    return cfg.collection.n_train_samples if shape.split == "train" else cfg.collection.n_test_samples


def _mean_shape(shapes: list[TaskShape]) -> TaskShape:
    """A task of the shapes' mean rows (the controller visits training tasks uniformly at random)."""
    first = shapes[0]
    return TaskShape("mean of training tasks", "train", round(np.mean([s.n_train for s in shapes])),
                     round(np.mean([s.n_test for s in shapes])), first.channels, first.size)


def hours(works: list[Work], tp: Throughput, workers: int) -> list[dict]:
    """One row per notebook: its counts and planned hours (engine work divided over `workers`); a 'total' row last."""
    rows, missing = [], set()
    for w in works:
        train = sum(n * uniform_seconds(tp, *k) for k, n in w.images.items())
        fwd = sum(n * FORWARD_SHARE * uniform_seconds(tp, *k) for k, n in w.forward_images.items())
        for m in w.mi_rows:
            if m not in tp.mi_seconds_per_1000:
                missing.add(m)
        mi = sum(r / 1000 * tp.mi_seconds_per_1000.get(m, 0.0) for m, r in w.mi_rows.items())
        par = max(1, workers) if w.parallel else 1
        fixed, per_epoch = tp.predictor_seconds or (0.0, 0.0)
        other = tp.startup_seconds + w.predictors * fixed + w.predictor_epochs * per_epoch
        rows.append({"notebook": w.notebook, "trainings": w.trainings, "convergence_trainings": w.convergence_trainings,
                     "arch_epochs": round(w.arch_epochs), "images": round(sum(w.images.values())),
                     "mi_estimates": round(w.mi_estimates), "mi_rows": round(sum(w.mi_rows.values())),
                     "hyperband_instances": w.hyperband_instances, "controller_instances": w.controller_instances,
                     "train_hours": (train + fwd) / par / 3600, "mi_hours": mi / par / 3600, "other_hours": other / 3600,
                     "hours": (train + fwd + mi) / par / 3600 + other / 3600})
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k != "notebook"}
    rows.append({"notebook": "total", **total})
    if missing:
        rows[-1]["unpriced_methods"] = sorted(missing)
    return rows


COLUMNS = ("trainings", "convergence_trainings", "arch_epochs", "images", "mi_estimates", "mi_rows", "hyperband_instances",
           "controller_instances", "hours")


def total_line(cfg: StudyConfig, cache: Path) -> str:
    """The line `minas run` prints first: the profile's planned minutes per notebook on this machine, from a
    throughput calibrated once and kept in `cache` (the output folder's throughput.json)."""
    shapes, _ = task_shapes(cfg)
    works = count(cfg, shapes)
    if cache.exists():
        tp = load_throughput(cache)
    else:
        import torch  # deferred: counting needs no torch

        torch.set_num_threads(1)
        tp = calibrate(cfg, [m for w in works for m in w.mi_rows], shapes)
        tp.save(cache)
    rows = hours(count(cfg, shapes, tp.converge_epochs), tp, cfg.engine.workers)
    per = ", ".join(f"{r['notebook'][:2]} {r['hours'] * 60:.1f}" for r in rows[:-1])
    return (f"plan: about {rows[-1]['hours'] * 60:.0f} min on this machine ({per} min; "
            f"`python -m minas plan --profile {cfg.profile}` shows the counts)")


def report(cfg: StudyConfig, throughput: str | None = None, save: str | None = None) -> str:
    """`minas plan`: the table of counts and hours per notebook, and what the hours rest on."""
    shapes, origin = task_shapes(cfg)
    works = count(cfg, shapes)
    if not throughput:
        import torch

        torch.set_num_threads(1)
    tp = load_throughput(throughput) if throughput else calibrate(cfg, [m for w in works for m in w.mi_rows], shapes)
    if save:
        tp.save(save)
    rows = hours(count(cfg, shapes, tp.converge_epochs), tp, cfg.engine.workers)
    head = f"{'notebook':26s}" + "".join(f"{c.replace('_', ' ')[:13]:>14s}" for c in COLUMNS)
    lines = [f"plan of profile {cfg.profile}: {len(shapes)} tasks ({origin}), {cfg.collection.seeds} collection seed(s), "
             f"{max(1, cfg.engine.workers)} worker(s) for 03 and 05", head]
    lines += [f"{r['notebook']:26s}" + "".join(f"{r[c]:14.3f}" if c == "hours" else f"{r[c]:14,d}" for c in COLUMNS)
              for r in rows]
    total = rows[-1]
    per = ", ".join(f"{p[1] and 1 / p[1]:,.0f} img/s at {p[0] / 1e6:.1f} MFLOP" for p in tp.points)
    mi = ", ".join(f"{m} {s:.2f}" for m, s in tp.mi_seconds_per_1000.items())
    mi += (f"; a training to convergence {tp.converge_epochs:.1f} epochs" if tp.converge_epochs else
           f"; a training to convergence {cfg.train.patience + CONVERGE_EXTRA:g} epochs (not measured)")
    mi += f"; a notebook's start {tp.startup_seconds:.1f} s; a posterior predictor: " + (
        "{:.2f} s + {:.2f} s per epoch".format(*tp.predictor_seconds) if tp.predictor_seconds else "not measured")
    lines += [f"total {total['hours']:.2f} h ({total['hours'] * 60:.0f} min): training {total['train_hours']:.2f} h, "
              f"MI and signals {total['mi_hours']:.2f} h, start-ups and 04's posterior predictors {total['other_hours']:.2f} h",
              f"throughput ({tp.source}, {tp.device}, {tp.precision}): {per}; signal seconds per 1,000 rows: {mi}"]
    if population.trains_in_groups(cfg.train.group_size):
        lines.append(f"train.group_size {cfg.train.group_size}: trainings run in populations (minas.nas.population); the "
                     "training hours above count one network at a time, so they are an upper bound (the gain of a "
                     "population on this device is not calibrated: benchmarks/population_training.py measures it)")
    if total.get("unpriced_methods"):
        lines.append(f"no throughput for {', '.join(total['unpriced_methods'])}: their hours are missing")
    return "\n".join(lines)
