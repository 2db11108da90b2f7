"""Synthetic planted collections: a fake `collection.Collected` whose right answer is known, for tests and benchmarks.

Source: stands in for the thesis's collected data (Kossmann 2019, Def. 2.3 input samples and
sec. 3.1 Hyperband posteriors; Hyperband: Li et al. 2018). Each task prefers one filter option
per layer; posteriors come from real `hyperband.run_bracket` runs on a planted accuracy, and
the MI z-scores carry the preference, so a signal is informative by construction.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from minas.core.seeding import rng_for
from minas.nas import hyperband
from minas.nas.space import N_LAYERS, N_OPTIONS, sample_architectures
from minas.study.collection import Collected, signal_columns
from minas.study.predict.predictors import fit_gaussian

PREF_MEAN, PREF_SD = 11.0, float(np.sqrt((17**2 - 1) / 12))  # mean and sd of the discrete uniform on 3..19


def synthetic_collected(n_train: int = 6, n_test: int = 3, n_samples: int = 6, n_inputs: int = 12,
                        survivors=(8, 4), lam: float = 5e-4, methods=("mine_fast", "ba"), seed: int = 0,
                        strength: float = 0.9, tasks_per_source: int = 1) -> Collected:
    """A planted `Collected` for tests and benchmarks: each task prefers one option per layer.

    accuracy(arch, epochs) = base - 0.04 * sum_l ((idx_l - pref_l) / 6)^2 + 0.01 * epochs + noise;
    posteriors come from real `hyperband.run_bracket` runs. Each input sample's z-scored MI of layer l is
    strength * s_l + sqrt(1 - strength^2) * N(0, 1), with s_l the task's preference pref_l standardized
    (pref ~ uniform on 3..19), so z has unit variance like a real within-task z-score whatever the strength,
    and strength is its correlation with the preference: 0 plants nothing (pure noise), 1 feeds the
    preference itself. The raw MI columns are 1 + 0.1 z. Tasks t come from source `src<t // tasks_per_source>`
    (the samples' `source` column), so statistics over independent sources can be checked.
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
            row = {"task": task, "split": split, "source": f"src{t // tasks_per_source:02d}", "role": "input", "sample": i,
                   "arch": arch.id, "accuracy": acc(arch, 10)}
            for m in methods:
                z = strength * (pref - PREF_MEAN) / PREF_SD + np.sqrt(1.0 - strength**2) * rng.normal(0, 1, size=N_LAYERS)
                row.update(dict(zip(signal_columns(m), 1.0 + 0.1 * z)))
                row.update(dict(zip(signal_columns(m, standardized=True), z)))
            samples.append(row)
        posts[task] = np.stack(task_posts)
    samples = pd.DataFrame(samples)
    zcols = [c for m in methods for c in signal_columns(m, standardized=True)]
    return Collected(samples, posts, pd.DataFrame(brackets), samples.drop(columns=zcols), list(methods))


GLOBAL_CENTRES, GLOBAL_WIDTH = (6.0, 8.0, 9.0, 10.0), 4.0  # option indices of the shared shape
TASK_WIDTHS = (2.5, 1.5, 1.0, 0.6)  # options: the task bump's width, narrowed only when a gain needs it


def _bump(centre, width: float) -> np.ndarray:
    """Per-layer normalized Gaussian bumps over the 23 options, (..., 23)."""
    i = np.arange(N_OPTIONS, dtype=np.float64)
    b = np.exp(-0.5 * ((i - np.asarray(centre, np.float64)[..., None]) / width) ** 2)
    return b / b.sum(axis=-1, keepdims=True)


def _task_means(prefs: np.ndarray, share: float, width: float = TASK_WIDTHS[0]) -> np.ndarray:
    """(T, 4, 23) expected posteriors: (1 - share) x the shared shape + share x a bump at each task's preference."""
    return (1 - share) * _bump(np.array(GLOBAL_CENTRES), GLOBAL_WIDTH)[None] + share * _bump(prefs, width)


def planted_gain(share: float, width: float = TASK_WIDTHS[0], n: int = 256) -> float:
    """G of a planted world: mean MSE of the Gaussian fitted to the mean posterior against each task's expected one."""

    prefs = rng_for(0, "planted-gain").uniform(3, 19, size=(n, N_LAYERS))
    mu = _task_means(prefs, share, width)
    return float(((mu - fit_gaussian(mu.mean(axis=0))[None]) ** 2).mean())


@lru_cache(maxsize=64)
def share_for_gain(gain: float) -> tuple[float, float]:
    """(share, width): the task-specific share whose planted G equals `gain` (bisection; G grows with the share),
    with the widest task bump of TASK_WIDTHS that can reach it."""
    width = next((w for w in TASK_WIDTHS if planted_gain(1.0, w) >= gain), None)
    if not gain >= 0.0 or width is None:
        raise ValueError(f"gain={gain:.3g}: a planted world reaches G between 0 and "
                         f"{planted_gain(1.0, TASK_WIDTHS[-1]):.3g} (per-layer scale)")
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if planted_gain(mid, width) < gain else (lo, mid)
    return (lo + hi) / 2, width


def calibrated_collected(n_train: int, n_test: int, n_train_samples: int, n_test_samples: int, k: int, floor: float,
                         gain: float, strength: float, seed: int = 0, tasks_per_source: int = 1,
                         method: str = "mine_fast", share: float | None = None, sources: list | None = None) -> Collected:
    """A planted `Collected` in a measured world: each task's clean targets have floor `floor` and the fitted Gaussian
    lies `gain` above it (both per-layer scale, from `budget.signal_budget`), all of it planted as task-specific
    preference, so here a perfect per-layer signal could gain it (in a measured run G also holds the Gaussian's
    misfit and fit noise: issue 31; the gate measures the task-specific part).

    Task t has expected posterior mu_t = (1 - share) x a shared shape + share x a bump at its preferred option per
    layer (pref ~ uniform on 3..19), share (and the bump's width) set by `share_for_gain(gain)`. Its posteriors are Dirichlet draws around
    mu_t whose per-entry variance sigma^2 = floor x k, so a mean of k has noise floor `floor` (and dirty noise
    2 k floor). The planted z-score is strength x the standardized preference + sqrt(1 - strength^2) N(0, 1), as
    `synthetic_collected`: at strength 1 it determines mu_t, a perfect per-layer signal. `sources` names each
    task's source (train tasks first), e.g. a real design's; else task t is from source t // tasks_per_source.
    """
    if sources is not None and len(sources) != n_train + n_test:
        raise ValueError(f"sources: {len(sources)} names for {n_train + n_test} tasks (train first, then test)")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength={strength!r}: the planted signal's correlation with the preference lies in [0, 1]")
    share, width = share_for_gain(gain) if share is None else (share, TASK_WIDTHS[0])
    rng = rng_for(seed, "calibrated")
    samples, posts = [], {}
    for t in range(n_train + n_test):
        task, split = f"task{t:03d}", "train" if t < n_train else "test"
        pref = rng.uniform(3, 19, size=N_LAYERS)
        mu = _task_means(pref[None], share, width)[0]  # (4, 23)
        conc = np.clip((mu * (1 - mu)).mean() / (floor * k) - 1.0, 0.05, None)  # Dirichlet: var = mu(1-mu)/(conc+1)
        n = n_train_samples if split == "train" else n_test_samples
        g = rng.gamma(conc * mu[None] + 1e-3, size=(n, N_LAYERS, N_OPTIONS))
        posts[task] = g / g.sum(axis=-1, keepdims=True)
        zs = (pref - PREF_MEAN) / np.sqrt((16**2) / 12)  # continuous uniform on 3..19: unit variance
        for i, arch in enumerate(sample_architectures(n, rng)):
            z = strength * zs + np.sqrt(1.0 - strength**2) * rng.normal(0, 1, size=N_LAYERS)
            src = str(sources[t]) if sources is not None else f"src{t // tasks_per_source:03d}"
            row = {"task": task, "split": split, "source": src, "role": "input",
                   "sample": i, "arch": arch.id, "accuracy": float(rng.uniform(0.5, 0.9))}
            row.update(dict(zip(signal_columns(method), 1.0 + 0.1 * z)))
            row.update(dict(zip(signal_columns(method, standardized=True), z)))
            samples.append(row)
    samples = pd.DataFrame(samples)
    brackets = pd.DataFrame(columns=["task", "split", "sample", "rung", "arch", "epochs", "accuracy", "score", "survived"])
    return Collected(samples, posts, brackets, samples.drop(columns=signal_columns(method, standardized=True)), [method])
