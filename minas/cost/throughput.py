"""What a unit of the study's work costs on a machine: a training image, and 1,000 rows of a signal call.

Measured by `calibrate` in seconds on this machine (one torch thread, as every job of the study; on a CPU
in CPU time, so other work on a shared machine does not inflate the plan of an idle one), or read
from a JSON file measured elsewhere (e.g. on a GPU); `minas.cost.plan` turns its counts into hours with it.
Training time per image is interpolated in log-log over the FLOPs of a few networks (`cnn.flops_per_image`):
small CNNs are launch-bound, so time is far from proportional to FLOPs at the narrow end.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from minas import data
from minas.core.config import StudyConfig
from minas.data.task import DataError, make_task
from minas.nas import cnn, recipe
from minas.nas.device import pick_device, resolve_precision
from minas.nas.space import Architecture, sample_architectures
from minas.study.predict import power
from minas.study.predict import score_split
from minas.study.predict.synthetic import synthetic_collected
from minas.study.jobs import signal_values

WIDTHS = (20, 60, 120)  # filters per layer of the calibration networks
CAL_ROWS = 256  # training rows per calibration measurement
CAL_REPEATS = 3  # training timings per width; the shortest is kept
CONVERGE_WIDTHS = (20, 60)  # filters per layer of the networks trained to convergence once each
CONVERGE_ROWS = 2400  # at most this many of the task's training rows for them: a 50,000-row task would take an hour
                      # on one CPU thread; fewer rows per epoch take more epochs, so the plan errs long
CAL_MI_ROWS = 600  # at most this many rows per calibration signal call (the study's own rows when fewer)


@dataclass
class Throughput:
    """Seconds per training image as a function of a network's FLOPs, and seconds per 1,000 rows of each signal."""

    device: str
    precision: str
    points: list  # [[forward FLOPs per image, seconds per training image], ...] ascending
    mi_seconds_per_1000: dict  # method -> seconds per 1,000 rows of one network's signal call
    source: str = "calibrated"
    startup_seconds: float = 0.0  # a notebook's start: a Python process importing what the notebooks import
    converge_epochs: float = 0.0  # epochs a training to convergence took on the profile's first task (0: not measured)
    predictor_seconds: list = field(default_factory=list)  # [fixed, per epoch]: one posterior predictor (notebook 04's
    # NN) on the profile's training pairs, seconds; empty: not measured

    def seconds_per_image(self, flops: float) -> float:
        """Interpolated in log-log between the measured points; below them the smallest network's time (launch-bound),
        above them extended along the last segment (never falling)."""
        f, t = np.log([p[0] for p in self.points]), np.log([p[1] for p in self.points])
        x = math.log(flops)
        if x <= f[0]:
            return float(math.exp(t[0]))
        if x >= f[-1]:
            slope = max(0.0, (t[-1] - t[-2]) / (f[-1] - f[-2])) if len(f) > 1 else 1.0
            return float(math.exp(t[-1] + slope * (x - f[-1])))
        return float(math.exp(np.interp(x, f, t)))

    def save(self, path: str | Path) -> None:
        """Write as JSON (`load_throughput` reads it back; `minas plan --throughput` uses it)."""
        Path(path).write_text(json.dumps(asdict(self), indent=1))


def load_throughput(path: str | Path) -> Throughput:
    """A measured throughput JSON (as `Throughput.save` writes it); a clear error on a bad file."""
    try:
        d = json.loads(Path(path).read_text())
        d.pop("power_seconds", None)  # files written before notebook 06 stopped training its own power curve
        tp = Throughput(**{**d, "source": str(path)})
        if not tp.points or any(len(p) != 2 or p[0] <= 0 or p[1] <= 0 for p in tp.points):
            raise ValueError("points must be [[flops, seconds per image], ...], all positive")
        return tp
    except (OSError, TypeError, ValueError, KeyError) as err:
        raise ValueError(f"throughput file {path}: {err}; write one with `python -m minas plan --save-throughput PATH`") from err


def calibrate(cfg: StudyConfig, methods, shapes: list) -> Throughput:
    """Measure this machine: training images/s for WIDTHS on the profile's first task (about a second), and one
    signal call per method at the study's rows (up to CAL_MI_ROWS; seconds each), one torch thread as every job."""
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
    return Throughput(str(device), precision, points, mi, startup_seconds=_startup_seconds(),
                      converge_epochs=_converge_epochs(cfg, task, device),
                      predictor_seconds=_predictor_seconds(cfg, shapes, clock))


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


def uniform_seconds(tp: Throughput, channels: int, size: int, n: int = 256) -> float:
    """Expected seconds per training image of a uniformly drawn architecture on images (channels, size, size)."""
    archs = sample_architectures(n, np.random.default_rng(0))
    return float(np.mean([tp.seconds_per_image(cnn.flops_per_image(a, channels, size)) for a in archs]))
