"""I(x; y) between two continuous variables, in nats: the third path of `minas.mi.estimate`.

Sources: the batch bounds of Poole et al. 2019 (InfoNCE, NWJ, DV) and SMILE (Song & Ermon 2020), with a critic
scoring all B x B batch pairs: separable, f(x)^T g(y) (`critic="separable"`, the default: one matmul per batch, the
configuration benchmarks/mi_bmi.py measured on benchmark-mi, Czyz et al. 2023) or an MLP on [x, y]
(`critic="pair"`). Like the label paths, the value is measured on held-out rows, which also decide when to stop.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from minas.core.seeding import derive_seed
from minas.mi import _rows
from minas.mi import critics as mc
from minas.mi.estimate import CONTINUOUS_METHODS, MIResult, _failed, _finish, _guard, _resolve


def estimate_mi_continuous(x: torch.Tensor, y: torch.Tensor, method: str = "infonce", seed: int = 0,
                           **options) -> MIResult:
    """I(x; y) for continuous x (N, Dx), y (N, Dy): all B x B batch pairs scored (infonce: capped at log B).

    Each coordinate is first mapped by `marginals` (default rank: empirical CDF of the training rows, then the normal
    quantile), a monotone map that leaves MI unchanged and keeps heavy tails from swamping the critic.
    Defaults (infonce, separable critic, rank marginals): the configuration measured on benchmark-mi's 40 tasks at 5,000
    samples (benchmarks/mi_bmi.py, docs/measurements/cpu-2026-11-30/): mean |error| 0.102 nats, worst 0.388, 0.9 s per
    estimate on 2 CPU cores; the defaults before (mine_fast, pair critic) took 61 s on 10 of them (issue 25).
    """
    if method not in CONTINUOUS_METHODS:
        raise ValueError(f"continuous MI supports {CONTINUOUS_METHODS}, not {method!r}")
    est, opts = _resolve(method, options)
    if x.dim() != 2 or y.dim() != 2 or len(x) != len(y):
        raise ValueError(f"x and y must be (N, Dx) and (N, Dy), got {tuple(x.shape)} and {tuple(y.shape)}")
    t0 = time.perf_counter()
    n = len(x) if opts.max_rows is None else min(len(x), opts.max_rows)
    if n < _rows.MIN_ROWS:
        return _failed(est, f"too few rows ({n} < {_rows.MIN_ROWS}) for a training / held-out split", opts, t0)
    if not (bool(torch.isfinite(x).all()) and bool(torch.isfinite(y).all())):
        return _failed(est, "input contains NaN or inf values", opts, t0)
    dev = _rows.device(x, opts)
    tr, te = _rows.split(len(x), opts, seed)
    xs, ys = (_rows.continuous_input(v.float(), tr, opts.marginals).to(dev) for v in (x, y))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", est.name, "init"))
        critic = (mc.SeparableCritic(x.shape[1], y.shape[1], opts.hidden) if opts.critic == "separable"
                  else mc.PairCritic(x.shape[1], y.shape[1], opts.hidden)).to(dev)
    state: dict = {}

    def step(idx):
        idx = tr[idx].to(dev)
        s = critic(xs[idx], ys[idx])  # (B, B)
        loss, b = est.pair_objective(s, opts, state)
        return loss[None], _guard(s, b, opts)[None]

    @torch.no_grad()
    def evaluate():  # held-out rows in blocks of the training batch size (same InfoNCE cap)
        bs = min(opts.batch_size, len(te))
        vals = [float(_guard(s, est.pair_objective(s, opts, {})[1], opts)) for s in
                (critic(xs[te[i:i + bs].to(dev)], ys[te[i:i + bs].to(dev)]) for i in range(0, len(te) - bs + 1, bs))]
        return [float(np.mean(vals))]

    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", est.name, "batches"))
    fitted = mc.fit(list(critic.parameters()), step, 1, len(tr), opts, gen, evaluate if opts.heldout_curve else None,
                    [critic] if opts.heldout_curve else None)
    return _finish(est, evaluate()[0], fitted[0], opts, t0, len(tr) + len(te))
