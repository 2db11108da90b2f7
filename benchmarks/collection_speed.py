"""Notebooks 01 and 03 on a powered-shaped design, run by the CLI for two checkouts one after the other: the ratio.

Issue 32, item 4. Each checkout is a `git worktree add --detach` of a commit into a temporary folder, run with
PYTHONPATH at that checkout (this interpreter, so the same packages) into its own fresh output folder:
`python -m minas run --profile smoke --only 01,03 --redo --cell-timeout 0 --set key=value ...` with `DESIGN` below as
the `--set` overrides (`--tasks`, `--samples`: fewer of smoke's tasks or input samples per task, each task keeping the
design's shape). `--throughput FILE` is copied into each fresh output folder first, so the run does not calibrate
the plan's throughput (`minas run` does that once per output folder: 11 min at load 12 on 2 cores; not 01's or 03's
work). Prints each run's wall time, the machine's load average before and after it, and new / old.
The CPU may be shared: `--repeats 2` interleaves the checkouts (old, new, old, new) and reports the ratio of medians.
Usage: python benchmarks/collection_speed.py [--new HEAD] [--old 5ffc058] [--workers 2] [--repeats 1] [--tasks a,b]
       [--samples N] [--throughput FILE] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The design (issue 32, item 4): smoke's tasks at the powered profile's shape per task: 600 training rows at 16 px,
# Hyperband 12 -> 8 -> 4 over 2 + 1 + 1 epochs, accuracy only (lambda 0), the signals ba and probe, powered's
# training recipe (20-epoch cap, patience 2, rung cosine, bf16 where native) and MI options (600 rows, 4 + patience).
DESIGN = {
    "data.max_train_per_task": 600, "data.max_test_per_task": 300, "data.image_size": 16,
    "train.max_epochs": 20, "train.patience": 2, "train.schedule": "rung_cosine", "train.precision": "auto",
    "hyperband.n_inputs": 12, "hyperband.survivors": [8, 4], "hyperband.epochs_per_rung": [2, 1, 1],
    "hyperband.lam": 0.0,
    "mi.signals": ["ba", "probe"], "mi.max_rows": 600, "mi.batch_size": 256, "mi.min_epochs": 18,
    "mi.head_min_epochs": 4, "mi.max_epochs": 40,
}


def _sets(workers: int, extra: dict) -> list[str]:
    out = []
    for key, value in {**DESIGN, "engine.workers": workers, **extra}.items():
        out += ["--set", f"{key}={json.dumps(value) if isinstance(value, list) else value}"]
    return out


def checkout(ref: str, root: Path) -> tuple[Path, str]:
    """A detached worktree of `ref` under `root`; returns (its folder, its full commit)."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], check=True, capture_output=True,
                            text=True).stdout.strip()
    folder = root / f"src-{commit[:7]}"
    if not folder.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder), commit], check=True,
                       capture_output=True)
    return folder, commit


def run(folder: Path, out: Path, sets: list[str], throughput: str) -> float:
    """Wall seconds of notebooks 01 and 03 by the CLI at checkout `folder` into the fresh folder `out`."""
    shutil.rmtree(out, ignore_errors=True)
    if throughput:
        out.mkdir(parents=True)
        shutil.copy(throughput, out / "throughput.json")
    env = {**os.environ, "PYTHONPATH": str(folder), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "minas", "run", "--profile", "smoke", "--only", "01,03", "--redo", "--cell-timeout",
           "0", "--set", f"output_dir={out}", *sets]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{folder.name}: minas run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", default="HEAD", help="the checkout under test (a commit or branch)")
    ap.add_argument("--old", default="5ffc058", help="the reference checkout")
    ap.add_argument("--workers", type=int, default=2, help="engine.workers of both runs (powered's: 2)")
    ap.add_argument("--repeats", type=int, default=1, help="runs per checkout, interleaved old, new, old, new ...")
    ap.add_argument("--tasks", default="", help="comma list of smoke's tasks (default: all six; notebook 01 reads "
                    "target.tasks, smoke's mnist-parity, so keep it)")
    ap.add_argument("--samples", type=int, default=0, help="input samples and Hyperband instances per task "
                    "(collection.n_train_samples and n_test_samples; default: smoke's 3 and 2)")
    ap.add_argument("--throughput", default="", help="a throughput.json to seed each output folder with")
    ap.add_argument("--keep", action="store_true", help="keep the temporary worktrees and outputs")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="minas-speed-"))
    walls: dict[str, list[float]] = {"old": [], "new": []}
    try:
        sides = {side: checkout(ref, root) for side, ref in (("old", args.old), ("new", args.new))}
        extra = {"data.tasks": args.tasks.split(",")} if args.tasks else {}
        if args.samples:
            extra.update({"collection.n_train_samples": args.samples, "collection.n_test_samples": args.samples})
        sets = _sets(args.workers, extra)
        print(f"design: smoke with {' '.join(sets[1::2])}")
        for rep in range(args.repeats):
            for side in ("old", "new"):
                folder, commit = sides[side]
                before = os.getloadavg()
                wall = run(folder, root / f"out-{side}", sets, args.throughput)
                after = os.getloadavg()
                walls[side].append(wall)
                print(f"{side} {commit[:7]} run {rep + 1}: notebooks 01 + 03 in {wall:.0f} s "
                      f"(load average before {before[0]:.1f}, after {after[0]:.1f}, 5-min {after[1]:.1f}; "
                      f"{os.cpu_count()} CPUs)", flush=True)
        old, new = statistics.median(walls["old"]), statistics.median(walls["new"])
        print(f"new / old wall time: {new / old:.2f} (medians: {new:.0f} s / {old:.0f} s; "
              f"pairs: {', '.join(f'{n / o:.2f}' for o, n in zip(walls['old'], walls['new']))})")
    finally:
        if not args.keep:
            for folder, _ in (sides.values() if "sides" in locals() else []):
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
                               capture_output=True)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
