"""Estimators of I(C; y) between layer activations C and discrete labels y, in nats.

Sources: MINE (Belghazi et al. 2018) as the thesis used it (Kossmann 2019, 2.1.1 and A.2);
NWJ, InfoNCE, SMILE and the Barber-Agakov bound as surveyed by Poole et al. 2019 and Song &
Ermon 2020. Critics, bounds and the training loop live in `minas.mi_critics`; this module
holds the estimators, the ground-truth tasks and the validation suite of notebook 02.

Two paths:
- `mine` (thesis-faithful): one conv critic T(c, y) per layer, trained one layer after the
  other (warm-started from the previous layer's critic), marginal by shuffling labels, DV bound
  with the moving-average gradient correction, at least `min_epochs` then the thesis stop rule.
- label head (`mine_fast`, `nwj`, `infonce`, `smile`, `ba`): T(c) -> R^K; one forward pass gives
  the joint term and every marginal term, the expectation over the discrete y is exact under
  p(y) from label counts, and the critics of all layers train together in one loop.
Every value is measured on held-out rows the critic never trained on. The label-head and
continuous paths also use those rows to stop (patience) and keep the best epoch, so their
value is the held-out maximum over epochs: slightly optimistic (about the held-out noise,
~0.02 nats at 600 rows) but free of the large overfitting loss of small samples.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from minas import mi_critics as mc
from minas.seeding import derive_seed


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
    if x.is_cuda:
        return x.device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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


def _log_p(y: torch.Tensor, k: int) -> torch.Tensor:
    return torch.log(torch.bincount(y, minlength=k).double() / len(y)).float()


def _entropy(y: torch.Tensor, k: int) -> float:
    p = torch.bincount(y, minlength=k).double() / len(y)
    p = p[p > 0]
    return float(-(p * p.log()).sum())


def _failed(method: str, reason: str, opts: dict, t0: float, curve=None, held=None, epochs=0) -> MIResult:
    return MIResult(math.nan, False, reason, method, list(curve or []), time.perf_counter() - t0, opts,
                    METHODS[method].lower_bound, list(held or []), epochs)


def _finish(method, value, fitted, k, opts, t0, seconds_share=1.0) -> MIResult:
    curve, held, ep, reason = (fitted["curves"][k], fitted["heldout"][k], fitted["epochs"][k], fitted["reasons"][k])
    secs = (time.perf_counter() - t0) * seconds_share
    if reason or not math.isfinite(value) or abs(value) > opts["max_score"]:
        res = _failed(method, reason or f"held-out bound is not finite ({value})", opts, t0, curve, held, ep)
        res.seconds = secs
        return res
    return MIResult(float(value), True, "", method, curve, secs, opts, METHODS[method].lower_bound, held, ep)


# ---------------------------------------------------------------- label-head path (all layers at once)

def _head_bound(method, scores, y, log_p, h_y, opts, ema):
    """(loss, bound) of one label-head critic on one batch."""
    if method == "ba":
        bound = mc.ba_bound(scores, y, h_y)
        return -bound, bound
    if method == "infonce":
        bound = mc.label_infonce_bound(scores, y, log_p)
        return -bound, bound
    joint, marg, logw = mc.label_scores(scores, y, log_p)
    if method == "nwj":
        bound = mc.nwj_bound(joint, marg, logw)
        return -bound, bound
    if method == "smile":
        bound = mc.smile_bound(joint, marg, logw, opts["clip"])
        return -bound, bound
    bound = mc.dv_bound(joint, marg, logw)  # mine_fast
    return mc.dv_ema_loss(joint, marg, logw, ema, opts["ema_rate"]), bound


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
    lp_tr, lp_te = _log_p(y[tr], k).to(dev), _log_p(y[te], k).to(dev)
    h_tr, h_te = _entropy(y[tr], k), _entropy(y[te], k)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "mi", method, "init"))
        critics = [mc.HeadCritic(tuple(a.shape[1:]), k, opts["hidden"], opts["pool"]).to(dev) for a in acts]
    emas = [{} for _ in critics]
    tr_dev = tr.to(dev)
    x_tr = [x[tr_dev] for x in xs]
    x_te = [x[te.to(dev)] for x in xs]

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
        vals = []
        for c, x in zip(critics, x_te):
            scores = c(x)
            _, b = _head_bound(method, scores, y_te, lp_te, h_te, opts, {})
            vals.append(float(_guard(scores, b, opts)))
        return vals

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
    lp_te = _log_p(y[te], k).to(dev)
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
        bound = mc.dv_bound(t_joint, t_marg, logw)
        loss = mc.dv_ema_loss(t_joint, t_marg, logw, ema, opts["ema_rate"])
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
    """I(x; y) for continuous x (N, Dx), y (N, Dy): an MLP critic on [x, y], all B x B batch pairs scored."""
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

    def bound_of(s, ema_state):
        if method == "infonce":
            b = mc.pair_infonce_bound(s)
            return -b, b
        joint, marg, logw = mc.pair_scores(s)
        if method == "nwj":
            b = mc.nwj_bound(joint, marg, logw)
            return -b, b
        if method == "smile":
            b = mc.smile_bound(joint, marg, logw, opts["clip"])
            return -b, b
        b = mc.dv_bound(joint, marg, logw)
        return mc.dv_ema_loss(joint, marg, logw, ema_state, opts["ema_rate"]), b

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


# ---------------------------------------------------------------- tasks with known MI (notebook 02, tests)

@dataclass
class KnownMI:
    """A sample (x, y) whose true I(x; y) in nats is known; ceiling = log K for K-class labels."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    truth: float
    ceiling: float = math.nan


def correlated_gaussians(n: int, dim: int = 20, mi_nats: float = 2.0, seed: int = 0) -> KnownMI:
    """y = rho x + sqrt(1 - rho^2) e per coordinate; I = -dim/2 log(1 - rho^2) = mi_nats exactly."""
    rho = math.sqrt(1.0 - math.exp(-2.0 * mi_nats / dim))
    rng = np.random.default_rng(derive_seed(seed, "gauss", n, dim, mi_nats))
    x, e = rng.standard_normal((n, dim)), rng.standard_normal((n, dim))
    y = rho * x + math.sqrt(1.0 - rho ** 2) * e
    return KnownMI(f"gauss_{mi_nats:g}nats", torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32),
                   float(mi_nats))


def _mixture_means(k: int, dim: int, sep: float, seed: int) -> np.ndarray:
    """K means at pairwise distance sep (orthonormal directions when dim >= K, else random)."""
    rng = np.random.default_rng(derive_seed(seed, "means", k, dim, sep))
    if dim >= k:
        q, _ = np.linalg.qr(rng.standard_normal((dim, k)))
        return sep / math.sqrt(2.0) * q.T  # (K, dim)
    return sep / math.sqrt(2.0 * dim) * rng.standard_normal((k, dim))


def gaussian_mixture(n: int, k: int = 4, dim: int = 10, sep: float = 4.0, seed: int = 0, n_mc: int = 200_000) -> KnownMI:
    """x | y=k ~ N(mu_k, I), y uniform on K classes; true I(x; y) = log K + E[log p(y|x)] by Monte Carlo."""
    means = _mixture_means(k, dim, sep, 0)  # the task (means) is fixed; the seed draws the sample

    def draw(m, rng):
        y = rng.integers(0, k, m)
        return means[y] + rng.standard_normal((m, dim)), y

    x, y = draw(n, np.random.default_rng(derive_seed(seed, "mixture", n, k, dim, sep)))
    xm, ym = draw(n_mc, np.random.default_rng(derive_seed(0, "mixture-mc", k, dim, sep)))
    logits = -0.5 * ((xm[:, None, :] - means[None]) ** 2).sum(-1)  # (n_mc, K)
    log_post = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    truth = math.log(k) + float(log_post[np.arange(n_mc), ym].mean())
    return KnownMI(f"mix{k}_sep{sep:g}", torch.tensor(x, dtype=torch.float32), torch.tensor(y), truth, math.log(k))


def as_images(x: torch.Tensor, seed: int = 0, size: int = 16) -> torch.Tensor:
    """(N, D) -> (N, 1, size, size) through a fixed random orthogonal map (injective, so MI is kept)."""
    d = x.shape[1]
    if d > size * size:
        raise ValueError(f"as_images: {d} features do not fit a {size}x{size} image; raise size")
    rng = np.random.default_rng(derive_seed(seed, "as_images", d, size))
    q, _ = np.linalg.qr(rng.standard_normal((size * size, d)))  # (size^2, D), orthonormal columns
    return (x @ torch.tensor(q.T, dtype=x.dtype)).reshape(len(x), 1, size, size)


def shuffled(task: KnownMI, seed: int = 0) -> KnownMI:
    """The same x with labels permuted: true MI 0."""
    perm = torch.randperm(len(task.y), generator=torch.Generator().manual_seed(derive_seed(seed, "shuffle")))
    return KnownMI(task.name + "_shuffled", task.x, task.y[perm], 0.0, task.ceiling)


# ---------------------------------------------------------------- validation suite (notebook 02)

SUITE_TASKS = {  # known-MI tasks per profile (sizes come from cfg.mi.max_rows)
    "smoke": ("mix4", "mix2_overlap", "mix4_shuffled", "mix4_img", "gauss_2"),
    "default": ("mix4", "mix2_overlap", "mix10", "mix4_shuffled", "mix4_img", "mix10_img", "gauss_2", "gauss_4"),
    "full": ("mix4", "mix2_overlap", "mix10", "mix4_shuffled", "mix4_img", "mix10_img", "mix10_img_shuffled",
             "gauss_2", "gauss_4", "gauss_8"),
}
SUITE_SEEDS = {"smoke": 2, "default": 3, "full": 5}  # at most this many seeds (and at most cfg.predict.seeds)


def known_task(name: str, n: int, seed: int = 0, image_size: int = 16) -> KnownMI:
    """A named known-MI task of notebook 02 (see SUITE_TASKS): mixtures, their images, shuffles, Gaussians."""
    if name.startswith("gauss_"):
        return correlated_gaussians(n, dim=20, mi_nats=float(name.split("_")[1]), seed=seed)
    base = {"mix4": (4, 10, 6.0), "mix2": (2, 10, 1.5), "mix10": (10, 20, 4.0)}[name.split("_")[0]]
    task = gaussian_mixture(n, *base, seed=seed)
    if "_img" in name:
        task = KnownMI(task.name + "_img", as_images(task.x, 0, image_size), task.y, task.truth, task.ceiling)
    return shuffled(task, seed) if name.endswith("_shuffled") else task


def validation_suite(cfg, methods: list | None = None, seeds: int | None = None, tasks: list | None = None,
                     n: int | None = None, **options):
    """Every estimator on every known-MI task and seed -> DataFrame (one row per estimate).

    Rows per task: n (default cfg.mi.max_rows); estimator options: cfg.mi, then **options.
    """
    import pandas as pd

    methods = list(methods or METHODS)
    tasks = list(tasks or SUITE_TASKS.get(cfg.profile, SUITE_TASKS["default"]))
    seeds = seeds or min(cfg.predict.seeds, SUITE_SEEDS.get(cfg.profile, 3))
    opts = {**options_from_config(cfg.mi), **options}
    n = n or cfg.mi.max_rows
    opts["max_rows"] = max(opts["max_rows"], n)
    if cfg.device != "auto":
        opts["device"] = cfg.device
    rows = []
    for name in tasks:
        for s in range(seeds):
            task = known_task(name, n, derive_seed(cfg.seed, "mi-suite", s) % 2**31, cfg.data.image_size)
            continuous = name.startswith("gauss_")
            for m in methods:
                if continuous and m not in CONTINUOUS_METHODS:
                    continue
                fn = estimate_mi_continuous if continuous else estimate_mi
                r = fn(task.x, task.y, m, seed=s, **opts)
                rows.append({"task": name, "kind": "continuous" if continuous else ("image" if "_img" in name else "flat"),
                             "truth": task.truth, "ceiling": task.ceiling, "method": m, "seed": s, "value": r.value,
                             "ok": r.ok, "seconds": r.seconds, "epochs": r.epochs})
    frame = pd.DataFrame(rows)
    frame["error"] = frame["value"] - frame["truth"]
    return frame


def suite_summary(frame):
    """Bias (mean error), spread (std over seeds), |error|, failures and seconds per (task, method)."""
    g = frame.groupby(["task", "method"])
    out = g.agg(truth=("truth", "first"), mean=("value", "mean"), bias=("error", "mean"), spread=("value", "std"),
                abs_error=("error", lambda e: e.abs().mean()), failed=("ok", lambda o: int((~o).sum())),
                seconds=("seconds", "mean"))
    return out.reset_index()


def layer_mi_on_tasks(cfg, methods: list, n_tasks: int = 1, n_archs: int = 2, seeds: int = 1, **options):
    """Per-layer MI of trained networks on the study's tasks -> DataFrame (task, arch, method, seed, layer, value, curve).

    Each of n_archs random architectures is trained to convergence (minas.cnn) on each of the
    first n_tasks training tasks; its activations on the task's training rows feed every method.
    """
    import pandas as pd

    from minas import cnn, data, space

    opts = {**options_from_config(cfg.mi), **options}
    rows = []
    for task in [t for t in data.build_tasks(cfg) if t.split == "train"][:n_tasks]:
        rng = np.random.default_rng(derive_seed(cfg.seed, "mi-real", task.name))
        for arch in space.sample_architectures(n_archs, rng):
            result, model = cnn.train_to_convergence(task, arch, derive_seed(cfg.seed, "mi-real", arch.id) % 2**31,
                                                     cfg.train, cnn.pick_device(cfg.device))
            acts = cnn.activations(model, task.x_train[: opts["max_rows"]])
            y = task.y_train[: opts["max_rows"]]
            for m in methods:
                for s in range(seeds):
                    for layer, r in enumerate(estimate_layers(acts, y, m, seed=s, **opts), start=1):
                        rows.append({"task": task.name, "arch": arch.id, "accuracy": result.accuracy, "method": m,
                                     "seed": s, "layer": layer, "value": r.value, "ok": r.ok, "seconds": r.seconds,
                                     "curve": r.curve, "ceiling": math.log(task.n_classes)})
    return pd.DataFrame(rows)


def dpi_check(frame, tol: float = 0.05):
    """Share of (task, arch, method, seed) whose MI never rises from one layer to the next by more than tol nats.

    The data-processing inequality: I(C_{i+1}; y) <= I(C_i; y), since C_{i+1} is a function of C_i.
    """
    def holds(g):
        v = g.sort_values("layer")["value"].to_numpy()
        return bool(np.all(np.diff(v) <= tol))

    keys = ["task", "arch", "method", "seed"]
    per = frame.groupby(keys).apply(holds, include_groups=False).rename("dpi_holds").reset_index()
    return per.groupby("method")["dpi_holds"].mean().rename("share_dpi_holds").reset_index()
