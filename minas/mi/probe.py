"""Linear-probe accuracy per layer: a cheap per-layer signal beside the MI estimates.

Alain & Bengio 2016 (linear classifier probes). Each layer's activations are average-pooled
to at most 4 x 4 per channel and standardized; a softmax-linear classifier is fit on the
training rows and its accuracy is measured on held-out rows. The value is a fraction, not
nats; it is stored beside the MI estimates under the method name "probe".
"""
from __future__ import annotations

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
    out = []
    for i, a in enumerate(acts):
        x = _features(a.cpu(), pool)
        mu, sd = x[tr].mean(0), x[tr].std(0).clamp_min(1e-6)
        x = (x - mu) / sd
        torch.manual_seed(derive_seed(seed, "probe-init", i))
        lin = torch.nn.Linear(x.shape[1], k)
        opt = torch.optim.Adam(lin.parameters(), lr=0.05, weight_decay=weight_decay)
        for _ in range(steps):  # full batch: a few hundred rows, convex problem
            loss = F.cross_entropy(lin(x[tr]), y[tr])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            out.append(float((lin(x[te]).argmax(1) == y[te]).float().mean()))
    return out
