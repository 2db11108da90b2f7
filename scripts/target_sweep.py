"""Sweep the levers that may make the architecture matter (issue: a target with signal).

For each regime (training rows, image size, learning-rate schedule) and task, trains 8 random
architectures x 3 seeds through cumulative budgets and prints the ICC of test accuracy and hs.
Usage: python scripts/target_sweep.py [--profile default] [--tasks mnist-0to4,fashion,fashion-tops] [--out FILE]
"""
import argparse
from pathlib import Path

import torch

import minas
from minas.study import target

REGIMES = {
    "600 rows, 16 px, constant lr": {},
    "600 rows, 16 px, cosine per rung": {"train.schedule": "rung_cosine"},
    "2000 rows, 16 px, constant lr": {"data.max_train_per_task": 2000},
    "2000 rows, 16 px, cosine per rung": {"data.max_train_per_task": 2000, "train.schedule": "rung_cosine"},
    "2000 rows, 28 px, cosine per rung": {"data.max_train_per_task": 2000, "data.image_size": 28,
                                          "train.schedule": "rung_cosine"},
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="default")
    ap.add_argument("--tasks", default="mnist-0to4,fashion,fashion-tops")
    ap.add_argument("--regimes", default="", help="comma-separated indices into REGIMES (default: all)")
    ap.add_argument("--archs", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default="outputs/target_sweep")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = minas.load(args.profile, **{"data.source": "embedded+fashion"})
    names = list(REGIMES)
    chosen = [names[int(i)] for i in args.regimes.split(",")] if args.regimes else names
    regimes = {n: {"data.source": "embedded+fashion", **REGIMES[n]} for n in chosen}
    runs, icc = target.regime_sweep(cfg, args.tasks.split(","), regimes, args.archs, args.seeds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tag = "_".join(str(names.index(n)) for n in chosen)
    runs.to_csv(out / f"runs_{tag}.csv", index=False)
    icc.to_csv(out / f"icc_{tag}.csv", index=False)
    cols = ["regime", "task", "epochs", "value", "mean", "sd_between_archs", "sd_within_arch", "icc1", "icc1_low",
            "icc1_high", "icc3", "icc3_low", "icc3_high", "rho_filters", "cpu_seconds"]
    print(icc[cols].round(3).to_string(index=False))
