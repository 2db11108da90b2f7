"""Diagnostics of a collection (notebook 03): posterior noise levels, how much Hyperband's size penalty
changes the survivors, and the work the store records (thesis 2.2 and A.5)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from minas.core.config import StudyConfig
from minas.core.store import Store
from minas.nas import hyperband
from minas.study.collection.readback import Collected


def noise_levels(collected: Collected, k: int) -> pd.DataFrame:
    """Per task: dirty noise (pairwise MSE of posteriors) and clean noise (of clean posteriors)."""
    rows = []
    split = dict(zip(collected.samples.task, collected.samples.split))
    for task, posts in collected.posteriors.items():
        clean, _ = hyperband.clean_posteriors(posts, k)
        rows.append({"task": task, "split": split[task], "n_posteriors": len(posts), "n_clean": len(clean),
                     "dirty": hyperband.noise_level(posts), "clean": hyperband.noise_level(clean)})
    return pd.DataFrame(rows)


def _survivors_change(g: pd.DataFrame, final_rung: int) -> bool:
    """Whether one instance's last survivors differ from the best of the rung before by accuracy alone."""
    last = g[g.rung == final_rung]
    by_acc = set(g[g.rung == final_rung - 1].nlargest(len(last), "accuracy").arch) if final_rung > 0 else set()
    return by_acc != set(last.arch)


def lambda_effect(collected: Collected, lam: float) -> dict:
    """How much the filter penalty matters: spreads of accuracy and penalty among first-rung inputs,
    and the share of instances whose survivors differ from an accuracy-only ranking."""
    b = collected.brackets
    if b.empty:
        return {"acc_std": float("nan"), "penalty_std": float("nan"), "changed_share": float("nan")}
    first = b[b.rung == 0].copy()
    first["penalty"] = first.accuracy - first.score
    final_rung = int(b.rung.max())
    changed = [_survivors_change(g, final_rung) for _, g in b.groupby(["task", "sample"])]
    within = first.groupby(["task", "sample"])
    return {
        "acc_std": float(within.accuracy.std().mean()),
        "penalty_std": float(within.penalty.std().mean()),
        "changed_share": float(np.mean(changed)) if changed else float("nan"),
    }


def work_done(cfg: StudyConfig, store: Store) -> dict:
    """Training epochs and seconds spent, as recorded in the store, and how many trainings each engine did
    (`engines`: "cnn" one network at a time, "population" in groups; rows stored before the store recorded it count
    as "cnn")."""
    t = store.frame("trainings")
    if t.empty:
        return {"trainings": 0, "epochs_trained": 0, "train_seconds": 0.0, "mi_seconds": 0.0, "engines": {}}
    fixed = t[t.kind == "fixed"]
    # a continued training's row holds the total epochs: count each (task, arch) once at its furthest
    epochs_fixed = int(fixed.groupby(["task", "arch", "seed"]).epochs.max().sum()) if len(fixed) else 0
    conv = t[t.kind == "converge"]
    epochs_conv = int(sum(len(json.loads(h)) for h in conv.history)) if len(conv) else 0
    m = store.frame("mi")
    return {
        "trainings": int(len(t)),
        "epochs_trained": epochs_fixed + epochs_conv,
        "train_seconds": float(t.seconds.sum()),
        # each layer's row holds its share of the network's estimate: sum every layer
        "mi_seconds": float(m.drop_duplicates(["task", "arch", "seed", "method", "layer"]).seconds.sum()) if len(m) else 0.0,
        "engines": {str(k): int(v) for k, v in t.engine.fillna("cnn").value_counts().sort_index().items()},
    }
