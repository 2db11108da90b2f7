"""Population training vs one network after another: per-network training images/s, in one run.

Prints, for networks of equal widths (20, 60, 120 filters per layer) and groups of 1, 3, 8 and 16
networks: the per-network images/s of `minas.nas.cnn.run_epochs` run for each network in turn
(sequential), of `minas.nas.population.run_epochs` on the whole group (grouped), and their ratio; then
the same for architectures drawn from the uniform search space, grouped by `population.group_architectures`
(sorted by widths, so padding is part of the price). Each in float32 and in mixed precision (bf16), on
the CPU and, when present, on CUDA. Networks get different seeds (own initialization, own batch order).
Usage: python benchmarks/population_training.py [--profile default] [--threads 1] [--rows 512] [--epochs 1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from train_throughput import _sync  # the benchmark beside this one (benchmarks/ is the script's folder)

from minas import data
from minas.core import config, parse
from minas.nas import cnn, population, recipe
from minas.nas.device import native_bf16
from minas.nas.space import Architecture, sample_architectures

WIDTHS = (20, 60, 120)
GROUPS = (1, 3, 8, 16)


def _models(archs, task, device, lr, wd):
    models = [cnn.new_model(a, task.in_channels, task.n_classes, s, device) for s, a in enumerate(archs)]
    return models, [recipe.new_optimizer(m, lr, wd) for m in models]


def sequential_seconds(archs, task, x, y, tcfg, epochs: int, device, precision: str) -> float:
    """Seconds to train every architecture for `epochs` epochs, one after another (after a warm-up step)."""
    models, opts = _models(archs, task, device, tcfg.lr, tcfg.weight_decay)
    for m, o in zip(models, opts):  # warm-up: first-call allocations and kernel choices
        cnn.run_epochs(m, o, x[: 2 * tcfg.batch_size], y[: 2 * tcfg.batch_size], 0, 1, 0, tcfg.batch_size, precision=precision)
    return _best_of(lambda: [cnn.run_epochs(m, o, x, y, 1, 1 + epochs, s, tcfg.batch_size, precision=precision)
                             for s, (m, o) in enumerate(zip(models, opts))], device)


def grouped_seconds(archs, groups, task, x, y, tcfg, epochs: int, device, precision: str) -> float:
    """Seconds to train every architecture for `epochs` epochs, each group of indices as one population."""
    models, opts = _models(archs, task, device, tcfg.lr, tcfg.weight_decay)
    xw, yw = x[: 2 * tcfg.batch_size], y[: 2 * tcfg.batch_size]
    for g in groups:  # warm-up, as above
        population.run_epochs([models[i] for i in g], [opts[i] for i in g], [xw] * len(g), [yw] * len(g),
                              [0] * len(g), [1] * len(g), g, tcfg.batch_size, precision=precision)
    return _best_of(lambda: [population.run_epochs([models[i] for i in g], [opts[i] for i in g], [x] * len(g),
                                                   [y] * len(g), [1] * len(g), [1 + epochs] * len(g), g,
                                                   tcfg.batch_size, precision=precision) for g in groups], device)


REPEATS = 3  # timings are the best of this many (the machine may be shared)


def _best_of(work, device) -> float:
    """Shortest wall time of REPEATS runs of `work` (each continues training: same cost per epoch)."""
    best = float("inf")
    for _ in range(REPEATS):
        _sync(device)
        t0 = time.perf_counter()
        work()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--task", default="mnist")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the engine runs one per worker)")
    ap.add_argument("--rows", type=int, default=512, help="training rows per epoch (0: all of the task's)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--space", type=int, default=16, help="architectures drawn from the uniform space (0: skip)")
    ap.add_argument("--devices", default="", help="comma list, e.g. cpu,cuda (default: cpu, and cuda when present)")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any params key (YAML value syntax)")
    ap.add_argument("--repeats", type=int, default=3, help="timings are the best of this many runs")
    args = ap.parse_args()
    global REPEATS
    REPEATS = args.repeats
    torch.set_num_threads(args.threads)
    cfg = config.load(args.profile, **parse.parse_sets(args.set))
    task = data.get_task(cfg, args.task)
    tcfg = cfg.train
    devices = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = args.rows or task.n_train
    print(f"task {task.name}: {rows} of {task.n_train} images {task.in_channels}x{task.image_size}x{task.image_size}, "
          f"batch {tcfg.batch_size}, {args.epochs} epoch(s), {args.threads} thread(s)")
    print(f"{'device':6s} {'prec':5s} {'networks':24s} {'group':>5s} {'pad':>5s} {'seq img/s':>10s} "
          f"{'grouped img/s':>14s} {'ratio':>7s}")
    for name in devices:
        device = torch.device(name)
        x = recipe.prepare(task.x_train[:rows], device)
        y = task.y_train[:rows].to(device)
        for precision in args.precisions.split(","):
            bf16 = " (emulated)" if precision == "bf16" and not native_bf16(device) else ""
            for w in WIDTHS:
                seq = None
                for g in GROUPS:
                    archs = [Architecture((w, w, w, w))] * g
                    if seq is None:  # the sequential rate of one width does not depend on the group size
                        seq = rows * args.epochs / sequential_seconds(archs[:1], task, x, y, tcfg, args.epochs, device, precision)
                    t = grouped_seconds(archs, [list(range(g))], task, x, y, tcfg, args.epochs, device, precision)
                    grouped = g * rows * args.epochs / t
                    print(f"{name:6s} {precision:5s} {f'{w}x4{bf16}':24s} {g:5d} {1.0:5.2f} {seq:10.0f} {grouped:14.0f} "
                          f"{grouped / seq:6.2f}x", flush=True)
            if not args.space:
                continue
            archs = sample_architectures(args.space, np.random.default_rng(cfg.seed))
            seq_t = sequential_seconds(archs, task, x, y, tcfg, args.epochs, device, precision)
            for g in GROUPS[1:]:
                groups = population.group_architectures(archs, g)
                pad = float(np.mean([population.padding_factor([archs[i] for i in grp], task.in_channels, task.image_size)
                                     for grp in groups]))
                t = grouped_seconds(archs, groups, task, x, y, tcfg, args.epochs, device, precision)
                n_img = len(archs) * rows * args.epochs
                print(f"{name:6s} {precision:5s} {f'{len(archs)} uniform, sorted{bf16}':24s} {g:5d} {pad:5.2f} "
                      f"{n_img / seq_t:10.0f} {n_img / t:14.0f} {seq_t / t:6.2f}x", flush=True)


if __name__ == "__main__":
    main()
