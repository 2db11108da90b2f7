"""Problems with known mutual information, and the validation of the estimators of `minas.mi` on them.

Known truths: a K-class Gaussian mixture x | y ~ N(mu_y, I) (true I(x; y) = log K + E[log p(y|x)] by
Monte Carlo), the same mixtures embedded as images by an orthogonal (injective) map, shuffled labels
(truth 0), and correlated Gaussians (closed form, Poole et al. 2019; Belghazi et al. 2018, sec. 5.1).
The validation suite runs every estimator on them (notebook 02), `layer_mi_on_tasks` on activations
of trained networks (Kossmann 2019, 2.1.1) and `dpi_check` tests the data-processing inequality
I(C_{i+1}; y) <= I(C_i; y) that per-layer Shannon MI obeys (Cover & Thomas 2006, 2.8).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from minas.mi import CONTINUOUS_METHODS, METHODS, estimate_layers, estimate_mi, estimate_mi_continuous, options_from_config
from minas.seeding import derive_seed

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

SUITE_TASKS = {  # known-MI tasks per profile (rows and seeds: cfg.mi.validation_rows, cfg.mi.validation_seeds)
    "smoke": ("mix4", "mix2_overlap", "mix4_shuffled", "mix4_img", "gauss_2"),
    "default": ("mix4", "mix2_overlap", "mix10", "mix4_shuffled", "mix4_img", "mix10_img", "gauss_2", "gauss_4"),
    "full": ("mix4", "mix2_overlap", "mix10", "mix100", "mix4_shuffled", "mix4_img", "mix10_img", "mix100_img",
             "mix10_img_shuffled", "gauss_2", "gauss_4", "gauss_6", "gauss_8", "gauss_10"),
}


def known_task(name: str, n: int, seed: int = 0, image_size: int = 16) -> KnownMI:
    """A named known-MI task of notebook 02 (see SUITE_TASKS): mixtures, their images, shuffles, Gaussians."""
    if name.startswith("gauss_"):
        return correlated_gaussians(n, dim=20, mi_nats=float(name.split("_")[1]), seed=seed)
    base = {"mix4": (4, 10, 6.0), "mix2": (2, 10, 1.5), "mix10": (10, 20, 4.0), "mix100": (100, 20, 4.0)}[name.split("_")[0]]
    task = gaussian_mixture(n, *base, seed=seed)
    if "_img" in name:
        task = KnownMI(task.name + "_img", as_images(task.x, 0, image_size), task.y, task.truth, task.ceiling)
    return shuffled(task, seed) if name.endswith("_shuffled") else task


def validation_suite(cfg, methods: list | None = None, tasks: list | None = None, **options) -> pd.DataFrame:
    """Every estimator on every known-MI task and seed -> one row per estimate.

    Rows per task: cfg.mi.validation_rows; seeds: cfg.mi.validation_seeds; estimator options:
    cfg.mi (batch size, lr, epochs, stop threshold), then **options.
    """
    methods = list(methods or METHODS)
    tasks = list(tasks or SUITE_TASKS.get(cfg.profile, SUITE_TASKS["default"]))
    n = cfg.mi.validation_rows
    opts = {**options_from_config(cfg.mi), **options, "max_rows": n}
    if cfg.device != "auto":
        opts["device"] = cfg.device
    rows = []
    for name in tasks:
        continuous = name.startswith("gauss_")
        kind = "continuous" if continuous else ("image" if "_img" in name else "flat")
        for s in range(cfg.mi.validation_seeds):
            task = known_task(name, n, derive_seed(cfg.seed, "mi-suite", s) % 2**31, cfg.data.image_size)
            for m in methods:
                if continuous and m not in CONTINUOUS_METHODS:
                    continue
                fn = estimate_mi_continuous if continuous else estimate_mi
                r = fn(task.x, task.y, m, seed=s, **opts)
                rows.append({"task": name, "kind": kind, "truth": task.truth, "ceiling": task.ceiling, "method": m,
                             "seed": s, "value": r.value, "ok": r.ok, "seconds": r.seconds, "epochs": r.epochs})
    frame = pd.DataFrame(rows)
    frame["error"] = frame["value"] - frame["truth"]
    return frame


def suite_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Bias (mean error), spread (std over seeds), |error|, failures and seconds per (task, method)."""
    g = frame.groupby(["task", "method"])
    out = g.agg(truth=("truth", "first"), mean=("value", "mean"), bias=("error", "mean"), spread=("value", "std"),
                abs_error=("error", lambda e: e.abs().mean()), failed=("ok", lambda o: int((~o).sum())),
                seconds=("seconds", "mean"))
    return out.reset_index()


def layer_mi_on_tasks(cfg, methods: list, n_tasks: int = 1, n_archs: int = 2, seeds: int = 1,
                      **options) -> pd.DataFrame:
    """Per-layer MI of trained networks on the study's tasks -> DataFrame (task, arch, method, seed, layer, value, curve).

    Each of n_archs random architectures is trained to convergence (minas.cnn) on each of the
    first n_tasks training tasks; its activations on the task's training rows feed every method.
    """
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


def dpi_check(frame: pd.DataFrame, tol: float = 0.05) -> pd.DataFrame:
    """Share of (task, arch, method, seed) whose MI never rises from one layer to the next by more than tol nats.

    The data-processing inequality: I(C_{i+1}; y) <= I(C_i; y), since C_{i+1} is a function of C_i.
    """
    def holds(g):
        v = g.sort_values("layer")["value"].to_numpy()
        return bool(np.all(np.diff(v) <= tol))

    keys = ["task", "arch", "method", "seed"]
    per = frame.groupby(keys).apply(holds, include_groups=False).rename("dpi_holds").reset_index()
    return per.groupby("method")["dpi_holds"].mean().rename("share_dpi_holds").reset_index()
