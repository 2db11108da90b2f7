"""Size of the Gaussian + X tests on planted nulls at 18, 51 and 144 held-out sources (issue 31, item 3).

    OMP_NUM_THREADS=1 PYTHONPATH=. python scripts/refit_size.py [reps] [out.csv] [seed]
Batches with different seeds draw independent nulls, so their counts pool.
Nulls at the powered run's G and floor (docs/measurements/cpu-2026-12-02/powered/tables/04_signal_budget.csv), its
samples per task and k, 12 training tasks (one per source) with 3 pairs each (to fit the measurement into a shared
2-core machine; the permutation test's exactness does not rest on the training size); the permutation-with-refit test
(19 shuffles: exact at alpha 0.05) beside the t over held-out source means with one shared fit (`power.refit_size`).
"""
import sys
import time

import pandas as pd
import torch

from minas.core import config
from minas.study.predict import power

torch.set_num_threads(1)
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
out = sys.argv[2] if len(sys.argv) > 2 else "refit_size.csv"
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
cfg = config.load("powered")
gain, floor = 2.725101894028635e-05, 0.0010275526930810127
tables = []
for n_test in (144, 18, 51):  # written after each size, so a cut-short run keeps what it measured
    t0 = time.process_time()
    tables.append(power.refit_size(cfg, gain, floor, n_train=12, held_out=(n_test,), reps=reps, max_pairs_per_task=3, seed=seed)
                  .assign(cpu_seconds=time.process_time() - t0, seed=seed))
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(out, index=False)
    print(tables[-1].to_string(float_format=lambda v: f"{v:.3g}"), flush=True)
