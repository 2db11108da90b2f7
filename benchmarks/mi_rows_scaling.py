"""What more activation rows buy and cost: the study's MI signal on known-MI problems at the study's layer shapes,
from the profile's rows up to `full`'s (issue 25, item 5: measure, then bound, the MI cost per network).

Per rows value: CPU seconds of one network's call (sampling the problem included) (all 4 layers, one thread) and its ratio to the first rows
value, the mean |error| against the known truth (nats) at K = 10, and the fitted exponent of seconds in rows (1:
linear, as `minas plan` assumes). Usage:

    python benchmarks/mi_rows_scaling.py [--profile default] [--rows 600,1200,2400,4800,9600] [--method ba]

The error column says whether rows past the validated operating point still lower the error; the time column,
what they cost.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import minas
from minas.mi import validation
from minas.study import layer_mi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--rows", default="600,1200,2400,4800,9600", help="comma list of rows per estimate")
    ap.add_argument("--method", default="", help="estimator (empty: the profile's first mi.signals)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = minas.load(args.profile)
    method = args.method or cfg.mi.signals[0]
    rows = [int(r) for r in args.rows.split(",")]
    problems = validation.shape_problems(layer_mi.study_networks(cfg), ks=(10,))
    opts = validation.study_options(cfg)
    print(f"{args.profile}: {method}, {len(problems)} problems at K = 10 (layer shapes C10 and C120, a low and a high "
          f"truth, flat), one seed; seconds are one network's call, all layers")
    print(f"{'rows':>6} {'s per call':>11} {'x first':>8} {'mean |error|':>13} {'worst':>7}")
    seen = []
    for r in rows:
        t0 = time.process_time()  # CPU time: other work on a shared machine does not inflate it
        res = validation.run_problems(problems, [method], r, shuffled=False, label=f"{r} rows", **opts)
        secs = (time.process_time() - t0) / res.problem.nunique()
        err = res.error.abs()
        seen.append((r, secs))
        print(f"{r:>6} {secs:>11.2f} {secs / seen[0][1]:>8.2f} {err.mean():>13.3f} {err.max():>7.3f}", flush=True)
    slope = np.polyfit(np.log([r for r, _ in seen]), np.log([s for _, s in seen]), 1)[0] if len(seen) > 1 else float("nan")
    print(f"seconds grow as rows^{slope:.2f} ({seen[0][0]} -> {seen[-1][0]} rows: x{seen[-1][1] / seen[0][1]:.1f} for "
          f"x{seen[-1][0] / seen[0][0]:.0f} the rows)")


if __name__ == "__main__":
    main()
