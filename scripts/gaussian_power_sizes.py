"""Power of the Gaussian + MI predictor with more held-out sources, at the powered run's G and floor (33 training tasks).

    OMP_NUM_THREADS=1 PYTHONPATH=. python scripts/gaussian_power_sizes.py   # writes /work/logs/gaussian_power_sizes.csv
G and floor are the run's `tables/04_signal_budget.csv` values (docs/measurements/cpu-2026-12-02/powered/).
"""
import sys, time, torch, pandas as pd
from minas.core import config
from minas.study.predict import power
torch.set_num_threads(1)
cfg = config.load("powered")
gain, floor = 2.725101894028635e-05, 0.0010275526930810127
rows = []
for n_tr, n_te in [(33, 36), (33, 72), (33, 144)]:
    t0 = time.process_time()
    t = power.calibrated_power(cfg, gain, floor, n_tr, n_te, strengths=(0.0, 1.0), reps=40, predictor="Gaussian + MI")
    t = t.assign(n_train=n_tr, cpu_seconds=time.process_time() - t0)
    rows.append(t)
    print(t[["n_train", "n_tasks", "strength", "effect", "power", "power_low", "power_high", "rejected", "cpu_seconds"]].to_string(float_format=lambda v: f"{v:.3g}"), flush=True)
pd.concat(rows).to_csv(sys.argv[1] if len(sys.argv) > 1 else "gaussian_power_sizes.csv", index=False)
