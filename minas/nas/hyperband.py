"""Hyperband as the thesis uses it: score, the 12 -> 8 -> 4 bracket, posteriors, noise.

Sources: Li et al. 2018 (Hyperband, successive halving); Kossmann 2019 (thesis) Def. 2.5
(posterior), Def. 2.6 (score), A.3 (smoothing). Training is continued between rungs, so a
survivor of rung r has been trained sum(epochs_per_rung[:r+1]) epochs in total.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minas.core.seeding import rng_for
from minas.nas.space import N_LAYERS, N_OPTIONS, Architecture, parse_architecture


def score(accuracy: float, arch: Architecture, lam: float) -> float:
    """Hyperband score hs = accuracy - lam * sum(filters) (thesis Def. 2.6)."""
    return float(accuracy) - lam * arch.total_filters()


@dataclass
class Bracket:
    """One Hyperband instance as a small state machine the driver advances rung by rung.

    `wanted()` lists the (arch, total_epochs) trainings the current rung still needs;
    `report()` feeds accuracies back; when a rung is complete the best survive (ties broken by
    architecture id, so the outcome is deterministic).
    """

    archs: list[Architecture]
    survivors: list[int]
    epochs_per_rung: list[int]
    lam: float
    rung: int = 0
    alive: list[int] = field(default_factory=list)  # indices into archs
    results: list[dict] = field(default_factory=list)  # one row per (rung, input index)
    _acc: dict = field(default_factory=dict)  # (arch id, epochs) -> accuracy

    def __post_init__(self) -> None:
        if len(self.epochs_per_rung) != len(self.survivors) + 1:
            raise ValueError("epochs_per_rung needs one entry more than survivors")
        sizes = [len(self.archs)] + list(self.survivors)
        if any(b >= a for a, b in zip(sizes, sizes[1:])):
            raise ValueError(f"each round must keep fewer than it gets: {sizes}")
        if not self.alive:
            self.alive = list(range(len(self.archs)))

    @property
    def epochs(self) -> int:
        """Total epochs of the current rung's trainings."""
        return int(sum(self.epochs_per_rung[: self.rung + 1]))

    @property
    def prev_epochs(self) -> int:
        """Epochs the current rung's trainings continue from (0 at the first rung)."""
        return int(sum(self.epochs_per_rung[: self.rung]))

    @property
    def done(self) -> bool:
        return self.rung > len(self.survivors)

    def wanted(self) -> list[tuple[Architecture, int]]:
        """Trainings the current rung still needs (distinct architectures)."""
        if self.done:
            return []
        need = {self.archs[i] for i in self.alive if (self.archs[i].id, self.epochs) not in self._acc}
        return sorted(need)

    def report(self, arch: Architecture, epochs: int, accuracy: float) -> None:
        """Record an accuracy; advances the rung once all of it is known."""
        self._acc[(arch.id, int(epochs))] = float(accuracy)
        while not self.done and not self.wanted():
            self._close_rung()

    def _close_rung(self) -> None:
        rows = []
        for i in self.alive:
            a = self.archs[i]
            acc = self._acc[(a.id, self.epochs)]
            rows.append({"rung": self.rung, "index": i, "arch": a.id, "epochs": self.epochs,
                         "accuracy": acc, "score": score(acc, a, self.lam)})
        if self.rung < len(self.survivors):
            keep = sorted(rows, key=lambda r: (-r["score"], r["arch"], r["index"]))[: self.survivors[self.rung]]
            kept = {r["index"] for r in keep}
        else:
            kept = {r["index"] for r in rows}
        for r in rows:
            r["survived"] = r["index"] in kept
        self.results.extend(rows)
        self.alive = sorted(kept)
        self.rung += 1

    def outcome(self) -> "BracketResult":
        """The finished instance's result."""
        if not self.done:
            raise RuntimeError("bracket not finished yet")
        final = [r for r in self.results if r["rung"] == len(self.survivors)]
        final.sort(key=lambda r: -r["score"])
        n = len(self.archs)
        total = sum(s * e for s, e in zip([n] + list(self.survivors), self.epochs_per_rung))
        return BracketResult(
            inputs=[a.id for a in self.archs],
            survivors=[r["arch"] for r in final],
            scores=[r["score"] for r in final],
            accuracies=[r["accuracy"] for r in final],
            rows=list(self.results),
            budget_epochs=int(total),
        )


@dataclass
class BracketResult:
    """A finished Hyperband instance: its inputs, survivors (best first) and every rung's rows."""

    inputs: list[str]
    survivors: list[str]
    scores: list[float]
    accuracies: list[float]
    rows: list[dict]
    budget_epochs: int  # epochs of training the instance asked for (before caching)

    @property
    def summed_score(self) -> float:
        """HS: sum of the survivors' scores (thesis Def. 2.8)."""
        return float(sum(self.scores))

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "BracketResult":
        return cls(**d)


def run_bracket(
    archs: list[Architecture],
    accuracy_of: Callable[[Architecture, int], float],
    survivors: list[int],
    epochs_per_rung: list[int],
    lam: float,
) -> BracketResult:
    """Run one instance synchronously with `accuracy_of(arch, total_epochs)` (tests, toys)."""
    b = Bracket(list(archs), list(survivors), list(epochs_per_rung), lam)
    while not b.done:
        for arch in b.wanted():
            b.report(arch, b.epochs, accuracy_of(arch, b.epochs))
    return b.outcome()


def smooth(dist: np.ndarray, share: float = 0.25) -> np.ndarray:
    """Add `share` of each neighbouring option's value to every option (thesis A.3); (..., 23)."""
    out = dist.astype(np.float64).copy()
    out[..., 1:] += share * dist[..., :-1]
    out[..., :-1] += share * dist[..., 1:]
    return out


def normalize(dist: np.ndarray) -> np.ndarray:
    """Each layer's row divided by its sum (a row of zeros becomes uniform)."""
    dist = np.asarray(dist, dtype=np.float64)
    s = dist.sum(axis=-1, keepdims=True)
    return np.where(s > 0, dist / np.where(s > 0, s, 1.0), 1.0 / dist.shape[-1])


def posterior_weights(scores) -> np.ndarray:
    """Each final survivor's vote in its posterior: its Hyperband score, shifted by the lowest score when any is < 0.

    A shift (not ranks) keeps the scores' spacing and changes nothing where every score is >= 0 (lambda = 0: scores are
    accuracies), so those posteriors stay identical; with lambda > 0 a survivor whose size penalty outweighs its
    accuracy still votes less than a better one instead of every such survivor counting 0 (issue 31, item 2: clipping
    at 0 discarded the order among a hard task's survivors). The lowest survivor then votes 0; if every weight is 0
    (all scores equal and < 0, or all 0) the survivors count equally.
    """
    w = np.asarray(scores, dtype=np.float64)
    if len(w) and w.min() < 0:
        w = w - w.min()
    if w.sum() <= 0:
        w = np.ones(len(w))
    return w


def posterior(survivors: list[str | Architecture], scores: list[float], share: float = 0.25) -> np.ndarray:
    """Hyperband posterior (thesis Def. 2.5, A.3): score-weighted option counts, smoothed, per-layer normalized.

    Weights: `posterior_weights` (scores as they are when none is negative, else shifted by the lowest: order
    kept). Returns (4, 23).
    """
    archs = [a if isinstance(a, Architecture) else parse_architecture(a) for a in survivors]
    w = posterior_weights(scores)
    counts = np.zeros((N_LAYERS, N_OPTIONS))
    for a, wi in zip(archs, w):
        counts[np.arange(N_LAYERS), a.indices] += wi
    return normalize(smooth(counts, share))


def clean_posteriors(posteriors: np.ndarray, k: int = 5, max_combos: int = 0,
                     seed: int = 0) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """All sums of k posteriors of one data set, renormalized per layer; ((C(n,k), 4, 23), combos).

    Renormalizing the sum equals averaging, so a clean posterior is again a distribution. With max_combos > 0 and
    C(n, k) above it, a seeded draw of max_combos distinct combinations (in sorted order) stands in for all of them.
    """
    posteriors = np.asarray(posteriors, dtype=np.float64)
    n = len(posteriors)
    total = math.comb(n, k) if 0 < k <= n else 0
    if 0 < max_combos < total:
        rng = rng_for(seed, "clean-posteriors", n, k)
        picked: set[tuple[int, ...]] = set()
        while len(picked) < max_combos:
            picked.add(tuple(sorted(rng.choice(n, size=k, replace=False).tolist())))
        combos = sorted(picked)
    elif total > 10**6:
        raise ValueError(f"C({n}, {k}) = {total} clean posteriors per task: cap them (hyperband.max_clean)")
    else:
        combos = list(itertools.combinations(range(n), k))
    if not combos:
        return np.zeros((0,) + posteriors.shape[1:]), []
    idx = np.array(combos)  # (C, k)
    return normalize(posteriors[idx].sum(axis=1)), combos


def clean_overlap(n: int, k: int) -> float:
    """Expected pairwise MSE of two distinct clean posteriors (means of k of n posteriors), in units of the dirty noise.

    Two posteriors differ by 2 sigma^2 per entry (the dirty noise); two means of k that share j posteriors differ by
    2 sigma^2 (k - j) / k^2. Averaged over pairs of distinct combinations: at n = 6, k = 5 any two share 4, so the
    clean noise is dirty / 25, while each clean target's own noise (its floor) is sigma^2 / k = dirty / 10.
    """
    total = math.comb(n, k) if 0 < k <= n else 0
    if total < 2:
        return float("nan")
    shared = (total * k * k / n - k) / (total - 1)  # mean overlap of two distinct k-subsets (all ordered pairs: k^2 / n)
    return float((k - shared) / k**2)


def balanced_lambda(accuracies, total_filters) -> float:
    """The size penalty that weighs accuracy and size equally on one task: sd(accuracy) / sd(sum of filters).

    With it hs = accuracy - lam * sum(filters) gives both terms the same spread over the task's architectures
    (e.g. its randomly drawn reference architectures), so neither ranks the instance alone (issue 23, item 2).
    """
    a, f = np.asarray(accuracies, np.float64), np.asarray(total_filters, np.float64)
    ok = np.isfinite(a) & np.isfinite(f)
    if ok.sum() < 2 or np.std(f[ok]) == 0:
        raise ValueError("balanced_lambda needs >= 2 architectures with different sizes and finite accuracies")
    return float(np.std(a[ok], ddof=1) / np.std(f[ok], ddof=1))


def noise_level(posteriors: np.ndarray) -> float:
    """Mean pairwise MSE between posteriors of one data set (NaN if fewer than two)."""
    p = np.asarray(posteriors, dtype=np.float64).reshape(len(posteriors), -1)  # (n, 92)
    if len(p) < 2:
        return float("nan")
    sq = ((p[:, None, :] - p[None, :, :]) ** 2).mean(axis=-1)  # (n, n)
    iu = np.triu_indices(len(p), k=1)
    return float(sq[iu].mean())
