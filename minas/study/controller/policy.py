"""The controller's policy: an input sample to a Hyperband prior, how inputs are drawn from it, its loss.

Sources: Williams 1992 (REINFORCE); Kossmann 2019 (thesis) section 2.3, eq. 2.6-2.10. A policy
maps an input sample (92 one-hot + 4 z-scored MI = 96) to a prior: one categorical distribution
over the 23 filter options per layer. The last layer starts at zero, so the first prior is
exactly uniform (thesis Fig. 3.10).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from minas.core.seeding import derive_seed
from minas.nas.space import (
    N_LAYERS,
    N_OPTIONS,
    ONE_HOT_SIZE,
    Architecture,
    from_indices,
    sample_architectures,
)

EXPERIMENTS = {"exp1": 0.5, "exp2": 1.0}  # share of the N Hyperband inputs drawn from the prior
HIDDEN = 64  # policy hidden units (the thesis does not give its controller's size)
COLLAPSE_PROB = 0.9  # a prior has collapsed when every layer puts more than this on one option


class Policy(nn.Module):
    """MLP 96 -> 64 -> 64 -> 92, softmax per layer: an input sample to a (N_LAYERS, N_OPTIONS) prior."""

    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(ONE_HOT_SIZE + N_LAYERS, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, ONE_HOT_SIZE))
        nn.init.zeros_(self.net[-1].weight)  # start at the uniform prior
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 96) -> log-probs (B, 4, 23)
        return torch.log_softmax(self.net(x).view(-1, N_LAYERS, N_OPTIONS), dim=-1)

    def priors(self, x: np.ndarray) -> np.ndarray:
        """(B, 96) input samples -> (B, 4, 23) priors as float64 rows summing to 1."""
        with torch.no_grad():
            p = self(torch.as_tensor(np.asarray(x), dtype=torch.float32)).exp().double().numpy()
        return p / p.sum(axis=-1, keepdims=True)


def new_policy(seed: int, run: int = 0) -> Policy:
    """A policy initialized from (seed, controller run); the same for both experiments; torch's global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "controller", "init", run))
        return Policy()


def input_vector(arch: Architecture, z_mi: np.ndarray) -> np.ndarray:
    """Thesis Def. 2.3: one-hot architecture (92) + standardized MI (4) -> (96,) float32."""
    z = np.nan_to_num(np.asarray(z_mi, dtype=np.float32).reshape(N_LAYERS), nan=0.0)
    return np.concatenate([arch.one_hot(), z]).astype(np.float32)


@dataclass
class Draw:
    """The N Hyperband inputs of one run and, per input, whether it was drawn from the prior (else uniform)."""

    archs: list[Architecture]
    from_prior: list[bool]

    @property
    def prior_drawn(self) -> list[Architecture]:
        """The inputs drawn from the prior (the ones the REINFORCE loss scores)."""
        return [a for a, f in zip(self.archs, self.from_prior) if f]


def draw_inputs(prior: np.ndarray, n: int, share: float, rng: np.random.Generator) -> Draw:
    """n Hyperband inputs: round(share * n) from the prior, the rest uniform."""
    k = int(round(share * n))
    archs = sample_architectures(k, rng, prior) + sample_architectures(n - k, rng)
    return Draw(archs, [True] * k + [False] * (n - k))


def paired_draw(prior: np.ndarray | None, n: int, share: float, rng: np.random.Generator) -> Draw:
    """n Hyperband inputs on common random numbers: round(share * n) from `prior`, the rest uniform.

    Each input's options are the inverse CDF of one shared uniform per (layer, input), drawn in the
    order `sample_architectures` uses, so the same rng gives the same uniform draw under every prior
    (prior None or share 0 reproduces `sample_architectures(n, rng)`), and Exp 1 scored as trained
    shares its uniform half with the uniform prior's run (common random numbers across priors).
    """
    k = 0 if prior is None else round(share * n)
    u = np.stack([rng.random(n) for _ in range(N_LAYERS)])  # (4, n), as rng.choice(p=...) consumes it per layer
    p = np.full((N_LAYERS, N_OPTIONS), 1.0 / N_OPTIONS) if prior is None else np.asarray(prior, dtype=np.float64)
    flat = np.full((N_LAYERS, N_OPTIONS), 1.0 / N_OPTIONS)
    idx = np.empty((n, N_LAYERS), dtype=int)
    for layer in range(N_LAYERS):
        for j, q in ((slice(0, k), p[layer]), (slice(k, n), flat[layer])):
            cdf = (q / q.sum()).cumsum()
            cdf /= cdf[-1]  # as numpy's Generator.choice(p=...) does
            idx[j, layer] = cdf.searchsorted(u[layer, j], side="right")
    return Draw([from_indices(row) for row in idx], [True] * k + [False] * (n - k))


def reinforce_loss(log_probs: torch.Tensor, samples: list[list[Architecture]], reward: float) -> tuple[torch.Tensor, float]:
    """(R * CE, CE): CE = mean over tasks and samples of -sum_l log p_l(a_l); log_probs (M, 4, 23)."""
    terms = []
    for lp, archs in zip(log_probs, samples):
        if archs:
            idx = torch.tensor([a.indices for a in archs])  # (K, 4)
            terms.append(-lp[torch.arange(N_LAYERS), idx].sum(dim=1))  # (K,)
    ce = torch.cat(terms).mean() if terms else log_probs.sum() * 0.0
    return reward * ce, float(ce.detach())


def entropy(prior: np.ndarray) -> np.ndarray:
    """Per-layer entropy (nats) of a (..., 4, 23) prior; log 23 = 3.14 for uniform."""
    p = np.asarray(prior, dtype=np.float64)
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=-1)


def collapsed(prior: np.ndarray, threshold: float = COLLAPSE_PROB) -> Architecture | None:
    """The architecture a (4, 23) prior has collapsed to (max prob > threshold in every layer), else None."""
    p = np.asarray(prior)
    if (p.max(axis=-1) > threshold).all():
        return from_indices(p.argmax(axis=-1))
    return None


def make_optimizer(policy: Policy, cc) -> torch.optim.Optimizer:
    """controller.optimizer: plain SGD (thesis Algorithm 1: theta -= lr * R * grad CE) or Adam, at controller.lr."""
    if cc.optimizer == "sgd":
        return torch.optim.SGD(policy.parameters(), lr=cc.lr)
    return torch.optim.Adam(policy.parameters(), lr=cc.lr)
