"""Where notebook 03's time goes: one task's collection, end to end, on the powered-shaped design, by part.

Runs `minas.study.collection.collect` for one task in this process (engine.workers 0, a fresh store in a temporary
folder) under cProfile and splits its wall time by the functions that do the work: training steps, BatchNorm
recalibration, evaluation and early-stopping passes, best-state copies, checkpoint writes and reads, activations,
each signal (and, inside `ba`, the critic's steps and held-out passes), the store. Also times a local Dask
cluster's start-up and one job round trip (what `engine.workers: 2` adds). cProfile slows Python-heavy parts, so
the total is also measured without it (`--repeats` untraced runs). The design is `collection_speed.DESIGN`.
Usage: python benchmarks/collection_profile.py [--task mnist] [--repeats 1] [--workers-startup]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collection_speed import DESIGN  # noqa: E402  (the benchmark's design: one place)

from minas.core import config  # noqa: E402
from minas.core.engine import Engine, Job  # noqa: E402
from minas.core.store import Store  # noqa: E402
from minas.study import collection  # noqa: E402

# (label, module file suffix, function name[, caller's file suffix, caller's name]): cumulative time of each (only
# of the calls from that caller when one is named); indented labels are parts of the one above
PARTS = [
    ("input samples: convergence trainings", "nas/cnn.py", "train_to_convergence"),
    ("Hyperband rungs: fixed-epoch trainings", "nas/cnn.py", "train"),
    ("  training steps (run_epochs)", "nas/cnn.py", "run_epochs"),
    ("    backward (called by run_epochs)", "torch/_tensor.py", "backward", "nas/cnn.py", "run_epochs"),
    ("    SGD step (called by run_epochs)", "torch/optim/optimizer.py", "wrapper", "nas/cnn.py", "run_epochs"),
    ("  BatchNorm recalibration passes", "nas/cnn.py", "recalibrate"),
    ("  evaluation / early-stopping passes", "nas/cnn.py", "evaluate"),
    ("  best-state copies (_cpu_state)", "nas/cnn.py", "_cpu_state"),
    ("checkpoint writes (jobs._save)", "study/jobs.py", "_save"),
    ("checkpoint reads (jobs._load)", "study/jobs.py", "_load"),
    ("task data (data.get_task)", "data/task.py", "get_task"),
    ("signals (jobs.signal_values)", "study/jobs.py", "signal_values"),
    ("  activations of 600 rows", "nas/cnn.py", "activations"),
    ("  ba (label-head critic, all layers)", "mi/estimate.py", "_run_head"),
    ("    critic training loop (critics.fit)", "mi/critics.py", "fit"),
    ("    Adam steps of the critics (called by critics.fit)", "torch/optim/optimizer.py", "wrapper", "mi/critics.py", "fit"),
    ("  probe (linear heads, 200 Adam steps each)", "mi/probe.py", "probe_accuracy"),
    ("store writes (put_training, put_mi, put_bracket)", "core/store.py", "put_training"),
    ("", "core/store.py", "put_mi"),
    ("", "core/store.py", "put_bracket"),
]


def design_config(root: Path, task: str):
    overrides = dict(DESIGN, **{"data.tasks": [task], "engine.workers": 0})
    return config.load("smoke", output_dir=str(root), **overrides)


def run_once(task: str, profile: bool) -> tuple[float, pstats.Stats | None]:
    root = Path(tempfile.mkdtemp(prefix="minas-prof-"))
    try:
        cfg = design_config(root, task)
        store = Store(root / "store.sqlite")
        prof = cProfile.Profile() if profile else None
        t0 = time.perf_counter()
        with Engine(workers=0, progress=False) as engine:
            if prof:
                prof.enable()
            collection.collect(cfg, store, engine, tasks=[task])
            if prof:
                prof.disable()
        wall = time.perf_counter() - t0
        return wall, pstats.Stats(prof) if prof else None
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _is(key: tuple, suffix: str, name: str) -> bool:
    path, _, fn = key
    return fn == name and path.replace(os.sep, "/").endswith(suffix)


def cumulative(stats: pstats.Stats, suffix: str, name: str, caller: tuple[str, str] | None = None) -> tuple[float, int]:
    """Cumulative seconds and primitive calls of every function `name` in a file ending with `suffix` (with
    `caller` (file suffix, name): only its calls from that caller)."""
    secs, calls = 0.0, 0
    for key, (cc, _nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not _is(key, suffix, name):
            continue
        if caller is None:
            secs, calls = secs + ct, calls + cc
            continue
        for ckey, (c_cc, _c_nc, _c_tt, c_ct) in callers.items():
            if _is(ckey, *caller):
                secs, calls = secs + c_ct, calls + c_cc
    return secs, calls


def _noop() -> int:
    return 1


def worker_startup() -> tuple[float, float]:
    """(seconds to start a 2-worker local Dask cluster, seconds of the first job's round trip)."""
    t0 = time.perf_counter()
    with Engine(workers=2, progress=False) as engine:
        engine.start()
        t1 = time.perf_counter()
        list(engine.run([Job("noop", _noop, ())]))
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="mnist-blur", help="one of smoke's tasks (mnist-blur: held out, 4 input samples "
                    "and 2 Hyperband instances; mnist: a training task, 5 and 3)")
    ap.add_argument("--repeats", type=int, default=0, help="untraced runs timing the total")
    ap.add_argument("--warmup", action="store_true", help="one untimed run first (imports, data cache, first kernels)")
    ap.add_argument("--workers-startup", action="store_true", help="also time a 2-worker Dask cluster's start-up")
    ap.add_argument("--save", default="", help="also write the raw cProfile data here (read with pstats)")
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average; {os.cpu_count()} CPUs)")
    if args.warmup:
        run_once(args.task, profile=False)
    walls = [run_once(args.task, profile=False)[0] for _ in range(args.repeats)]
    traced, stats = run_once(args.task, profile=True)
    if args.save:
        stats.dump_stats(args.save)
    print(f"untraced wall: {', '.join(f'{w:.1f}' for w in walls) or 'not run'} s; traced (cProfile) {traced:.1f} s")
    print(f"\n| part | seconds (traced) | share of traced wall | calls |\n|---|---:|---:|---:|")
    merged: dict[str, list[float]] = {}
    order = []
    last = ""
    for label, suffix, name, *caller in PARTS:
        label = label or last
        last = label
        s, c = cumulative(stats, suffix, name, tuple(caller) if caller else None)
        if label not in merged:
            merged[label], _ = [0.0, 0], order.append(label)
        merged[label][0] += s
        merged[label][1] += c
    for label in order:
        s, c = merged[label]
        print(f"| {label} | {s:.2f} | {s / traced:.1%} | {c} |")
    print(f"| whole collection of the task | {traced:.2f} | 100% | |")
    if args.workers_startup:
        start, trip = worker_startup()
        print(f"\n2-worker Dask cluster: start-up {start:.1f} s, first job round trip {trip:.2f} s")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print("\ntop 25 functions by own time (traced):")
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
