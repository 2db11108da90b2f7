"""Linear-probe accuracy per layer: a cheap per-layer signal beside the MI estimates.

Alain & Bengio 2016 (linear classifier probes). Each layer's activations are average-pooled
to at most 4 x 4 per channel and standardized; a softmax-linear classifier is fit on the
training rows and its accuracy is measured on held-out rows. The value is a fraction, not
nats; it is stored beside the MI estimates under the method name "probe".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from minas.core.seeding import derive_seed

NAME = "probe"


def _features(a: torch.Tensor, pool: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, C * min(H, pool) * min(W, pool)); flat inputs pass through."""
    if a.dim() == 4:
        a = F.adaptive_avg_pool2d(a, (min(pool, a.shape[2]), min(pool, a.shape[3])))
    return a.reshape(a.shape[0], -1).float()


def probe_accuracy(acts: list[torch.Tensor], y: torch.Tensor, seed: int = 0, holdout: float = 0.3,
                   pool: int = 4, steps: int = 200, weight_decay: float = 1e-3) -> list[float]:
    """Held-out accuracy of a linear classifier on each layer's activations."""
    y = y.long().cpu()
    n = len(y)
    gen = torch.Generator().manual_seed(derive_seed(seed, "probe-split"))
    perm = torch.randperm(n, generator=gen)
    n_te = max(1, int(round(holdout * n)))
    te, tr = perm[:n_te], perm[n_te:]
    k = int(y.max()) + 1
    heads, x_tr, x_te = [], [], []
    for i, a in enumerate(acts):
        x = _features(a.cpu(), pool)
        mu, sd = x[tr].mean(0), x[tr].std(0).clamp_min(1e-6)
        x = (x - mu) / sd
        x_tr.append(x[tr])
        x_te.append(x[te])
        with torch.random.fork_rng(devices=[]):  # the seeded init leaves torch's global generator as it was
            torch.manual_seed(derive_seed(seed, "probe-init", i))
            heads.append(torch.nn.Linear(x.shape[1], k))
    # One Adam over every layer's head and the sum of their losses: Adam updates each parameter from its own
    # gradient and d(sum)/d(head i) is head i's own gradient, so each head follows exactly the steps of its own
    # fit (same bits), in one Python loop instead of one per layer (issue 32).
    opt = torch.optim.Adam([p for h in heads for p in h.parameters()], lr=0.05, weight_decay=weight_decay, foreach=True)
    y_tr = y[tr]
    for _ in range(steps):  # full batch: a few hundred rows, convex problem
        loss = sum(F.cross_entropy(h(x), y_tr) for h, x in zip(heads, x_tr))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return [float((h(x).argmax(1) == y[te]).float().mean()) for h, x in zip(heads, x_te)]


# ---------------------------------------------------------------- usable information (issue 12, item 5)
# Predictive V-information (Xu et al., ICLR 2020): for a critic family V, I_V(C -> y) = H_V(y) - H_V(y | C), here
# measured as the held-out cross-entropy gain of the best member of V over the label prior, in nats. Families:
# `linear` (softmax regression) and `mlp` (one hidden layer of 64), both on the layer pooled to at most 4 x 4.

FAMILIES = ("linear", "mlp")


@dataclass
class Usable:
    """Usable information of one layer under one critic family, with the probe's held-out error and Fano floor."""

    family: str
    value: float        # nats: H(y) under the training prior minus held-out cross-entropy of the probe
    error: float        # held-out error rate of the probe's argmax
    fano_floor: float   # nats: I(C; y) >= H(y) - h(e) - e log(K - 1) (Fano), H(y) from the held-out labels
    error_se: float = math.nan  # binomial standard error of `error` over the held-out rows
    fano_floor_low: float = math.nan  # nats: the floor at the error's one-sided 97.5% upper bound, e + 1.96 SE; the
                                      # error is the best of the early-stopping checks on these same rows (optimistic),
                                      # so only an estimate below this conservative floor is provably too low


def fano_floor(error: float, k: int, entropy_y: float | None = None) -> float:
    """Fano: a predictor of y from C with error e implies I(C; y) >= H(y) - h(e) - e log(K - 1) (0 when negative)."""
    e = min(max(error, 0.0), 1.0)
    h = 0.0 if e in (0.0, 1.0) else -(e * math.log(e) + (1 - e) * math.log(1 - e))
    hy = math.log(k) if entropy_y is None else entropy_y
    return max(0.0, hy - h - e * math.log(max(k - 1, 1)))


def usable_information(acts: list[torch.Tensor], y: torch.Tensor, family: str = "linear", seed: int = 0,
                       holdout: float = 0.3, pool: int = 4, steps: int = 300, weight_decay: float = 1e-3,
                       test: tuple[list[torch.Tensor], torch.Tensor] | None = None) -> list[Usable]:
    """Held-out cross-entropy gain over the label prior (nats) of a `family` probe, per layer.

    Trained full batch on a seeded split of (acts, y); measured on the held-out share, or on `test`
    (acts, y) when given. The best step on the held-out rows is kept (early stopping; slightly optimistic).
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown probe family {family!r}; choose one of {FAMILIES}")
    y = y.long().cpu()
    k = int(y.max()) + 1 if test is None else max(int(y.max()), int(test[1].max())) + 1
    gen = torch.Generator().manual_seed(derive_seed(seed, "usable-split"))
    perm = torch.randperm(len(y), generator=gen)
    n_te = max(1, int(round(holdout * len(y)))) if test is None else 0
    te, tr = perm[:n_te], perm[n_te:]
    y_te = y[te] if test is None else test[1].long().cpu()
    prior = torch.bincount(y[tr], minlength=k).double().add(0.5)  # add-half smoothing: no class has p = 0
    log_prior = (prior / prior.sum()).log().float()
    ce_prior = float(F.nll_loss(log_prior.expand(len(y_te), k), y_te))
    p_te = torch.bincount(y_te, minlength=k).double() / len(y_te)
    h_te = float(-(p_te[p_te > 0] * p_te[p_te > 0].log()).sum())
    out = []
    for i, a in enumerate(acts):
        x = _features(a.cpu(), pool)
        mu, sd = x[tr].mean(0), x[tr].std(0).clamp_min(1e-6)
        x_tr = (x[tr] - mu) / sd
        x_te = ((x[te] if test is None else _features(test[0][i].cpu(), pool)) - mu) / sd
        d = x.shape[1]
        with torch.random.fork_rng(devices=[]):  # the seeded init leaves torch's global generator as it was
            torch.manual_seed(derive_seed(seed, "usable-init", family, i))
            net = torch.nn.Linear(d, k) if family == "linear" else torch.nn.Sequential(
                torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64, k))
        opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=weight_decay)
        best = (math.inf, 1.0)
        for step in range(steps):
            loss = F.cross_entropy(net(x_tr), y[tr])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 9:
                with torch.no_grad():
                    logits = net(x_te)
                    ce = float(F.cross_entropy(logits, y_te))
                    if ce < best[0]:
                        best = (ce, float((logits.argmax(1) != y_te).float().mean()))
        se = math.sqrt(best[1] * (1 - best[1]) / len(y_te))
        upper = min(best[1] + 1.96 * se, (k - 1) / k)  # Fano's bound falls with e up to (K - 1) / K, where it is 0
        out.append(Usable(family, ce_prior - best[0], best[1], fano_floor(best[1], k, h_te), se,
                          fano_floor(upper, k, h_te)))
    return out
