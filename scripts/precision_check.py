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

import pandas as pd
import torch

from minas.core import config, parse
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
    over = parse.parse_sets(args.set)
    budgets = tuple(int(b) for b in args.budgets.split(","))
    frames = {}
    for precision in ("fp32", "bf16"):
        cfg = config.load(args.profile, **over, **{"train.precision": precision})
        frames[precision] = pd.concat([target.architecture_signal(cfg, task, args.archs, args.seeds, budgets, progress=False)
                                       for task in args.tasks.split(",")], ignore_index=True)
    if args.out:
        pd.concat([f.assign(precision=p) for p, f in frames.items()], ignore_index=True).to_csv(args.out, index=False)
    keys = ["task", "arch", "seed", "epochs"]
    d = (frames["bf16"].set_index(keys).accuracy - frames["fp32"].set_index(keys).accuracy).groupby(level=["task", "epochs"])
    icc = {p: target.icc_table(f, values=("accuracy",)).set_index(["task", "epochs"]) for p, f in frames.items()}
    print(f"{args.archs} architectures x {args.seeds} seeds per task, budgets {budgets}, {args.threads} thread(s)")
    print(f"{'task':14s} {'ep':>3s} {'fp32 s':>7s} {'bf16 s':>7s} {'speed-up':>8s} {'mean d acc':>10s} {'sd d acc':>8s} "
          f"{'seed sd':>8s} {'ICC fp32':>8s} {'ICC bf16':>8s}")
    for (task, ep), fp32 in icc["fp32"].iterrows():
        bf16 = icc["bf16"].loc[(task, ep)]
        diff = d.get_group((task, ep))
        print(f"{task:14s} {ep:3d} {fp32.cpu_seconds:7.1f} {bf16.cpu_seconds:7.1f} {fp32.cpu_seconds / bf16.cpu_seconds:7.2f}x "
              f"{diff.mean():+10.4f} {diff.std(ddof=1):8.4f} {fp32.sd_within_arch:8.4f} {fp32.icc3:8.2f} {bf16.icc3:8.2f}")

if __name__ == "__main__":
    main()
