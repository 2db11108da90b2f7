"""What the notebooks after the collection (04 and 06) read before anything else: the profile's store and the
input samples, posteriors and Hyperband runs notebook 03 collected (thesis Kossmann 2019, sec. 3.1), checked for
training and held-out tasks, with one table of counts; a missing collection is an error naming what to run.
"""
from __future__ import annotations

import pandas as pd
import torch

from minas.core.config import StudyConfig
from minas.core.store import Store, open_store
from minas.study.collection import Collected, load_collected


def counts(col: Collected) -> pd.DataFrame:
    """Tasks and input samples per split (train / test) of a collection."""
    return col.samples.groupby("split").agg(tasks=("task", "nunique"), samples=("sample", "size"))


def open_collection(cfg: StudyConfig, run_first: str = "03") -> tuple[Store, Collected]:
    """The store and its collection, for a notebook that needs notebooks `run_first` (e.g. '03,04,05') to have run.

    Keeps torch at one thread (the notebooks' own work is small; the engine's workers have theirs) and prints
    the counts and which signal feeds 'NN + MI'. Raises RuntimeError when no held-out task has input samples.
    """
    torch.set_num_threads(1)
    store = open_store(cfg)
    col = load_collected(cfg, store)
    if col.samples.empty or not (col.samples.split == "test").any():
        raise RuntimeError(f"no collected input samples for train and test tasks in {store.path}: run notebook(s) "
                           f"{run_first} first (python -m minas run --profile {cfg.profile} --only {run_first})")
    print(counts(col))
    print(f"signals {sorted(col.signals)} ('probe' is a held-out accuracy, not nats); 'NN + MI' uses {cfg.mi.signals[0]}; "
          f"clean posteriors sum {cfg.hyperband.n_clean}")
    return store, col
