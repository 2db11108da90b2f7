"""A permutation test whose null carries the fit's own noise: shuffle the signal across training units, refit, rescore.

Source: the permutation principle (Fisher 1935; Good 2005, ch. 3) applied to a whole prediction pipeline, as in
Ojala & Garriga 2010 (J. Mach. Learn. Res. 11:1833-1863, "test 1": permute the labels, retrain, re-evaluate). When the
signal tells nothing about the target, the training units' signals are exchangeable, so the statistic computed after
refitting on any reshuffle has the observed statistic's distribution: the p-value is exact whatever the fit and however
many held-out units share it (a t-interval over held-out units treats one shared fit as fixed, which is why its size
grows with the number of held-out sources; issue 31, item 3). p counts the observed arrangement as one draw
(Phipson & Smyth 2010), so it is never 0 and its size is at most alpha when alpha (n_perm + 1) is an integer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from minas.core.seeding import rng_for

ALTERNATIVES = ("less", "greater", "two-sided")


@dataclass
class RefitTest:
    """The observed statistic, its permutation null (summaries) and p."""

    statistic: float
    p: float
    null_mean: float
    null_sd: float
    n_perm: int
    n_units: int
    alternative: str


def shuffles(n_units: int, n_perm: int, seed: int = 0, strata=None) -> np.ndarray:
    """(n_perm, n_units) permutations of 0..n_units-1, each unit moved only within its stratum (e.g. equal sizes)."""
    strata = np.zeros(n_units, int) if strata is None else np.asarray(strata)
    if len(strata) != n_units:
        raise ValueError(f"strata: {len(strata)} labels for {n_units} units")
    rng = rng_for(seed, "refit-permutation")
    out = np.tile(np.arange(n_units), (n_perm, 1))
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        out[:, idx] = idx[np.argsort(rng.random((n_perm, len(idx))), axis=1)]
    return out


def refit_permutation_test(refit: Callable[[np.ndarray], float], n_units: int, n_perm: int = 99, seed: int = 0,
                           alternative: str = "less", strata=None) -> RefitTest:
    """p of `refit(np.arange(n_units))` against `refit(order)` for `n_perm` shuffles `order` of the training units.

    refit(order): give training unit i the signal of unit order[i], fit, score the held-out units, return the
    statistic (e.g. mean over held-out sources of MSE(with signal) - MSE(without)). alternative "less": small is the
    effect (a signal lowers the error); "greater"; "two-sided": twice the smaller one-sided p, capped at 1.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative={alternative!r}: one of {ALTERNATIVES}")
    if n_units < 2 or n_perm < 1:
        raise ValueError(f"n_units={n_units}, n_perm={n_perm}: a permutation test needs >= 2 units and >= 1 shuffle")
    observed = float(refit(np.arange(n_units)))
    null = np.array([float(refit(order)) for order in shuffles(n_units, n_perm, seed, strata)])
    tol = 1e-12 * max(1.0, abs(observed))
    p_less = (1 + int(np.sum(null <= observed + tol))) / (n_perm + 1)
    p_greater = (1 + int(np.sum(null >= observed - tol))) / (n_perm + 1)
    p = {"less": p_less, "greater": p_greater, "two-sided": min(1.0, 2 * min(p_less, p_greater))}[alternative]
    return RefitTest(observed, p, float(null.mean()), float(null.std(ddof=1)) if n_perm > 1 else float("nan"),
                     n_perm, n_units, alternative)
