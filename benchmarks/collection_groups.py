"""Population training inside the collection: wall time of one small collection per `train.group_size`.

Prints, in one run: the same collection (fresh store each time, in this process) trained one network at a time
(group_size 1), with the per-device choice (0: on a CPU only networks of <= 30 filters share a step, on a GPU
groups of 16) and with every rung's trainings in groups of 8; for each, the trainings run as jobs, the mean
padding factor of the groups it formed (their FLOPs over their networks' own) and its time as a ratio of
one at a time. Usage: python benchmarks/collection_groups.py [--profile smoke] [--tasks mnist,digits8] [--sizes 1,0,8] [--device cuda]
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from minas import data
from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
from minas.nas import cnn, population
from minas.nas.device import pick_device
from minas.nas.space import parse_architecture
from minas.study import collection, jobs


class _Watch(Engine):
    """The in-process engine, keeping the architecture lists of the population jobs it runs."""

    def __init__(self):
        super().__init__(workers=0, progress=False)
        self.groups: list[list[str]] = []
        self.jobs = 0

    def run(self, todo, desc="jobs", follow=None):
        def seen(job, result):
            self.jobs += 1
            if job.fn is jobs.train_group:
                self.groups.append([a for a, _, _ in job.args[2]])
            elif job.fn is jobs.converge_group:
                self.groups.append(list(job.args[2]))
            return follow(job, result) if follow else []
        yield from super().run(todo, desc, follow=seen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--tasks", default="mnist,digits8")
    ap.add_argument("--sizes", default="1,0,8", help="train.group_size values; the first is the reference")
    ap.add_argument("--device", default="", help="cpu, cuda or auto (default: the profile's)")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="minas-bench-"))
    try:
        warm = config.load(args.profile, output_dir=str(root / "warm"), **{"data.tasks": args.tasks.split(",")},
                           **({"device": args.device} if args.device else {}))
        for task in args.tasks.split(","):  # one-time costs (data, first kernels) before any timing
            t = data.get_task(warm, task)
            cnn.train(t, parse_architecture("10-10-10-10"), 1, 0, warm.train, pick_device(warm.device))
        times = {}
        for size in [int(s) for s in args.sizes.split(",")]:
            cfg = config.load(args.profile, output_dir=str(root / f"g{size}"),
                              **{"data.tasks": args.tasks.split(","), "train.group_size": size},
                              **({"device": args.device} if args.device else {}))
            eng = _Watch()
            t0 = time.perf_counter()
            collection.collect(cfg, Store(cfg.out / "store.sqlite"), eng)
            times[size] = time.perf_counter() - t0
            con = sqlite3.connect(cfg.out / "store.sqlite")
            n = con.execute("SELECT COUNT(*) FROM trainings").fetchone()[0]
            grouped = con.execute("SELECT COUNT(*) FROM trainings WHERE engine='population'").fetchone()[0]
            con.close()
            pads = [population.padding_factor([parse_architecture(a) for a in g]) for g in eng.groups]
            print(f"group_size {size}: {times[size]:.1f} s, {eng.jobs} jobs, {n} trainings ({grouped} in {len(pads)} "
                  f"groups, mean padding {np.mean(pads) if pads else 1.0:.2f}), "
                  f"{times[size] / next(iter(times.values())):.2f} of the first setting's time", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
