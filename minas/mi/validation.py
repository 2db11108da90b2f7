"""The validation suite of notebook 02: every estimator of `minas.mi` on the known-MI problems of `minas.mi.known`."""
from __future__ import annotations

import pandas as pd

from minas.core.progress import bar
from minas.core.seeding import derive_seed
from minas.mi.estimate import METHODS, estimate_mi, estimate_mi_continuous, options_from_config
from minas.mi.known import SUITE_TASKS, known_task


def validation_suite(cfg, methods: list | None = None, tasks: list | None = None, **options) -> pd.DataFrame:
    """Every estimator on every known-MI task and seed -> one row per estimate.

    Rows per task: cfg.mi.validation_rows; seeds: cfg.mi.validation_seeds; estimator options:
    cfg.mi (batch size, lr, epochs, stop threshold), then **options.
    """
    methods = list(methods or METHODS)
    tasks = list(tasks or SUITE_TASKS.get(cfg.profile, SUITE_TASKS["default"]))
    n = cfg.mi.validation_rows
    opts = {**options_from_config(cfg.mi), **options, "max_rows": n}
    if cfg.device != "auto":
        opts["device"] = cfg.device
    rows = []
    per_seed = {name: [m for m in methods if not name.startswith("gauss_") or METHODS[m].continuous] for name in tasks}
    progress = bar(sum(map(len, per_seed.values())) * cfg.mi.validation_seeds, "known-MI suite", unit="estimate")
    for name in tasks:
        continuous = name.startswith("gauss_")
        kind = "continuous" if continuous else ("image" if "_img" in name else "flat")
        for s in range(cfg.mi.validation_seeds):
            task = known_task(name, n, derive_seed(cfg.seed, "mi-suite", s) % 2**31, cfg.data.image_size)
            for m in methods:
                if continuous and not METHODS[m].continuous:
                    continue
                fn = estimate_mi_continuous if continuous else estimate_mi
                r = fn(task.x, task.y, m, seed=s, **opts)
                rows.append({"task": name, "kind": kind, "truth": task.truth, "ceiling": task.ceiling, "method": m,
                             "seed": s, "value": r.value, "ok": r.ok, "seconds": r.seconds, "epochs": r.epochs})
                progress.update(1)
    progress.close()
    frame = pd.DataFrame(rows)
    frame["error"] = frame["value"] - frame["truth"]
    return frame


def suite_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Bias (mean error), spread (std over seeds), |error|, failures and seconds per (task, method)."""
    g = frame.groupby(["task", "method"])
    out = g.agg(truth=("truth", "first"), mean=("value", "mean"), bias=("error", "mean"), spread=("value", "std"),
                abs_error=("error", lambda e: e.abs().mean()), failed=("ok", lambda o: int((~o).sum())),
                seconds=("seconds", "mean"))
    return out.reset_index()
