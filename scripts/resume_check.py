"""A store and a saved result written by one commit's code, then read and resumed by another's (docs/ARCHITECTURE.md, Keys).

Phase `write` (run with an older checkout first on PYTHONPATH) collects one tiny task (9 trainings, train.precision
auto), trains the controller 3 iterations on the tests' toy world, saves a small typed result, and records the
posterior and rewards. Phase `read` (run with this checkout) repeats the same calls on the same folder and prints
what it had to recompute (nothing, when the keys stayed stable), whether the numbers are the ones written, and
whether the saved result and controller run still read after engine.workers and data.root change.
Usage: git archive <old commit> | tar -x -C /tmp/old
       PYTHONPATH=/tmp/old python scripts/resume_check.py write OUT /tmp/old
       PYTHONPATH=. python scripts/resume_check.py read OUT .
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd

phase, out, checkout = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, str(checkout / "tests" / "study"))  # the toy controller world of that checkout's tests
from test_controller import toy_env  # noqa: E402

from minas.core import config  # noqa: E402
from minas.core.engine import Engine  # noqa: E402
from minas.core.store import Store  # noqa: E402
from minas.study import collection  # noqa: E402
from minas.study import controller as ctl  # noqa: E402
from minas.views import report  # noqa: E402

TASK = "digits8"
TINY = {"data.tasks": ["mnist-parity", TASK], "data.max_train_per_task": 64, "data.max_test_per_task": 32,
        "train.max_epochs": 2, "train.precision": "auto", "mi.methods": ["ba"], "mi.max_rows": 40, "mi.min_epochs": 1,
        "mi.max_epochs": 2, "mi.batch_size": 32, "mi.n_standardize": 2, "hyperband.n_inputs": 3,
        "hyperband.survivors": [2, 1], "hyperband.n_clean": 1, "collection.n_train_samples": 1,
        "collection.n_test_samples": 1, "controller.iterations": 3}


@dataclasses.dataclass
class Small:
    """A saved result as small as one can be."""

    table: pd.DataFrame
    n: int


cfg = config.load("smoke", output_dir=str(out), **TINY)
store = Store(out / "store.sqlite")
calls: list = []
with Engine(workers=0, progress=False) as eng:
    summary = collection.collect(cfg, store, eng, tasks=[TASK])
col = collection.load_collected(cfg, store, tasks=[TASK])
run = ctl.train_controller(cfg, store, toy_env(calls), "exp2")
if phase == "write":
    report.save_result(cfg, "04_posterior_prediction", "small", Small(pd.DataFrame({"a": [1.5, 2.5]}), 3))
    (out / "numbers.json").write_text(json.dumps({"posterior": col.posteriors[TASK].tolist(),
                                                  "rewards": run.iterations.reward.tolist()}))
    print(f"write: input jobs {summary.input_jobs}, controller Hyperband calls {len(calls)}")
else:
    want = json.loads((out / "numbers.json").read_text())
    con = sqlite3.connect(out / "store.sqlite")
    rows = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("trainings", "mi", "brackets")}
    con.close()
    print(f"read: input jobs {summary.input_jobs}, controller Hyperband calls {len(calls)}, rows {rows}, "
          f"posterior equal {np.array_equal(col.posteriors[TASK], np.array(want['posterior']))}, "
          f"rewards equal {run.iterations.reward.tolist() == want['rewards']}, all resumed {bool(run.iterations.resumed.all())}")
    same = report.load_result(cfg, "04_posterior_prediction", "small", Small).n
    moved = config.load("smoke", output_dir=str(out), **TINY, **{"engine.workers": 4, "data.root": str(out / "data")})
    print(f"saved result read: same settings {same == 3}, "
          f"then engine.workers=4 and data.root moved {report.load_result(moved, '04_posterior_prediction', 'small', Small).n == 3}; "
          f"controller run read after the move {ctl.load_run(moved, store, 'exp2') is not None}")
