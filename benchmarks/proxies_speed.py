"""Seconds per architecture of each training-free proxy, and its ratio to one training epoch.

Prints, in one run, for a small, a middle and a large architecture on the profile's first training
task: each proxy's seconds (median of --repeats, on the batch and fresh network the collection uses,
`jobs.init_input`) and the seconds of one training epoch over the task's training rows (after one
warm-up epoch), then the ratio proxy / epoch. Jobs run on one torch thread; so does this by default.
Usage: python benchmarks/proxies_speed.py [--profile default] [--threads 1] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from minas import data
from minas.core import config
from minas.core.registry import SIGNALS
from minas.nas import cnn, proxies, recipe
from minas.nas.device import pick_device
from minas.nas.space import Architecture
from minas.study import jobs

ARCHS = {"small": (20, 20, 20, 20), "middle": (60, 60, 60, 60), "large": (120, 120, 120, 120)}


def epoch_seconds(task, arch: Architecture, tcfg, device) -> float:
    """Seconds of one training epoch over all of the task's training rows (after a warm-up epoch)."""
    model = cnn.new_model(arch, task.in_channels, task.n_classes, 0, device)
    opt = recipe.new_optimizer(model, tcfg.lr, tcfg.weight_decay)
    x, y = recipe.prepare(task.x_train, device), task.y_train.to(device)
    cnn.run_epochs(model, opt, x, y, 0, 1, 0, tcfg.batch_size)
    t0 = time.perf_counter()
    cnn.run_epochs(model, opt, x, y, 1, 2, 0, tcfg.batch_size)
    return time.perf_counter() - t0


def proxy_seconds(cfg, task, arch: Architecture, name: str, repeats: int, device) -> float:
    """Median seconds of one proxy on a fresh network and the collection's batch (the init not counted)."""
    sig = SIGNALS.get(name)
    times = []
    for _ in range(repeats):
        inp = jobs.init_input(cfg, task, arch, sig.seed_for(cfg.seed, task.name, arch.id), device)
        t0 = time.perf_counter()
        sig.compute(inp, 0)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = config.load(args.profile)
    device = pick_device(cfg.device)
    task = next(t for t in data.build_tasks(cfg) if t.split == "train")
    names = [p.name for p in proxies.PROXIES]
    print(f"task {task.name}: {task.n_train} training rows, {tuple(task.x_train.shape[1:])} images; "
          f"proxy batch {min(cfg.train.batch_size, task.n_train)} rows; device {device}, {args.threads} thread(s)")
    print(f"{'arch':>8} {'proxy':>10} {'seconds':>9} {'/ epoch':>9}")
    for label, filters in ARCHS.items():
        arch = Architecture(filters)
        epoch = epoch_seconds(task, arch, cfg.train, device)
        print(f"{label:>8} {'epoch':>10} {epoch:9.4f} {1.0:9.4f}")
        for name in names:
            secs = proxy_seconds(cfg, task, arch, name, args.repeats, device)
            print(f"{label:>8} {name:>10} {secs:9.4f} {secs / epoch:9.4f}")


if __name__ == "__main__":
    main()
