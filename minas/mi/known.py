"""Problems with known mutual information I(x; y) in nats, for validating the estimators of `minas.mi`.

Known truths: a K-class Gaussian mixture x | y ~ N(mu_y, I) (true I(x; y) = log K + E[log p(y|x)] by
Monte Carlo), the same mixtures embedded as images by an orthogonal (injective) map, shuffled labels
(truth 0), and correlated Gaussians (closed form, Poole et al. 2019; Belghazi et al. 2018, sec. 5.1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from minas.core.seeding import derive_seed


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
