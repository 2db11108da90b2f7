"""`minas.mi.estimate_mi_continuous` on the 40 tasks of benchmark-mi (Czyz et al., NeurIPS 2023), beside bmi's
own estimators (KSG and its neural InfoNCE / MINE / NWJ) on the same samples.

Needs the optional extra. benchmark-mi (imports as `bmi`) pins numpy<2 and pandas<2, so install it without its
dependencies, beside minas's (with today's equinox it needs jax<0.4.34); what it imports then is (measured 2026-12-01):
  .venv/bin/pip install --no-deps "benchmark-mi>=0.1.3" "jax<0.4.34" "jaxlib<0.4.34" equinox optax jaxtyping \
      wadler-lindig chex ml_dtypes opt_einsum pydantic pydantic-core annotated-types typing-inspection \
      tensorflow-probability dm-tree cloudpickle gast decorator absl-py
Not part of the test run. Prints one line per (task, estimator) and a summary against the targets of issue 12
(<= 5 s per estimate, mean |error| <= 0.08 nats, no task worse than 0.25). `--marginals rank,zscore` runs ours with
both per-coordinate maps. Measured results: docs/measurements/cpu-2026-11-30/mi_bmi_summary.txt.
Usage: python benchmarks/mi_bmi.py [--tasks 10] [--n 5000] [--marginals rank] [--bmi ksg,infonce] [--bmi-steps 2000] [--out f.csv]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from minas import mi

TARGETS = {"seconds": 5.0, "mean_abs_error": 0.08, "worst_abs_error": 0.25}


def ours(method: str, critic: str, **options):
    """A minas estimator as a function (x, y) -> nats."""
    def run(x, y):
        r = mi.estimate_mi_continuous(torch.tensor(np.asarray(x), dtype=torch.float32),
                                      torch.tensor(np.asarray(y), dtype=torch.float32), method, seed=0,
                                      critic=critic, device="cpu", **options)
        return r.value
    return run


def theirs(name: str, steps: int):
    """One of bmi's estimators as a function (x, y) -> nats."""
    import bmi

    est = {"ksg": lambda: bmi.estimators.KSGEnsembleFirstEstimator(neighborhoods=(5,)),
           "infonce": lambda: bmi.estimators.InfoNCEEstimator(max_n_steps=steps, verbose=False),
           "mine": lambda: bmi.estimators.MINEEstimator(max_n_steps=steps, verbose=False),
           "nwj": lambda: bmi.estimators.NWJEstimator(max_n_steps=steps, verbose=False)}[name]()
    return lambda x, y: float(est.estimate(np.asarray(x), np.asarray(y)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="40", help="how many of bmi's tasks (in its order), or comma-separated task ids")
    ap.add_argument("--n", type=int, default=5000, help="samples per task")
    ap.add_argument("--method", default="infonce", help="minas continuous method")
    ap.add_argument("--critics", default="separable,pair", help="minas critics to run")
    ap.add_argument("--marginals", default="rank", help="minas per-coordinate maps to run (zscore, rank; comma-separated)")
    ap.add_argument("--bmi", default="ksg,infonce", help="bmi estimators beside ours (ksg, infonce, mine, nwj; empty: none)")
    ap.add_argument("--bmi-steps", type=int, default=2000, help="training steps of bmi's neural estimators (theirs: 10,000)")
    ap.add_argument("--out", default="", help="CSV of every (task, estimator) row")
    args = ap.parse_args()
    torch.set_num_threads(1)
    import bmi

    names = list(bmi.benchmark.BENCHMARK_TASKS)
    names = names[: int(args.tasks)] if args.tasks.isdigit() else args.tasks.split(",")
    estimators = {f"minas-{args.method}-{c}-{m}": ours(args.method, c, marginals=m)
                  for c in args.critics.split(",") if c for m in args.marginals.split(",") if m}
    estimators |= {f"bmi-{b}": theirs(b, args.bmi_steps) for b in args.bmi.split(",") if b}
    rows = []
    for name in names:
        task = bmi.benchmark.BENCHMARK_TASKS[name]
        x, y = task.sample(args.n, seed=0)
        for label, fn in estimators.items():
            t0 = time.perf_counter()
            try:
                value, reason = fn(x, y), ""
            except Exception as exc:  # a failed estimator is a result, not the end of the run
                value, reason = float("nan"), f"{type(exc).__name__}: {exc}"
            secs = time.perf_counter() - t0
            rows.append({"task": name, "truth": task.mutual_information, "estimator": label, "value": value,
                         "error": value - task.mutual_information, "seconds": secs, "reason": reason})
            print(f"{name:45s} {label:28s} truth {task.mutual_information:6.3f} estimate {value:7.3f} "
                  f"{secs:6.1f} s {reason}", flush=True)
    frame = pd.DataFrame(rows)
    if args.out:
        frame.to_csv(args.out, index=False)
    summary = frame.groupby("estimator").agg(mean_abs_error=("error", lambda e: e.abs().mean()),
                                             worst_abs_error=("error", lambda e: e.abs().max()),
                                             seconds=("seconds", "mean"), failed=("value", lambda v: int(v.isna().sum())))
    print(f"\n{len(names)} tasks, {args.n} samples each; targets {TARGETS}")
    print(summary.round(3).to_string())
    for label, r in summary.iterrows():
        if label.startswith("minas"):
            met = {k: bool(r[k] <= v) for k, v in TARGETS.items()}
            print(f"{label}: targets met {met}")


if __name__ == "__main__":
    main()
