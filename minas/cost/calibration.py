"""Calibrating `Throughput` on this machine: every unit `minas.cost.plan` prices, timed once on small work.

Training images/s for a few widths on the profile's first task, a signal call per method, notebook 02's flat
known-MI problems, a training to convergence (its epochs), notebook 04's posterior predictor, AutoBuild epoch and
planted collection, a notebook figure and a notebook's imports; all in CPU time on one torch thread on a CPU.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from minas import data
from minas.core.config import StudyConfig
from minas.cost.throughput import Throughput
from minas.data.task import DataError, make_task
from minas.nas import cnn, recipe
from minas.nas.device import pick_device, resolve_precision
from minas.nas.space import N_LAYERS, N_OPTIONS, Architecture
from minas.study.jobs import signal_values
from minas.study.predict import power, score_split
from minas.study.predict.synthetic import synthetic_collected

WIDTHS = (20, 60, 120)  # filters per layer of the calibration networks
CAL_ROWS = 256  # training rows per calibration measurement
CAL_REPEATS = 3  # training timings per width; the shortest is kept
CONVERGE_WIDTHS = (20, 60)  # filters per layer of the networks trained to convergence once each
CONVERGE_ROWS = 2400  # at most this many of the task's training rows for them: a 50,000-row task would take an hour
                      # on one CPU thread; fewer rows per epoch take more epochs, so the plan errs long
CAL_MI_ROWS = 600  # at most this many rows per calibration signal call (the study's own rows when fewer)


def calibrate(cfg: StudyConfig, methods, shapes: list, problem_methods=()) -> Throughput:
    """Measure this machine: training images/s for WIDTHS on the profile's first task (about a second), one signal
    call per method at the study's rows (up to CAL_MI_ROWS; seconds each), and each of `problem_methods` on a flat and
    on the study's image-shaped known-MI problems (notebook 02), one torch thread as every job."""
    import torch


    task = _calibration_task(cfg, shapes)
    device = pick_device(cfg.device)
    clock = time.perf_counter if device.type == "cuda" else time.process_time  # CPU time: other load does not count
    precision = resolve_precision(cfg.train.precision, device)
    x, y = recipe.prepare(task.x_train[:CAL_ROWS], device), task.y_train[:CAL_ROWS].to(device)
    points = []
    for w in WIDTHS:
        arch = Architecture((w,) * 4)
        model = cnn.new_model(arch, task.in_channels, task.n_classes, 0, device)
        opt = recipe.new_optimizer(model, cfg.train.lr, cfg.train.weight_decay)
        cnn.run_epochs(model, opt, x[:128], y[:128], 0, 1, 0, cfg.train.batch_size, precision=precision)  # warm-up
        best = math.inf
        for epoch in range(1, 1 + CAL_REPEATS):  # the best of a few: a shared machine only ever slows a timing down
            t0 = clock()
            cnn.run_epochs(model, opt, x, y, epoch, epoch + 1, 0, cfg.train.batch_size, precision=precision)
            if device.type == "cuda":
                torch.cuda.synchronize()
            best = min(best, clock() - t0)
        points.append([cnn.flops_per_image(arch, task.in_channels, task.image_size), best / len(x)])
    n = min(CAL_MI_ROWS, cfg.mi.max_rows, task.n_train)  # a signal call's cost is partly fixed: measure it at the study's rows
    small = replace(cfg, mi=replace(cfg.mi, max_rows=n))
    model = cnn.new_model(Architecture((40,) * 4), task.in_channels, task.n_classes, 0, device)
    mi = {}
    for m in dict.fromkeys(methods):
        t0 = clock()
        signal_values(small, task, model.arch, model, (m,), 0, device)
        mi[m] = (clock() - t0) * 1000 / n
    return Throughput(str(device), precision, points, mi, startup_seconds=_startup_seconds(), figure_seconds=_figure_seconds(),
                      autobuild_seconds=_autobuild_seconds(cfg), power_collection_seconds=_power_collection_seconds(cfg, shapes),
                      converge_epochs=_converge_epochs(cfg, task, device),
                      predictor_seconds=_predictor_seconds(cfg, shapes, clock),
                      problem_seconds_per_1000=_problem_seconds(cfg, problem_methods, clock))


def _problem_seconds(cfg: StudyConfig, methods, clock=time.process_time) -> dict:
    """method -> {"flat": s}: seconds per 1,000 rows of a flat known-MI problem (notebook 02's suite: a few features,
    not a network's layer), the best of CAL_REPEATS calls at the study's rows (up to CAL_MI_ROWS). Image-shaped
    problems are priced per layer at the study's rate (`Throughput.problem_seconds`): at C = 120 the thesis MINE
    alone would take minutes to calibrate."""
    from minas.mi.known import Problem
    from minas.mi.validation import run_problems, study_options

    rows = min(CAL_MI_ROWS, cfg.mi.max_rows, cfg.data.max_train_per_task)
    out = {}
    for m in dict.fromkeys(methods):
        best = math.inf
        for _ in range(CAL_REPEATS):  # the first call also warms the estimator up
            t0 = clock()
            run_problems([Problem(10, 0.2)], [m], rows, shuffled=False, label=f"calibrating {m}", **study_options(cfg))
            best = min(best, clock() - t0)
        out[m] = {"flat": best * 1000 / rows}
    return out


def _power_collection_seconds(cfg: StudyConfig, shapes: list) -> float:
    """CPU seconds of one planted collection of the profile's design and its shuffled twin (`power.own_power`)."""
    from minas.study.predict.synthetic import calibrated_collected

    n_tr, n_te = (max(1, sum(s.split == split for s in shapes)) for split in ("train", "test"))
    c = cfg.collection
    took = []
    for _ in range(2):  # the first call also imports and warms up
        t0 = time.process_time()
        col = calibrated_collected(n_tr, n_te, c.n_train_samples, c.n_test_samples, cfg.hyperband.n_clean, 1e-3, 1e-4,
                                   1.0, seed=11)
        power.shuffled(col)
        took.append(time.process_time() - t0)
    return took[-1]


def _autobuild_seconds(cfg: StudyConfig, epochs: int = 20) -> list[float]:
    """[per epoch, per epoch and 1,000 rows] CPU seconds of AutoBuild (`autobuild.train_importance`, full batch) on
    random architectures in groups of the profile's Hyperband inputs, timed at 10 and 100 groups after a warm-up."""
    import torch

    from minas.study.autobuild import ChainData, train_importance

    def took(rows: int, n: int) -> float:
        rng = np.random.default_rng(0)
        data = ChainData(torch.as_tensor(rng.integers(0, N_OPTIONS, (rows, N_LAYERS))),
                         torch.as_tensor(rng.standard_normal(rows), dtype=torch.float32),
                         torch.as_tensor(np.arange(rows) // cfg.hyperband.n_inputs), torch.zeros((rows, 0)), None)
        t0 = time.process_time()
        train_importance(data, n)
        return (time.process_time() - t0) / n

    took(10 * cfg.hyperband.n_inputs, 5)  # warm-up: the first call is ten times slower
    small, large = (took(k * cfg.hyperband.n_inputs, epochs) for k in (10, 100))
    per_row = max(0.0, (large - small) / (90 * cfg.hyperband.n_inputs))
    return [max(0.0, small - per_row * 10 * cfg.hyperband.n_inputs), per_row * 1000]


def _figure_seconds() -> float:
    """CPU seconds of a typical notebook figure: a seaborn heatmap with its colour bar, saved as PNG at
    `report.save_figure`'s dpi and once more as the notebook's inline PNG; the best of CAL_REPEATS."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    best = math.inf
    for _ in range(CAL_REPEATS):
        t0 = time.process_time()
        fig, ax = plt.subplots(figsize=(8, 4))
        sns.heatmap(np.random.default_rng(0).random((12, 12)), ax=ax, annot=True, fmt=".2f")
        for dpi in (110, 72):
            fig.savefig(io.BytesIO(), dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        best = min(best, time.process_time() - t0)
    return best


def _startup_seconds() -> float:
    """CPU seconds of a fresh Python importing the notebooks' libraries (a kernel's start, roughly)."""
    import resource
    import subprocess
    import sys

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", "import minas.views.report, minas.study.collection, seaborn, matplotlib.pyplot"],
                   check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _converge_epochs(cfg: StudyConfig, task, device) -> float:
    """Mean epochs `cnn.train_to_convergence` runs on the task (its first CONVERGE_ROWS training rows at most) for
    CONVERGE_WIDTHS (0 on stand-in random images, which say nothing of when a real task's held-out loss stops
    improving)."""
    if task.family == "calibration":
        return 0.0
    if task.n_train > CONVERGE_ROWS:
        task = replace(task, x_train=task.x_train[:CONVERGE_ROWS], y_train=task.y_train[:CONVERGE_ROWS])
    runs = [cnn.train_to_convergence(task, Architecture((w,) * 4), s, cfg.train, device)[0]
            for s, w in enumerate(CONVERGE_WIDTHS)]
    return float(np.mean([len(r.history) for r in runs]))


def _predictor_seconds(cfg: StudyConfig, shapes: list, clock=time.process_time) -> list[float]:
    """[fixed, per epoch] seconds of one posterior predictor (notebook 04's NN, one seed) trained on the training pairs
    of a planted collection with the profile's task and sample counts: timed at 1 and 2 epochs."""
    import warnings

    n_tr, n_te = (sum(s.split == split for s in shapes) for split in ("train", "test"))
    col = synthetic_collected(max(1, n_tr), max(1, n_te), cfg.collection.n_train_samples, methods=("mine_fast",), seed=7)
    took = []
    for epochs in (1, 2):
        t0 = clock()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score_split(cfg, col, power.SIGNAL, 1, epochs, gaussians=False)
        took.append(clock() - t0)
    per_epoch = max(0.0, took[1] - took[0])
    return [max(0.0, took[0] - per_epoch), per_epoch]


def _calibration_task(cfg: StudyConfig, shapes: list):
    """The profile's first task that loads here; else (no data here) seeded random images of its first task's shape."""

    for s in shapes:
        try:
            return data.get_task(cfg, s.name)
        except DataError:
            continue
    s, rng = shapes[0], np.random.default_rng(0)  # timing does not depend on the pixels
    x = rng.integers(0, 256, (2 * CAL_MI_ROWS, s.channels, s.size, s.size), dtype=np.uint8)
    y = np.arange(2 * CAL_MI_ROWS) % 10
    return make_task(cfg, s.name, "calibration", "random", "train", x, y, x[:100], y[:100])

