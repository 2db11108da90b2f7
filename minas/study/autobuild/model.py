"""AutoBuild's model: a learned importance of each (layer, filter option) of the 4-layer chain, and building from it.

Source: Mills et al. 2024 (AutoBuild, CVPR): embed the operations (here: one learned vector
per (layer, option) node of the chain), pass messages between neighbours, pool to an
architecture embedding and align embedding norms with measured performance via a ranking
loss; the node embedding norms then read as interpretable importances, from which an
architecture is built directly. Our data: the Hyperband rows of the thesis collection
(Kossmann 2019): (task, instance, rung, arch, score). Ranks are compared only within one
Hyperband instance and rung (same data set, same epochs), never across data sets; the MSE
target is the score z-scored within that group for the same reason.

Node embeddings pass through softplus, so they are non-negative and the pooled norm grows
with every node's norm: a large node norm then means "pushes the score up".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from minas.core.seeding import rng_for
from minas.nas.space import (
    N_LAYERS,
    N_OPTIONS,
    OPTIONS,
    from_indices,
    parse_architecture,
)


def rank_pairs(target: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """(M, 2) index pairs (i, j) of one group with target_i > target_j; built once, group by group."""
    out = []
    for g in torch.unique(group):
        idx = torch.nonzero(group == g).flatten()
        t = target[idx]
        i, j = torch.nonzero(t[:, None] > t[None, :], as_tuple=True)
        out.append(torch.stack([idx[i], idx[j]], dim=1))
    return torch.cat(out) if out else torch.zeros((0, 2), dtype=torch.long)


def rank_loss(pred: torch.Tensor, target: torch.Tensor, group: torch.Tensor,
              pairs: torch.Tensor | None = None) -> torch.Tensor:
    """Pairwise logistic loss mean log(1 + exp(-(p_i - p_j))) over pairs of one group with target_i > target_j."""
    pairs = rank_pairs(target, group) if pairs is None else pairs
    if len(pairs) == 0:
        return pred.sum() * 0.0
    return F.softplus(pred[pairs[:, 1]] - pred[pairs[:, 0]]).mean()


@dataclass
class ChainData:
    """Hyperband rows as tensors: idx (N, 4) option indices, target (N,) z-scored within group."""

    idx: torch.Tensor
    target: torch.Tensor
    group: torch.Tensor  # (N,) one id per (task, sample, rung)
    context: torch.Tensor  # (N, C) the task's mean signal (C = 0 without one)
    rows: pd.DataFrame  # the source rows (task, sample, rung, arch, score, ...)


def chain_data(rows: pd.DataFrame, context: dict | None = None) -> ChainData:
    """ChainData from bracket rows; `context` maps task -> (C,) conditioning vector."""
    rows = rows.reset_index(drop=True)
    idx = torch.tensor(np.array([parse_architecture(a).indices for a in rows.arch]), dtype=torch.long)
    keys = rows[["task", "sample", "rung"]].astype(str).agg("|".join, axis=1)
    group = torch.tensor(pd.factorize(keys)[0], dtype=torch.long)
    g = rows.groupby(keys.values).score
    z = (rows.score - g.transform("mean")) / g.transform("std").fillna(0).clip(lower=1e-3)
    ctx = np.stack([context[t] for t in rows.task]) if context else np.zeros((len(rows), 0))
    return ChainData(idx, torch.tensor(z.to_numpy(), dtype=torch.float32), group,
                     torch.tensor(ctx, dtype=torch.float32), rows)


class ChainImportance(nn.Module):
    """Node embeddings (4 x 23), `hops` rounds of linear messages between chain neighbours, sum pooling."""

    def __init__(self, dim: int = 16, hops: int = 2, context_dim: int = 0):
        super().__init__()
        self.embed = nn.Parameter(0.1 * torch.randn(N_LAYERS, N_OPTIONS, dim))
        self.context = nn.Linear(context_dim, dim) if context_dim else None
        # per hop: one map for the node itself, one for the message from the layer before, one from after
        self.hops = nn.ModuleList(nn.Linear(3 * dim, dim) for _ in range(hops))
        self.scale = nn.Parameter(torch.zeros(1))
        self.shift = nn.Parameter(torch.zeros(1))

    def nodes(self, idx: torch.Tensor, ctx: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 4) option indices -> (B, 4, dim) non-negative node embeddings after message passing."""
        h = self.embed[torch.arange(N_LAYERS), idx]  # (B, 4, dim)
        if self.context is not None:
            h = h + self.context(ctx)[:, None, :]
        for i, hop in enumerate(self.hops):
            prev = F.pad(h, (0, 0, 1, 0))[:, :-1]  # (B, 4, dim): layer l receives layer l - 1 (zeros for l = 1)
            nxt = F.pad(h, (0, 0, 0, 1))[:, 1:]  # layer l receives layer l + 1
            m = hop(torch.cat([h, prev, nxt], dim=-1))
            h = h + (F.relu(m) if i < len(self.hops) - 1 else m)  # residual keeps each node's own identity
        return F.softplus(h)

    def forward(self, idx: torch.Tensor, ctx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(architecture embedding norm (B,), predicted z-score (B,))."""
        norm = self.nodes(idx, ctx).sum(dim=1).norm(dim=-1)  # (B,)
        return norm, F.softplus(self.scale) * norm + self.shift


def train_importance(data: ChainData, epochs: int = 200, lr: float = 1e-2, seed: int = 0,
                     rank_weight: float = 1.0, dim: int = 16) -> tuple[ChainImportance, list[float]]:
    """Full-batch Adam on MSE(z-score) + rank_weight * within-group rank loss on the norm; (model, loss curve).

    The initial weights come from `seed` inside `torch.random.fork_rng`, so torch's global RNG is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed % 2**31)
        model = ChainImportance(dim, 2, data.context.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ctx = data.context if data.context.shape[1] else None
    pairs, curve = rank_pairs(data.target, data.group), []
    for _ in range(epochs):
        norm, pred = model(data.idx, ctx)
        loss = F.mse_loss(pred, data.target) + rank_weight * rank_loss(norm, data.target, data.group, pairs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(loss.item())
    return model, curve


def node_importance(model: ChainImportance, ctx: np.ndarray | None = None, n_ref: int = 128, seed: int = 0) -> np.ndarray:
    """(4, 23) mean norm of node (l, o) over n_ref random architectures with layer l set to o."""
    ref = rng_for(seed, "importance-ref").integers(0, N_OPTIONS, size=(n_ref, N_LAYERS))
    idx = np.repeat(ref[None, None], N_LAYERS * N_OPTIONS, axis=0).reshape(N_LAYERS, N_OPTIONS, n_ref, N_LAYERS).copy()
    for layer in range(N_LAYERS):
        idx[layer, :, :, layer] = np.arange(N_OPTIONS)[:, None]
    flat = torch.tensor(idx.reshape(-1, N_LAYERS), dtype=torch.long)  # (4 * 23 * n_ref, 4)
    c = None if ctx is None or model.context is None else torch.tensor(np.asarray(ctx, np.float32)).expand(len(flat), -1)
    with torch.no_grad():
        z = model.nodes(flat, c).norm(dim=-1).view(N_LAYERS, N_OPTIONS, n_ref, N_LAYERS)
    return z[torch.arange(N_LAYERS), :, :, torch.arange(N_LAYERS)].mean(dim=-1).numpy()  # (4, 23)


def span_importance(model: ChainImportance, span: tuple[int, int], ctx: np.ndarray | None = None,
                    n_ref: int = 32, top: int = 5, seed: int = 0) -> pd.DataFrame:
    """Top option combos of the contiguous layers span[0]..span[1] (0-based) by the norm of their summed nodes."""
    layers = list(range(span[0], span[1] + 1))
    combos = np.stack(np.meshgrid(*[np.arange(N_OPTIONS)] * len(layers), indexing="ij"), -1).reshape(-1, len(layers))
    ref = rng_for(seed, "span-ref").integers(0, N_OPTIONS, size=(n_ref, N_LAYERS))
    idx = np.repeat(ref[None], len(combos), axis=0)  # (K, n_ref, 4)
    idx[:, :, layers] = combos[:, None, :]
    flat = torch.tensor(idx.reshape(-1, N_LAYERS), dtype=torch.long)
    c = None if ctx is None or model.context is None else torch.tensor(np.asarray(ctx, np.float32)).expand(len(flat), -1)
    with torch.no_grad():
        z = model.nodes(flat, c)[:, layers].sum(dim=1).norm(dim=-1).view(len(combos), n_ref).mean(dim=1).numpy()
    best = np.argsort(-z)[:top]
    return pd.DataFrame({"layers": "-".join(str(l + 1) for l in layers),
                         "filters": ["-".join(str(OPTIONS[o]) for o in combos[b]) for b in best], "importance": z[best]})


def distribution(importance: np.ndarray, temperature: float) -> np.ndarray:
    """Per-layer softmax of importances / temperature, (4, 23)."""
    x = np.asarray(importance, np.float64) / temperature
    x = np.exp(x - x.max(axis=1, keepdims=True))
    return x / x.sum(axis=1, keepdims=True)


def fit_temperature(importances: list[np.ndarray], targets: list[np.ndarray]) -> float:
    """Temperature (log grid) minimizing the MSE of distribution(imp_i) to targets_i (each (n, 4, 23))."""
    grid = np.geomspace(1e-3, 1e2, 61) * max(np.std(np.concatenate([i.ravel() for i in importances])), 1e-6)
    mse = [np.mean([((distribution(i, t)[None] - y) ** 2).mean() for i, y in zip(importances, targets)]) for t in grid]
    return float(grid[int(np.argmin(mse))])


def build(importance: np.ndarray) -> str:
    """The architecture of the most important option per layer (its id)."""
    return from_indices(np.argmax(importance, axis=1)).id
