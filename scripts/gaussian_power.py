"""Power of the low-variance predictor (Gaussian + MI, 20 parameters) in the world a finished run measured.

Notebook 04's own power check (`power.own_power`) judges the thesis MLP (NN + MI). This plants the same world (the
run's G and floor from its `04_signal_budget` table, its training and held-out task counts, one source per task
as in `powered`) and judges the fitted Gaussian whose per-layer mean and width are linear in the signal instead;
with --scale it also plants worlds with G multiplied, to say how large G must be for this design to see it.

    OMP_NUM_THREADS=1 PYTHONPATH=. python scripts/gaussian_power.py --profile powered --reps 40 \
        --scale 1,2,4 --out docs/measurements/cpu-2026-12-02/powered/gaussian_power.csv
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from minas.core import config, parse
from minas.study.predict import power


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="powered")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="e.g. output_dir=/elsewhere")
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--strengths", default="0,1", help="comma list of planted strengths")
    ap.add_argument("--scale", default="1", help="comma list of multiples of the run's G to plant")
    ap.add_argument("--out", type=Path, default=None, help="CSV to write")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = config.load(args.profile, **parse.parse_sets(args.set))
    table = cfg.out / "tables" / "04_signal_budget.csv"
    if not table.is_file():
        raise SystemExit(f"{table} is missing: run notebook 04 of profile {args.profile} first")
    budget = pd.read_csv(table).set_index("quantity").value
    gain, floor = budget["G = Gaussian - floor"], budget["target floor dirty/(2k)"]
    tasks = pd.read_csv(cfg.out / "tables" / "tasks.csv")
    n_train, n_test = int((tasks.split == "train").sum()), int((tasks.split == "test").sum())
    rows, start = [], time.perf_counter()
    for m in (float(v) for v in args.scale.split(",")):
        t = power.calibrated_power(cfg, m * gain, floor, n_train, n_test, reps=args.reps, predictor="Gaussian + MI",
                                   strengths=tuple(float(v) for v in args.strengths.split(",")))
        rows.append(t.assign(gain_multiple=m))
        print(t.assign(gain_multiple=m)[["gain_multiple", "gain", "strength", "effect", "power", "power_low", "power_high",
                                         "rejected", "n_sources", "reps"]].to_string(float_format=lambda v: f"{v:.3g}"),
              flush=True)
    out = pd.concat(rows, ignore_index=True).assign(seconds=time.perf_counter() - start)
    print(f"run's G {gain:.3g}, floor {floor:.3g} (per-layer scale); {n_train} training, {n_test} held-out tasks; "
          f"{out.seconds.iloc[0]:.0f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
