"""Estimators of I(C; y) between layer activations C and discrete labels y, in nats.

Sources: MINE (Belghazi et al. 2018) as the thesis used it (Kossmann 2019, 2.1.1 and A.2);
NWJ, InfoNCE, SMILE and the Barber-Agakov bound as surveyed by Poole et al. 2019 and Song &
Ermon 2020. The estimators (one class per bound) live in `minas.mi.estimators`, the bounds in
`minas.mi.bounds`, critics and their training loop in `minas.mi.critics`, the options (`MIOptions`,
defaults in one place) in `minas.core.config`; known-MI problems in `minas.mi.known`.

Two paths:
- `mine` (thesis-faithful): one conv critic T(c, y) per layer, trained one layer after the
  other (warm-started from the previous layer's critic), marginal by shuffling labels, DV bound
  with the moving-average gradient correction, at least `min_epochs` then the thesis stop rule.
- label head (`mine_fast`, `nwj`, `infonce`, `smile`, `ba`): T(c) -> R^K; one forward pass gives
  the joint term and every marginal term, the expectation over the discrete y is exact under
  p(y) from label counts, and the critics of all layers train together in one loop.
- continuous (`estimate_mi_continuous`, module `minas.mi.continuous`): a critic scoring all B x B batch pairs.
Every value is measured on held-out rows the critic never trained on. The label-head and
continuous paths also use them to stop (patience) and keep the best epoch: the held-out
maximum over epochs, slightly optimistic (~0.02 nats at 600 rows) but free of overfitting.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import torch

from minas.core.config import MIOptions
from minas.core.seeding import derive_seed
from minas.mi import _rows, bounds
from minas.mi import critics as mc
from minas.mi.estimators import ESTIMATORS, Estimator, get

CONTINUOUS_METHODS = tuple(name for name, e in ESTIMATORS.items() if e.continuous)
DEFAULTS = MappingProxyType(dataclasses.asdict(MIOptions()))  # read-only view of MIOptions' defaults


@dataclass
class MIResult:
    """One estimate of I(C; y) in nats on held-out rows; value is NaN when ok is False."""

    value: float
    ok: bool
    reason: str
    method: str
    curve: list = field(default_factory=list)          # training-rows bound per epoch
    seconds: float = 0.0
    options: MIOptions = field(default_factory=MIOptions)  # the options the estimate ran with
    lower_bound: bool = True
    heldout_curve: list = field(default_factory=list)  # held-out bound per epoch (when tracked)
    epochs: int = 0
    rows: int = 0                                      # rows used: training + held-out


_SHARED = tuple(f.name for f in dataclasses.fields(MIOptions))
HEAD_SLACK = 0.05  # nats above the held-out H(y) a label-head epoch may reach and still be kept as the best (noise)


def options_from_config(mi_cfg) -> dict:
    """Estimator options from an `MIConfig` (minas.config): its fields that are also `MIOptions` fields."""
    return {k: getattr(mi_cfg, k) for k in _SHARED if hasattr(mi_cfg, k)}


def _resolve(method: str, options: dict) -> tuple[Estimator, MIOptions]:
    est = get(method)
    unknown = sorted(set(options) - set(_SHARED))
    if unknown:
        raise ValueError(f"unknown MI option {unknown[0]!r}; allowed: {sorted(_SHARED)}")
    opts = MIOptions(**options)
    if opts.critic not in mc.PAIR_CRITICS:
        raise ValueError(f"unknown continuous critic {opts.critic!r}; choose one of {mc.PAIR_CRITICS}")
    if opts.marginals not in _rows.MARGINALS:
        raise ValueError(f"unknown continuous marginals {opts.marginals!r}; choose one of {_rows.MARGINALS}")
    if opts.stem not in mc.HEAD_STEMS:
        raise ValueError(f"unknown head stem {opts.stem!r}; choose one of {mc.HEAD_STEMS}")
    if opts.heldout_curve is None:
        opts = dataclasses.replace(opts, heldout_curve=est.path == "head")
    return est, opts


def _failed(est: Estimator, reason: str, opts: MIOptions, t0: float) -> MIResult:
    return MIResult(math.nan, False, reason, est.name, [], time.perf_counter() - t0, opts, est.lower_bound)


def _finish(est: Estimator, value: float, fitted: mc.CriticFit, opts: MIOptions, t0: float, rows: int,
            seconds_share: float = 1.0) -> MIResult:
    secs = (time.perf_counter() - t0) * seconds_share
    ok = not fitted.reason and math.isfinite(value) and abs(value) <= opts.max_score
    reason = "" if ok else (fitted.reason or f"held-out bound is not finite ({value})")
    ceiling = math.log(max(rows, 2))
    if ok and value > ceiling:  # no estimate from N samples can support more than about log N nats
        ok, reason = False, (f"held-out estimate {value:.3g} nats exceeds log N = {ceiling:.2f} for N = {rows} rows, more than "
                             "the samples can support (McAllester & Stratos 2020): the critic diverged; try a smaller lr, "
                             "a lower-variance estimator (infonce, ba) or more rows")
    return MIResult(float(value) if ok else math.nan, ok, reason, est.name, fitted.curve, secs, opts,
                    est.lower_bound, fitted.heldout, fitted.epochs, rows)


def _guard(scores: torch.Tensor, bound: torch.Tensor, opts: MIOptions) -> torch.Tensor:
    """NaN the bound when the critic's outputs explode (exp(T) would overflow downstream)."""
    return torch.where(scores.detach().abs().max() > opts.max_score, torch.full_like(bound, math.nan), bound)


# ---------------------------------------------------------------- label-head path (all layers at once)

def _run_head(acts, y, est: Estimator, seed: int, opts: MIOptions) -> list[MIResult]:
    t0 = time.perf_counter()
    dev = _rows.device(acts[0], opts)
    k = opts.n_classes or int(y.max()) + 1
    tr, te = _rows.split(len(y), opts, seed, y)
    xs = [_rows.standardize_input(a.float(), tr) for a in acts]
    if opts.stem == "pca":  # leading principal components of the training rows, then the MLP (critics.HEAD_STEMS)
        xs = [_rows.project(x, tr, opts.pca_dim, opts.whiten) for x in xs]
    xs = [x.to(dev) for x in xs]
    y_tr, y_te = y[tr].to(dev), y[te].to(dev)
    (lp_tr, h_tr), (lp_te, h_te) = _rows.label_stats(y[tr], k), _rows.label_stats(y[te], k)
    lp_tr, lp_te = lp_tr.to(dev), lp_te.to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", est.name, "init"))
        critics = [mc.HeadCritic(tuple(x.shape[1:]), k, opts.hidden, opts.pool, opts.stem, opts.stem_width).to(dev)
                   for x in xs]
    if est.prior_start:
        for c in critics:
            c.start_at(lp_tr)
    states = [{} for _ in critics]  # per-critic loss state (DV's moving average)
    x_tr, x_te = [x[tr.to(dev)] for x in xs], [x[te.to(dev)] for x in xs]

    zero = torch.zeros((), device=dev)

    def step(idx, live):
        idx = idx.to(dev)
        losses, bounds_ = [], []
        for c, x, state, on in zip(critics, x_tr, states, live):
            if not on:  # stopped: fit ignores its entries (critics.fit, skip_done)
                losses.append(zero)
                bounds_.append(zero)
                continue
            scores = c(x[idx])  # (B, K)
            loss, b = est.head_objective(scores, y_tr[idx], lp_tr, h_tr, opts, state)
            losses.append(loss)
            bounds_.append(_guard(scores, b, opts))
        return torch.stack(losses), torch.stack(bounds_)

    @torch.no_grad()
    def evaluate(live=None):  # held-out bound per layer (N_te, K scores); NaN for a stopped critic fit no longer reads
        out = []
        for on, c, x in zip(live or [True] * len(critics), critics, x_te):
            s = c(x) if on else None
            out.append(float(_guard(s, est.head_objective(s, y_te, lp_te, h_te, opts, {})[1], opts)) if on else math.nan)
        return out

    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", est.name, "batches"))
    params = [p for c in critics for p in c.parameters()]
    fit_opts = dataclasses.replace(opts, min_epochs=min(opts.head_min_epochs, opts.max_epochs)) if opts.heldout_curve else opts
    fitted = mc.fit(params, step, len(critics), len(tr), fit_opts, gen, evaluate if opts.heldout_curve else None,
                    critics if opts.heldout_curve else None, ceiling=h_te + HEAD_SLACK, skip_done=True)
    final = evaluate()
    return [_finish(est, final[i], fitted[i], opts, t0, len(tr) + len(te), 1.0 / len(acts)) for i in range(len(acts))]


# ---------------------------------------------------------------- thesis path (one layer after the other)

def thesis_critic(in_channels: int, n_classes: int, layer: int, n_layers: int = 4) -> mc.ThesisCritic:
    """The thesis critic of layer `layer` (1..L) of an L-layer network: L - layer convs of 32 3x3."""
    return mc.ThesisCritic(in_channels, n_classes, n_layers - layer)


def _run_thesis(x, y, tr, te, n_conv, seed, layer, est: Estimator, opts: MIOptions, init=None):
    """Thesis MINE on one layer; returns (MIResult, trained critic) so the next layer can warm-start."""
    t0 = time.perf_counter()
    dev = _rows.device(x, opts)
    k = opts.n_classes or int(y.max()) + 1
    c = _rows.standardize_input(x.float(), tr)
    if c.dim() == 2:
        c, n_conv = c[:, :, None, None], 0  # flat activations: the MLP variant
    c_tr, c_te = c[tr].to(dev), c[te].to(dev)
    y_tr, y_te = y[tr].to(dev), y[te].to(dev)
    lp_te = _rows.label_stats(y[te], k)[0].to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", "mine", "init", layer))
        critic = mc.ThesisCritic(c.shape[1], k, n_conv).to(dev)  # n_conv = L - layer (thesis A.2)
    if init is not None and opts.warm_start:
        mc.warm_start(critic, init)
    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", "mine", "batches", layer))
    state: dict = {}

    def step(idx):
        cb, yb = c_tr[idx.to(dev)], y_tr[idx.to(dev)]
        shuffled = yb[torch.randperm(len(yb), generator=gen).to(dev)]  # marginal: labels shuffled
        t_joint, t_marg = critic(cb, yb), critic(cb, shuffled)
        logw = torch.full_like(t_marg, -math.log(len(yb)))
        loss, bound = est.objective(t_joint, t_marg, logw, opts, state)  # DV, moving-average gradient
        return loss[None], _guard(torch.cat([t_joint, t_marg]), bound, opts)[None]

    @torch.no_grad()
    def evaluate():
        # held-out: score every row against every class; E_Q is then exact under p(y) of these rows
        scores = torch.stack([critic(c_te, torch.full_like(y_te, j)) for j in range(k)], dim=1)  # (N, K)
        bound = est.bound(*bounds.label_scores(scores, y_te, lp_te), opts)
        return [float(_guard(scores, bound, opts))]

    fitted = mc.fit(list(critic.parameters()), step, 1, len(tr), opts, gen, evaluate if opts.heldout_curve else None)
    return _finish(est, evaluate()[0], fitted[0], opts, t0, len(tr) + len(te)), critic


# ---------------------------------------------------------------- public API

def estimate_layers(acts: list[torch.Tensor], y: torch.Tensor, method: str = "mine", seed: int = 0,
                    **options) -> list[MIResult]:
    """I(C_i; y) for every layer of one network; acts[i] is (N, C_i, H_i, W_i) (or (N, D_i)).

    Every row is used unless `max_rows` caps them. Bad data (NaN or inf in a layer, a single
    class, fewer rows than classes) gives ok=False with the reason; a wrong y (dtype, shape,
    range) is a ValueError.
    """
    est, opts = _resolve(method, options)
    y = _rows.labels(y, acts, opts)
    t0 = time.perf_counter()
    unusable = _rows.unusable(y, opts)
    if unusable:
        return [_failed(est, unusable, opts, t0) for _ in acts]
    bad = {i for i, a in enumerate(acts) if not bool(torch.isfinite(a).all())}
    results: dict[int, MIResult] = {i: _failed(est, _rows.NONFINITE, opts, t0) for i in bad}
    good = [i for i in range(len(acts)) if i not in bad]
    if est.path == "head" and good:
        for i, res in zip(good, _run_head([acts[i] for i in good], y, est, seed, opts)):
            results[i] = res
    elif good:
        tr, te = _rows.split(len(y), opts, seed, y)
        prev = None
        for i in good:
            res, prev = _run_thesis(acts[i], y, tr, te, len(acts) - (i + 1), seed, i + 1, est, opts, prev)
            results[i] = res
    return [results[i] for i in range(len(acts))]


def estimate_mi(x: torch.Tensor, y: torch.Tensor, method: str = "mine", seed: int = 0, **options) -> MIResult:
    """I(x; y) in nats for activations x (N, D) or (N, C, H, W) and integer labels y (N,); see `estimate_layers`."""
    est, opts = _resolve(method, options)
    y = _rows.labels(y, [x], opts)
    unusable = _rows.unusable(y, opts) or ("" if bool(torch.isfinite(x).all()) else _rows.NONFINITE)
    if unusable:
        return _failed(est, unusable, opts, time.perf_counter())
    if est.path == "head":
        return _run_head([x], y, est, seed, opts)[0]
    tr, te = _rows.split(len(y), opts, seed, y)
    return _run_thesis(x, y, tr, te, opts.n_layers - opts.layer, seed, opts.layer, est, opts)[0]


def standardize(values: np.ndarray, reference: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Thesis A.4: z-score each layer's MI (M, L) against reference MIs (R, L) of the same data set."""
    ref = np.asarray(reference, dtype=float).reshape(-1, np.shape(values)[-1])
    mean, std = np.nanmean(ref, axis=0), np.nanstd(ref, axis=0)
    return (np.asarray(values, dtype=float) - mean) / np.maximum(std, floor)
