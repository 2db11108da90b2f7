"""Collection scaling: wall time of a small collection with 1 and 2 local Dask workers, and a rerun.

Prints, in one run: the same small collection (fresh store each time) with 1 worker and with
2 workers, the speed-up, and a rerun of the finished collection as a share of the first run.
Usage: python benchmarks/collection_scaling.py [--profile smoke] [--tasks mnist,digits8]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
from minas.study import collection


def timed_collect(cfg, workers: int) -> float:
    t0 = time.perf_counter()
    with Engine(workers=workers, progress=False) as eng:
        collection.collect(cfg, Store(cfg.out / "store.sqlite"), eng)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--tasks", default="mnist,mnist-parity,digits8")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="minas-bench-"))
    try:
        over = {"data.tasks": args.tasks.split(",")}
        times = {}
        for workers in (1, 2):
            cfg = config.load(args.profile, output_dir=str(root / f"w{workers}"), **over)
            times[workers] = timed_collect(cfg, workers)
            print(f"{workers} worker(s): {times[workers]:.1f} s", flush=True)
        rerun = timed_collect(cfg, 2)
        print(f"speed-up with 2 workers: {times[1] / times[2]:.2f}x (target >= 1.6x on 2 cores)")
        print(f"rerun of the finished collection: {rerun:.2f} s = {100 * rerun / times[2]:.1f}% of the first run (target <= 5%)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
