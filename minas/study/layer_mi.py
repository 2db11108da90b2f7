"""Per-layer MI of networks trained on the study's own tasks, and the data-processing-inequality check.

`layer_mi_on_tasks` trains random architectures (Kossmann 2019, 2.1.1) and estimates I(C_i; y) for each
layer; `dpi_check` tests I(C_{i+1}; y) <= I(C_i; y), which per-layer Shannon MI obeys because each layer is
a function of the one before (Cover & Thomas 2006, 2.8).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from minas import data
from minas.core.seeding import derive_seed
from minas.mi import estimate_layers, options_from_config
from minas.nas import cnn, space


def layer_mi_on_tasks(cfg, methods: list, n_tasks: int = 1, n_archs: int = 2, seeds: int = 1,
                      **options) -> pd.DataFrame:
    """Per-layer MI of trained networks on the study's tasks -> DataFrame (task, arch, method, seed, layer, value, curve).

    Each of n_archs random architectures is trained to convergence (minas.cnn) on each of the
    first n_tasks training tasks; its activations on the task's training rows feed every method.
    """
    opts = {**options_from_config(cfg.mi), **options}
    rows = []
    for task in [t for t in data.build_tasks(cfg) if t.split == "train"][:n_tasks]:
        rng = np.random.default_rng(derive_seed(cfg.seed, "mi-real", task.name))
        for arch in space.sample_architectures(n_archs, rng):
            result, model = cnn.train_to_convergence(task, arch, derive_seed(cfg.seed, "mi-real", arch.id) % 2**31,
                                                     cfg.train, cnn.pick_device(cfg.device))
            acts = cnn.activations(model, task.x_train[: opts["max_rows"]])
            y = task.y_train[: opts["max_rows"]]
            for m in methods:
                for s in range(seeds):
                    for layer, r in enumerate(estimate_layers(acts, y, m, seed=s, **opts), start=1):
                        rows.append({"task": task.name, "arch": arch.id, "accuracy": result.accuracy, "method": m,
                                     "seed": s, "layer": layer, "value": r.value, "ok": r.ok, "seconds": r.seconds,
                                     "curve": r.curve, "ceiling": math.log(task.n_classes)})
    return pd.DataFrame(rows)


def dpi_check(frame: pd.DataFrame, tol: float = 0.05) -> pd.DataFrame:
    """Share of (task, arch, method, seed) whose MI never rises from one layer to the next by more than tol nats.

    The data-processing inequality: I(C_{i+1}; y) <= I(C_i; y), since C_{i+1} is a function of C_i.
    """
    def holds(g):
        v = g.sort_values("layer")["value"].to_numpy()
        return bool(np.all(np.diff(v) <= tol))

    keys = ["task", "arch", "method", "seed"]
    per = frame.groupby(keys).apply(holds, include_groups=False).rename("dpi_holds").reset_index()
    return per.groupby("method")["dpi_holds"].mean().rename("share_dpi_holds").reset_index()
