"""Collecting the study's raw material (notebook 03): input samples (MI) and Hyperband posteriors per task.

Thesis (Kossmann 2019) sections 2.1-2.2 and A.4-A.5. For each task: `n_standardize` random
architectures seed the MI standardization set; each of the task's samples is one random
architecture trained to convergence with its per-layer signals (the input sample) plus one
Hyperband instance on 12 other random architectures (its posterior). Everything goes through
the store, keyed by its inputs, so a rerun after a crash recomputes nothing that finished.

One module per job:
- `design`: what a collection holds (the architectures of a task, its Hyperband instances, the
  collection seeds) as pure functions of the config;
- `runner`: running it through the engine (`collect`, `run_input_samples`, `run_brackets`);
- `readback`: reading finished work back into a typed `Collected` (`load_collected`);
- `columns`: how a signal's layers are named as columns of the samples table;
- `diagnostics`: noise levels, the size penalty's effect, the work done.
"""
from minas.study.collection.columns import signal_column, signal_columns, signal_layers, signal_long
from minas.study.collection.design import (
    BracketSpec,
    collection_brackets,
    input_archs,
    n_samples,
    seed_configs,
)
from minas.study.collection.diagnostics import lambda_effect, noise_levels, work_done
from minas.study.collection.readback import Collected, load_collected, reference_signals
from minas.study.collection.runner import CollectionSummary, collect, run_brackets, run_input_samples

__all__ = [
    "BracketSpec", "input_archs", "n_samples", "collection_brackets", "seed_configs",
    "CollectionSummary", "collect", "run_brackets", "run_input_samples",
    "Collected", "load_collected", "reference_signals",
    "signal_column", "signal_columns", "signal_layers", "signal_long",
    "noise_levels", "lambda_effect", "work_done",
]
