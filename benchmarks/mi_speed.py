"""The MI targets of issue 12 (item 6), measured at the study's shapes and rows.

Known-MI problems at the profile's layer shapes (minas.mi.known.Problem: every layer at C = 10 and C = 120,
K = 2 and 10 (100 with --k100), a low and a high truth, flat vectors beside them; minas.study.layer_mi
.study_networks), estimated as the study estimates one network (all 4 layers in one call, cfg.mi's options).
Prints each target with its measured value and whether it is met: the default method's mean |error| flat
(<= 0.10) and image-shaped (<= 0.20), shuffled labels (|estimate| <= 0.03), no estimate above log K, 4 layers of
one network in <= 2 s, and >= 10x faster than the thesis MINE at lower error (on the flat problems and C = 10
networks). Usage: python benchmarks/mi_speed.py [--profile default] [--rows 600] [--method mine_fast] [--k100]
"""
from __future__ import annotations

import argparse

import pandas as pd
import torch

import minas
from minas.mi import validation
from minas.study import layer_mi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--rows", type=int, default=0, help="rows per estimate (0: the study's, min(mi.max_rows, train rows))")
    ap.add_argument("--method", default="", help="estimator (empty: the profile's first mi.signals)")
    ap.add_argument("--k100", action="store_true", help="also K = 100 (slow)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = minas.load(args.profile)
    rows = args.rows or min(cfg.mi.max_rows, cfg.data.max_train_per_task)
    method = args.method or cfg.mi.signals[0]
    opts = validation.study_options(cfg)
    problems = validation.shape_problems(layer_mi.study_networks(cfg), ks=(2, 10, 100) if args.k100 else (2, 10))
    ours = validation.run_problems(problems, [method], rows, **opts)
    small = [p for p in problems if p.kind == "flat" or p.shapes[0][0] == 10]
    thesis = validation.run_problems(small, ["mine"], rows, shuffled=False, label="thesis MINE", **opts)
    print(f"{args.profile}: {len(problems)} problems at {rows} rows, method {method}, options {opts}")
    print(validation.shape_summary(pd.concat([ours, thesis])).round(3).to_string())

    real = ours[~ours.shuffled]
    per_call = lambda f: float(f.groupby(["problem", "seed"])["seconds"].first().mean())  # noqa: E731
    same = real[real.problem.isin(thesis.problem)]
    ratio = per_call(thesis) / per_call(same)
    gain = float(thesis.error.abs().mean() - same.error.abs().mean())
    targets = [
        ("mean |error| flat", float(real[real.kind == "flat"].error.abs().mean()), "<=", 0.10),
        ("mean |error| image-shaped", float(real[real.kind == "image"].error.abs().mean()), "<=", 0.20),
        ("max |estimate| shuffled labels", float(ours[ours.shuffled].value.abs().max()), "<=", 0.03),
        ("share above log K", float((ours.value > ours.ceiling + 1e-9).mean()), "<=", 0.0),
        ("seconds, 4 layers of one network", per_call(real[real.kind == "image"]), "<=", 2.0),
        ("thesis MINE seconds / ours", ratio, ">=", 10.0),
        ("thesis MINE |error| - ours", gain, ">=", 0.0),
    ]
    for name, value, op, bound in targets:
        met = value <= bound if op == "<=" else value >= bound
        print(f"{name:34s} {value:8.3f}  target {op} {bound:<5g} {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
