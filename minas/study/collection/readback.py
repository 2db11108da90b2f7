"""Reading a finished collection back from the store into a typed `Collected` (notebooks 03-06).

Signals are z-scored per task against the task's standardization set (thesis A.4: the task's random
architectures, i.e. the n_standardize seed architectures plus every input sample measured on it).
Only complete work is read: an input sample lacking its training or a signal's layer is left out, and a
Hyperband instance is paired with its sample only when its stored inputs are this draw's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from minas import data, mi
from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.store import Store
from minas.nas import hyperband
from minas.nas.space import Architecture
from minas.study.collection.columns import signal_column, signal_columns, signal_layers
from minas.study.collection.design import collection_brackets, input_archs


@dataclass
class Collected:
    """The collected data set, read back from the store for notebooks 03-06.

    samples: one row per input sample: task, split, sample, arch, accuracy, and per signal s and
        layer l the raw value `raw_<s>_<l>` (`signal_column`) and its z-score `z_<s>_<l>` against
        the task's standardization set.
    posteriors: task -> (n_samples, L, 23) Hyperband posteriors, in sample order.
    brackets: one row per (sample, rung, input): task, split, sample, rung, arch, epochs,
        accuracy, score, survived.
    reference: every random architecture measured per task (role 'standardize' or 'input').
    tasks: `data.task_table` of the configured tasks (name, family, source, classes, channels, size, n_train,
        n_test, split): what a predictor may read about a task itself; empty for collections built by hand.
    The signal "probe" (minas.mi.probe) holds held-out linear-probe accuracy, a fraction, not nats.
    """

    samples: pd.DataFrame
    posteriors: dict
    brackets: pd.DataFrame
    reference: pd.DataFrame
    signals: list[str]  # the signals held in samples and reference, in config order
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)

    def signal_matrix(self, signal: str, standardized: bool = True) -> np.ndarray:
        """(n_samples, L) values of one signal in the samples table, z-scored or raw ((n_samples, 1) for a
        whole-network signal such as a parameter count)."""
        return self.samples[signal_columns(signal, standardized)].to_numpy(dtype=np.float64)


def reference_signals(cfg: StudyConfig, store: Store, task: str, signal: str) -> np.ndarray:
    """(R, layers) raw values of one signal on the task's random architectures with a stored estimate.

    A failed layer estimate enters as NaN (ignored by the z-score).
    """
    signal_key = keys.signal_key(cfg)
    std, inputs = input_archs(cfg, task)
    rows = []
    for a in std + inputs:
        vals = store.get_signals(task, a.id, cfg.seed, signal, signal_key)
        if len(vals) == len(signal_layers(signal)):
            rows.append([np.nan if r["value"] is None else r["value"] for r in vals])
    return np.array(rows, dtype=np.float64).reshape(-1, len(signal_layers(signal)))


def _measured_row(cfg: StudyConfig, store: Store, task: str, arch: Architecture, settings: tuple[str, str]) -> dict | None:
    """One architecture's converged accuracy and every signal's layers; None unless all of them are stored."""
    training_key, signal_key = settings
    tr = store.get_training(task, arch.id, cfg.seed, 0, training_key, kind="converge")
    if tr is None:
        return None
    row = {"arch": arch.id, "accuracy": tr["accuracy"]}
    for s in cfg.mi.signals:
        vals = store.get_signals(task, arch.id, cfg.seed, s, signal_key)
        if len(vals) != len(signal_layers(s)):
            return None
        by_layer = {r["layer"]: r["value"] for r in vals}
        for l in signal_layers(s):
            row[signal_column(s, l)] = np.nan if by_layer.get(l) is None else by_layer[l]
    return row


def _reference_rows(cfg: StudyConfig, store: Store, task: str, split: str, settings: tuple[str, str]) -> list[dict]:
    """The task's measured random architectures (standardization set, then input samples), complete ones only."""
    std, inputs = input_archs(cfg, task)
    rows = []
    for role, archs in (("standardize", std), ("input", inputs)):
        for i, a in enumerate(archs):
            row = _measured_row(cfg, store, task, a, settings)
            if row is not None:
                rows.append({"task": task, "split": split, "role": role, "sample": i, **row})
    return rows


def _zscore(cfg: StudyConfig, store: Store, samples: pd.DataFrame) -> pd.DataFrame:
    """Add every signal's z-scored columns, per task against its standardization set."""
    for s in cfg.mi.signals:
        cols, zcols = signal_columns(s), signal_columns(s, standardized=True)
        if samples.empty:
            for c in zcols:
                samples[c] = []
            continue
        z = np.zeros((len(samples), len(cols)))
        for task, idx in samples.groupby("task").groups.items():
            z[samples.index.get_indexer(idx)] = mi.standardize(samples.loc[idx, cols].to_numpy(dtype=np.float64),
                                                               reference_signals(cfg, store, task, s))
        samples[zcols] = z
    return samples


def load_collected(cfg: StudyConfig, store: Store, tasks: list[str] | None = None) -> Collected:
    """Read input samples, signals and posteriors of finished work back from the store."""
    settings = (keys.training_key(cfg), keys.signal_key(cfg))
    bracket_key = keys.bracket_key(cfg)
    built = data.build_tasks(cfg)
    split = {t.name: t.split for t in built}
    names = tasks if tasks is not None else list(split)
    ref_rows, sample_rows, bracket_rows, posts = [], [], [], {}
    for task in names:
        task_refs = _reference_rows(cfg, store, task, split[task], settings)
        ref_rows += task_refs
        inputs = {r["sample"]: r for r in task_refs if r["role"] == "input"}
        task_posts = []
        for i, spec in enumerate(collection_brackets(cfg, task)):
            done = store.get_bracket("collection", task, spec.instance, bracket_key)
            if done is None or i not in inputs or done["archs"] != [a.id for a in spec.archs]:
                continue  # unfinished, or another draw's instance: never pair a posterior with the wrong inputs
            res = hyperband.BracketResult.from_dict(done["result"])
            task_posts.append(hyperband.posterior(res.survivors, res.scores, cfg.hyperband.smoothing))
            sample_rows.append(dict(inputs[i]))
            bracket_rows += [dict(r, task=task, split=split[task], sample=i) for r in res.rows]
        if task_posts:
            posts[task] = np.stack(task_posts)
    samples = _zscore(cfg, store, pd.DataFrame(sample_rows))
    return Collected(samples.reset_index(drop=True), posts, pd.DataFrame(bracket_rows), pd.DataFrame(ref_rows),
                     list(cfg.mi.signals), data.task_table(built))
