"""Synthetic planted collections: a fake `collection.Collected` whose right answer is known, for tests and benchmarks.

Source: stands in for the thesis's collected data (Kossmann 2019, Def. 2.3 input samples and
sec. 3.1 Hyperband posteriors; Hyperband: Li et al. 2018). Each task prefers one filter option
per layer; posteriors come from real `hyperband.run_bracket` runs on a planted accuracy, and
the MI z-scores carry the preference, so a signal is informative by construction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.core.seeding import rng_for
from minas.nas import hyperband
from minas.nas.space import N_LAYERS, sample_architectures
from minas.study.collection import Collected, signal_columns

PREF_MEAN, PREF_SD = 11.0, float(np.sqrt((17**2 - 1) / 12))  # mean and sd of the discrete uniform on 3..19


def synthetic_collected(n_train: int = 6, n_test: int = 3, n_samples: int = 6, n_inputs: int = 12,
                        survivors=(8, 4), lam: float = 5e-4, methods=("mine_fast", "ba"), seed: int = 0,
                        strength: float = 0.9) -> Collected:
    """A planted `Collected` for tests and benchmarks: each task prefers one option per layer.

    accuracy(arch, epochs) = base - 0.04 * sum_l ((idx_l - pref_l) / 6)^2 + 0.01 * epochs + noise;
    posteriors come from real `hyperband.run_bracket` runs. Each input sample's z-scored MI of layer l is
    strength * s_l + sqrt(1 - strength^2) * N(0, 1), with s_l the task's preference pref_l standardized
    (pref ~ uniform on 3..19), so z has unit variance like a real within-task z-score whatever the strength,
    and strength is its correlation with the preference: 0 plants nothing (pure noise), 1 feeds the
    preference itself. The raw MI columns are 1 + 0.1 z.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength={strength!r}: it is the planted signal's correlation with the task's preference, "
                         "so it lies in [0, 1] (0: noise, 1: the preference itself)")
    rng = rng_for(seed, "synthetic")
    samples, brackets, posts = [], [], {}
    for t in range(n_train + n_test):
        task, split = f"task{t:02d}", "train" if t < n_train else "test"
        pref, base = rng.integers(3, 20, size=N_LAYERS), rng.uniform(0.5, 0.9)

        def acc(arch, epochs=0, pref=pref, base=base):
            d = ((np.array(arch.indices) - pref) / 6.0) ** 2
            return float(base - 0.04 * d.sum() + 0.01 * epochs + rng.normal(0, 0.005))

        task_posts = []
        for i in range(n_samples):
            res = hyperband.run_bracket(sample_architectures(n_inputs, rng), acc, list(survivors), [1] * (len(survivors) + 1), lam)
            task_posts.append(hyperband.posterior(res.survivors, res.scores))
            brackets += [dict(r, task=task, split=split, sample=i) for r in res.rows]
            arch = sample_architectures(1, rng)[0]
            row = {"task": task, "split": split, "role": "input", "sample": i, "arch": arch.id, "accuracy": acc(arch, 10)}
            for m in methods:
                z = strength * (pref - PREF_MEAN) / PREF_SD + np.sqrt(1.0 - strength**2) * rng.normal(0, 1, size=N_LAYERS)
                row.update(dict(zip(signal_columns(m), 1.0 + 0.1 * z)))
                row.update(dict(zip(signal_columns(m, standardized=True), z)))
            samples.append(row)
        posts[task] = np.stack(task_posts)
    samples = pd.DataFrame(samples)
    zcols = [c for m in methods for c in signal_columns(m, standardized=True)]
    return Collected(samples, posts, pd.DataFrame(brackets), samples.drop(columns=zcols), list(methods))
