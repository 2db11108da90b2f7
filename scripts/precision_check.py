"""Mixed precision (bf16) against float32 training: same architectures, seeds and rungs, both arithmetics.

Trains `--archs` random architectures x `--seeds` seeds through Hyperband's cumulative budgets on each
task twice, once per `train.precision`, in one process (one torch thread, as an engine worker runs),
and prints: the training seconds of each, their ratio, the paired accuracy difference (bf16 - fp32)
with its sd, beside the seed-to-seed sd of accuracy within an architecture, and each precision's
ICC(3,1) of accuracy. A precision that is only faster is acceptable when the paired difference is
small against the seed noise and the ICC does not move.
Usage: python scripts/precision_check.py [--profile default] [--tasks fashion,fashion-tops] [--archs 8] [--seeds 3]
       [--budgets 2,3,4] [--out CSV]
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch

from minas.core import config
from minas.study import target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--tasks", default="fashion,fashion-tops")
    ap.add_argument("--archs", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budgets", default="2,3,4", help="cumulative epochs (default: the profile's rungs 2 + 1 + 1)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any params key")
    ap.add_argument("--out", default="", help="write every training's row to this CSV")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    over = config.parse_sets(args.set)
    budgets = tuple(int(b) for b in args.budgets.split(","))
    frames = []
    for precision in ("fp32", "bf16"):
        cfg = config.load(args.profile, **over, **{"train.precision": precision})
        for task in args.tasks.split(","):
            f = target.architecture_signal(cfg, task, args.archs, args.seeds, budgets, progress=False)
            frames.append(f.assign(precision=precision))
    rows = pd.concat(frames, ignore_index=True)
    if args.out:
        rows.to_csv(args.out, index=False)
    keys = ["task", "arch", "seed", "epochs"]
    wide = rows.pivot_table(index=keys, columns="precision", values=["accuracy", "cpu_seconds"])
    print(f"{args.archs} architectures x {args.seeds} seeds per task, budgets {budgets}, {args.threads} thread(s)")
    print(f"{'task':14s} {'ep':>3s} {'fp32 s':>7s} {'bf16 s':>7s} {'speed-up':>8s} {'mean d acc':>10s} {'sd d acc':>8s} "
          f"{'seed sd':>8s} {'ICC fp32':>8s} {'ICC bf16':>8s}")
    for (task, ep), w in wide.groupby(level=["task", "epochs"]):
        d = w["accuracy"]["bf16"] - w["accuracy"]["fp32"]
        secs = w["cpu_seconds"].sum()
        sub = rows[(rows.task == task) & (rows.epochs == ep)]
        icc, seed_sd = {}, {}
        for p, g in sub.groupby("precision"):
            m = g.pivot(index="arch", columns="seed", values="accuracy").dropna().to_numpy()
            icc[p] = target.icc_consistency(m).value
            seed_sd[p] = float(np.sqrt(m.var(1, ddof=1).mean()))
        print(f"{task:14s} {ep:3d} {secs['fp32']:7.1f} {secs['bf16']:7.1f} {secs['fp32'] / secs['bf16']:7.2f}x "
              f"{d.mean():+10.4f} {d.std(ddof=1):8.4f} {seed_sd['fp32']:8.4f} {icc['fp32']:8.2f} {icc['bf16']:8.2f}")


if __name__ == "__main__":
    main()
