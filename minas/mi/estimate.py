"""Estimators of I(C; y) between layer activations C and discrete labels y, in nats.

Sources: MINE (Belghazi et al. 2018) as the thesis used it (Kossmann 2019, 2.1.1 and A.2);
NWJ, InfoNCE, SMILE and the Barber-Agakov bound as surveyed by Poole et al. 2019 and Song &
Ermon 2020. Critics, bounds and the training loop live in `minas.mi_critics`; the known-MI
problems and the validation suite of notebook 02 in `minas.mi_tasks`.

Two paths:
- `mine` (thesis-faithful): one conv critic T(c, y) per layer, trained one layer after the
  other (warm-started from the previous layer's critic), marginal by shuffling labels, DV bound
  with the moving-average gradient correction, at least `min_epochs` then the thesis stop rule.
- label head (`mine_fast`, `nwj`, `infonce`, `smile`, `ba`): T(c) -> R^K; one forward pass gives
  the joint term and every marginal term, the expectation over the discrete y is exact under
  p(y) from label counts, and the critics of all layers train together in one loop.
- continuous (`estimate_mi_continuous`): an MLP critic on [x, y] scoring all B x B batch pairs.
Every value is measured on held-out rows the critic never trained on. The label-head and
continuous paths also use them to stop (patience) and keep the best epoch: the held-out
maximum over epochs, slightly optimistic (~0.02 nats at 600 rows) but free of overfitting.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from minas.core.seeding import derive_seed
from minas.mi import critics as mc


@dataclass(frozen=True)
class Method:
    """One estimator: its path ("thesis" or "head"), whether it is a lower bound on I, and what it is."""

    name: str
    path: str
    lower_bound: bool
    about: str


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("mine", "thesis", True, "thesis MINE: conv critic T(c, y), shuffled labels, DV + moving-average correction"),
    Method("mine_fast", "head", True, "DV with a label-head critic, exact marginal over p(y), all layers at once"),
    Method("nwj", "head", True, "NWJ bound E_P[T] - E_Q[e^(T-1)], label head"),
    Method("infonce", "head", True, "InfoNCE with the exact K-class partition (cap H(y) <= log K), label head"),
    Method("smile", "head", False, "SMILE: DV with partition scores clipped to [-5, 5] (biased, low variance)"),
    Method("ba", "head", True, "Barber-Agakov: H(y) - held-out cross entropy of a classifier q(y|c)"),
)}

DEFAULTS: dict = {
    "batch_size": 256,    # rows per critic step
    "lr": 1e-3,           # Adam learning rate
    "min_epochs": 18,     # thesis: at least this many epochs
    "max_epochs": 60,     # hard cap
    "threshold": 0.01,    # nats: stop when the 1- and 2-epoch gains are both below this
    "max_rows": 2000,     # rows used (seeded subsample), split train / held-out
    "holdout": 0.3,       # share of rows held out for the reported value
    "ema_rate": 0.1,      # moving-average rate of E_Q[e^T] (MINE gradient correction)
    "clip": 5.0,          # SMILE clip
    "hidden": 128,        # hidden units of label-head / pair critics (thesis critic: 64)
    "pool": 4,            # label head: maps average-pooled to at most pool x pool
    "n_layers": 4,        # L of the network (thesis critic of layer i has L - i convs)
    "layer": 1,           # estimate_mi on a 4-D x: which layer it is (1..L)
    "warm_start": True,   # mine: initialise layer i+1's critic from layer i's
    "n_classes": None,    # inferred from y when None
    "max_score": 1e4,     # |T| above this counts as an exploding critic (exp would overflow)
    "heldout_curve": None,  # held-out bound per epoch (None: head path yes, thesis path no)
    "patience": 3,        # head path: epochs without held-out gain before a critic stops (best kept)
    "device": None,       # None: x's device if CUDA, else CUDA when available, else CPU
}


@dataclass
class MIResult:
    """One estimate of I(C; y) in nats on held-out rows; value is NaN when ok is False."""

    value: float
    ok: bool
    reason: str
    method: str
    curve: list = field(default_factory=list)          # training-rows bound per epoch
    seconds: float = 0.0
    options: dict = field(default_factory=dict)
    lower_bound: bool = True
    heldout_curve: list = field(default_factory=list)  # held-out bound per epoch (when tracked)
    epochs: int = 0


def options_from_config(mi_cfg) -> dict:
    """Estimator options from an `MIConfig` (minas.config)."""
    keys = ("batch_size", "lr", "min_epochs", "max_epochs", "threshold", "max_rows")
    return {k: getattr(mi_cfg, k) for k in keys}


def _resolve(method: str, options: dict) -> dict:
    if method not in METHODS:
        raise ValueError(f"unknown MI method {method!r}; choose one of {sorted(METHODS)}")
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown MI option {unknown[0]!r}; allowed: {sorted(DEFAULTS)}")
    opts = {**DEFAULTS, **options}
    if opts["max_epochs"] < opts["min_epochs"]:
        raise ValueError(f"max_epochs ({opts['max_epochs']}) must be >= min_epochs ({opts['min_epochs']})")
    if opts["heldout_curve"] is None:
        opts["heldout_curve"] = METHODS[method].path == "head"
    return opts


def _device(x: torch.Tensor, opts: dict) -> torch.device:
    if opts["device"] is not None:
        return torch.device(opts["device"])
    return x.device if x.is_cuda else torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _split(n: int, opts: dict, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded subsample to max_rows, then train / held-out row indices."""
    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", "split"))
    perm = torch.randperm(n, generator=gen)[: opts["max_rows"]]
    n_test = max(2, int(round(len(perm) * opts["holdout"])))
    return perm[n_test:], perm[:n_test]


def _standardize_input(x: torch.Tensor, tr: torch.Tensor) -> torch.Tensor:
    """Per-channel (or per-feature) z-score from training rows: invertible, so MI is unchanged."""
    dims = (0, 2, 3) if x.dim() == 4 else (0,)
    mean = x[tr].mean(dim=dims, keepdim=True)
    std = x[tr].std(dim=dims, keepdim=True).clamp_min(1e-6)
    return (x - mean) / std


def _label_stats(y: torch.Tensor, k: int) -> tuple[torch.Tensor, float]:
    """log p(y) per class (K,) from label counts, and the entropy H(y) in nats."""
    p = torch.bincount(y, minlength=k).double() / len(y)
    return p.log().float(), float(-(p[p > 0] * p[p > 0].log()).sum())


def _failed(method: str, reason: str, opts: dict, t0: float, curve=None, held=None, epochs=0) -> MIResult:
    return MIResult(math.nan, False, reason, method, list(curve or []), time.perf_counter() - t0, opts,
                    METHODS[method].lower_bound, list(held or []), epochs)


def _finish(method, value, fitted, k, opts, t0, seconds_share=1.0) -> MIResult:
    curve, held, ep, reason = (fitted["curves"][k], fitted["heldout"][k], fitted["epochs"][k], fitted["reasons"][k])
    secs = (time.perf_counter() - t0) * seconds_share
    if not reason and math.isfinite(value) and abs(value) <= opts["max_score"]:
        return MIResult(float(value), True, "", method, curve, secs, opts, METHODS[method].lower_bound, held, ep)
    reason = reason or f"held-out bound is not finite ({value})"
    return MIResult(math.nan, False, reason, method, curve, secs, opts, METHODS[method].lower_bound, held, ep)


# ---------------------------------------------------------------- label-head path (all layers at once)

def _bound(method, joint, marg, logw, opts, ema):
    """(loss, bound) of the DV-family bounds on scores (mine_fast: DV, MINE's moving-average gradient)."""
    if method == "nwj":
        bound = mc.nwj_bound(joint, marg, logw)
    elif method == "smile":
        bound = mc.smile_bound(joint, marg, logw, opts["clip"])
    else:
        bound = mc.dv_bound(joint, marg, logw)
        return mc.dv_ema_loss(joint, marg, logw, ema, opts["ema_rate"]), bound
    return -bound, bound


def _head_bound(method, scores, y, log_p, h_y, opts, ema):
    """(loss, bound) of one label-head critic on one batch."""
    if method in ("ba", "infonce"):
        bound = mc.ba_bound(scores, y, h_y) if method == "ba" else mc.label_infonce_bound(scores, y, log_p)
        return -bound, bound
    return _bound(method, *mc.label_scores(scores, y, log_p), opts, ema)


def _guard(scores: torch.Tensor, bound: torch.Tensor, opts: dict) -> torch.Tensor:
    """NaN the bound when the critic's outputs explode (exp(T) would overflow downstream)."""
    return torch.where(scores.detach().abs().max() > opts["max_score"], torch.full_like(bound, math.nan), bound)


def _run_head(acts, y, method, seed, opts) -> list[MIResult]:
    t0 = time.perf_counter()
    dev = _device(acts[0], opts)
    k = opts["n_classes"] or int(y.max()) + 1
    tr, te = _split(len(y), opts, seed)
    xs = [_standardize_input(a.float(), tr).to(dev) for a in acts]
    y_tr, y_te = y[tr].to(dev), y[te].to(dev)
    (lp_tr, h_tr), (lp_te, h_te) = _label_stats(y[tr], k), _label_stats(y[te], k)
    lp_tr, lp_te = lp_tr.to(dev), lp_te.to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", method, "init"))
        critics = [mc.HeadCritic(tuple(a.shape[1:]), k, opts["hidden"], opts["pool"]).to(dev) for a in acts]
    emas = [{} for _ in critics]
    x_tr, x_te = [x[tr.to(dev)] for x in xs], [x[te.to(dev)] for x in xs]

    def step(idx):
        idx = idx.to(dev)
        losses, bounds = [], []
        for c, x, e in zip(critics, x_tr, emas):
            scores = c(x[idx])  # (B, K)
            loss, b = _head_bound(method, scores, y_tr[idx], lp_tr, h_tr, opts, e)
            losses.append(loss)
            bounds.append(_guard(scores, b, opts))
        return torch.stack(losses), torch.stack(bounds)

    @torch.no_grad()
    def evaluate():
        scores = [c(x) for c, x in zip(critics, x_te)]  # (N_te, K) per layer
        return [float(_guard(s, _head_bound(method, s, y_te, lp_te, h_te, opts, {})[1], opts)) for s in scores]

    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", method, "batches"))
    params = [p for c in critics for p in c.parameters()]
    fitted = mc.fit(params, step, len(critics), len(tr), opts, gen, evaluate if opts["heldout_curve"] else None,
                    critics if opts["heldout_curve"] else None)
    final = evaluate()
    return [_finish(method, final[i], fitted, i, opts, t0, 1.0 / len(acts)) for i in range(len(acts))]


# ---------------------------------------------------------------- thesis path (one layer after the other)

def thesis_critic(in_channels: int, n_classes: int, layer: int, n_layers: int = 4) -> mc.ThesisCritic:
    """The thesis critic of layer `layer` (1..L) of an L-layer network: L - layer convs of 32 3x3."""
    return mc.ThesisCritic(in_channels, n_classes, n_layers - layer)


def _run_thesis(x, y, tr, te, n_conv, seed, layer, opts, init=None):
    """Thesis MINE on one layer; returns (MIResult, trained critic) so the next layer can warm-start."""
    t0 = time.perf_counter()
    dev = _device(x, opts)
    k = opts["n_classes"] or int(y.max()) + 1
    c = _standardize_input(x.float(), tr)
    if c.dim() == 2:
        c, n_conv = c[:, :, None, None], 0  # flat activations: the MLP variant
    c_tr, c_te = c[tr].to(dev), c[te].to(dev)
    y_tr, y_te = y[tr].to(dev), y[te].to(dev)
    lp_te = _label_stats(y[te], k)[0].to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", "mine", "init", layer))
        critic = mc.ThesisCritic(c.shape[1], k, n_conv).to(dev)  # n_conv = L - layer (thesis A.2)
    if init is not None and opts["warm_start"]:
        mc.warm_start(critic, init)
    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", "mine", "batches", layer))
    ema: dict = {}

    def step(idx):
        cb, yb = c_tr[idx.to(dev)], y_tr[idx.to(dev)]
        shuffled = yb[torch.randperm(len(yb), generator=gen).to(dev)]  # marginal: labels shuffled
        t_joint, t_marg = critic(cb, yb), critic(cb, shuffled)
        logw = torch.full_like(t_marg, -math.log(len(yb)))
        loss, bound = _bound("mine", t_joint, t_marg, logw, opts, ema)  # DV, moving-average gradient
        return loss[None], _guard(torch.cat([t_joint, t_marg]), bound, opts)[None]

    @torch.no_grad()
    def evaluate():
        # held-out: score every row against every class; E_Q is then exact under p(y) of these rows
        scores = torch.stack([critic(c_te, torch.full_like(y_te, j)) for j in range(k)], dim=1)  # (N, K)
        bound = mc.dv_bound(*mc.label_scores(scores, y_te, lp_te))
        return [float(_guard(scores, bound, opts))]

    fitted = mc.fit(list(critic.parameters()), step, 1, len(tr), opts, gen, evaluate if opts["heldout_curve"] else None)
    return _finish("mine", evaluate()[0], fitted, 0, opts, t0), critic


# ---------------------------------------------------------------- public API

def _check(x: torch.Tensor, y: torch.Tensor) -> None:
    if y.dim() != 1 or y.dtype not in (torch.int64, torch.int32) or len(y) != len(x):
        raise ValueError(f"y must be integer labels of shape ({len(x)},), got {tuple(y.shape)} {y.dtype}")
    if x.dim() not in (2, 4):
        raise ValueError(f"x must be (N, D) or (N, C, H, W), got shape {tuple(x.shape)}")


def estimate_layers(acts: list[torch.Tensor], y: torch.Tensor, method: str = "mine", seed: int = 0,
                    **options) -> list[MIResult]:
    """I(C_i; y) for every layer of one network; acts[i] is (N, C_i, H_i, W_i) (or (N, D_i))."""
    opts = _resolve(method, options)
    y = y.long().cpu()
    for a in acts:
        _check(a, y)
    t0 = time.perf_counter()
    bad = {i for i, a in enumerate(acts) if not bool(torch.isfinite(a).all())}
    reason = "input contains NaN or inf values: check the activations (diverged network?)"
    results: dict[int, MIResult] = {i: _failed(method, reason, opts, t0) for i in bad}
    good = [i for i in range(len(acts)) if i not in bad]
    if METHODS[method].path == "head" and good:
        for i, res in zip(good, _run_head([acts[i] for i in good], y, method, seed, opts)):
            results[i] = res
    elif good:
        tr, te = _split(len(y), opts, seed)
        prev = None
        for i in good:
            res, prev = _run_thesis(acts[i], y, tr, te, len(acts) - (i + 1), seed, i + 1, opts, prev)
            results[i] = res
    return [results[i] for i in range(len(acts))]


def estimate_mi(x: torch.Tensor, y: torch.Tensor, method: str = "mine", seed: int = 0, **options) -> MIResult:
    """I(x; y) in nats for activations x (N, D) or (N, C, H, W) and integer labels y (N,)."""
    opts = _resolve(method, options)
    y = y.long().cpu()
    _check(x, y)
    if not bool(torch.isfinite(x).all()):
        return _failed(method, "input contains NaN or inf values: check the activations", opts, time.perf_counter())
    if METHODS[method].path == "head":
        return _run_head([x], y, method, seed, opts)[0]
    tr, te = _split(len(y), opts, seed)
    return _run_thesis(x, y, tr, te, opts["n_layers"] - opts["layer"], seed, opts["layer"], opts)[0]


def standardize(values: np.ndarray, reference: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Thesis A.4: z-score each layer's MI (M, L) against reference MIs (R, L) of the same data set."""
    ref = np.asarray(reference, dtype=float).reshape(-1, np.shape(values)[-1])
    mean, std = np.nanmean(ref, axis=0), np.nanstd(ref, axis=0)
    return (np.asarray(values, dtype=float) - mean) / np.maximum(std, floor)


CONTINUOUS_METHODS = ("mine_fast", "nwj", "infonce", "smile")


def estimate_mi_continuous(x: torch.Tensor, y: torch.Tensor, method: str = "mine_fast", seed: int = 0,
                           **options) -> MIResult:
    """I(x; y) for continuous x (N, Dx), y (N, Dy): all B x B batch pairs scored (infonce: capped at log B)."""
    if method not in CONTINUOUS_METHODS:
        raise ValueError(f"continuous MI supports {CONTINUOUS_METHODS}, not {method!r}")
    opts = _resolve(method, options)
    t0 = time.perf_counter()
    if not (bool(torch.isfinite(x).all()) and bool(torch.isfinite(y).all())):
        return _failed(method, "input contains NaN or inf values", opts, t0)
    dev = _device(x, opts)
    tr, te = _split(len(x), opts, seed)
    xs, ys = _standardize_input(x.float(), tr).to(dev), _standardize_input(y.float(), tr).to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", method, "init"))
        critic = mc.PairCritic(x.shape[1], y.shape[1], opts["hidden"]).to(dev)
    ema: dict = {}

    def bound_of(s, ema_state):  # s: (B, B) scores, diagonal = joint
        if method == "infonce":
            b = mc.pair_infonce_bound(s)  # capped at log B
            return -b, b
        return _bound(method, *mc.pair_scores(s), opts, ema_state)

    def step(idx):
        idx = tr[idx].to(dev)
        s = critic(xs[idx], ys[idx])  # (B, B)
        loss, b = bound_of(s, ema)
        return loss[None], _guard(s, b, opts)[None]

    @torch.no_grad()
    def evaluate():  # held-out rows in blocks of the training batch size (same InfoNCE cap)
        bs = min(opts["batch_size"], len(te))
        vals = [float(_guard(s, bound_of(s, {})[1], opts)) for s in
                (critic(xs[te[i:i + bs].to(dev)], ys[te[i:i + bs].to(dev)]) for i in range(0, len(te) - bs + 1, bs))]
        return [float(np.mean(vals))]

    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", method, "batches"))
    fitted = mc.fit(list(critic.parameters()), step, 1, len(tr), opts, gen, evaluate if opts["heldout_curve"] else None,
                    [critic] if opts["heldout_curve"] else None)
    return _finish(method, evaluate()[0], fitted, 0, opts, t0)
