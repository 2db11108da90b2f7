"""Problems with known mutual information I(x; y) in nats, for validating the estimators of `minas.mi`.

Known truths: a K-class Gaussian mixture x | y ~ N(mu_y, I) (true I(x; y) = log K + E[log p(y|x)] by
Monte Carlo), the same mixtures embedded as images by an orthogonal (injective) map, shuffled labels
(truth 0), and correlated Gaussians (closed form, Poole et al. 2019; Belghazi et al. 2018, sec. 5.1).
"""
from __future__ import annotations

import dataclasses
import functools
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

@dataclass(frozen=True)
class SuiteTask:
    """A named known-MI task of notebook 02, built from its parameters; its id is derived from them.

    A K-class Gaussian mixture (`dim` features, means `sep` apart), optionally embedded as images and/or
    with its labels shuffled, or (`gauss_nats` set) correlated Gaussians with that closed-form MI.
    """

    k: int = 0                  # classes of the mixture (0 for correlated Gaussians)
    dim: int = 10               # features of the mixture, or of each Gaussian block (20)
    sep: float = 4.0            # distance between mixture means; below 2 the classes overlap heavily
    gauss_nats: float = 0.0     # > 0: correlated Gaussians with this MI in nats instead of a mixture
    image: bool = False         # mixture shown as (1, size, size) images by an injective map
    shuffled: bool = False      # labels permuted: truth 0

    @property
    def continuous(self) -> bool:
        """True for correlated Gaussians (y is a vector): only continuous estimators apply."""
        return self.gauss_nats > 0

    @property
    def kind(self) -> str:
        return "continuous" if self.continuous else ("image" if self.image else "flat")

    @property
    def id(self) -> str:
        if self.continuous:
            return f"gauss_{self.gauss_nats:g}"
        return (f"mix{self.k}" + ("_overlap" if self.sep < 2 else "") + ("_img" if self.image else "")
                + ("_shuffled" if self.shuffled else ""))

    def build(self, n: int, seed: int = 0, image_size: int = 16) -> KnownMI:
        """n rows of this task (the sample drawn with `seed`; the task's means are fixed)."""
        if self.continuous:
            return correlated_gaussians(n, dim=self.dim, mi_nats=self.gauss_nats, seed=seed)
        task = gaussian_mixture(n, self.k, self.dim, self.sep, seed=seed)
        if self.image:
            task = KnownMI(task.name + "_img", as_images(task.x, 0, image_size), task.y, task.truth, task.ceiling)
        return shuffled(task, seed) if self.shuffled else task


MIX4, MIX2_OVERLAP = SuiteTask(4, 10, 6.0), SuiteTask(2, 10, 1.5)
MIX10, MIX100 = SuiteTask(10, 20, 4.0), SuiteTask(100, 20, 4.0)


def _gauss(nats: float) -> SuiteTask:
    return SuiteTask(dim=20, gauss_nats=nats)


def _img(t: SuiteTask, shuffle: bool = False) -> SuiteTask:
    return dataclasses.replace(t, image=True, shuffled=shuffle)


SUITE_TASKS: dict[str, tuple[SuiteTask, ...]] = {  # per profile (rows, seeds: cfg.mi.validation_rows, validation_seeds)
    "smoke": (MIX4, MIX2_OVERLAP, dataclasses.replace(MIX4, shuffled=True), _img(MIX4), _gauss(2)),
    "default": (MIX4, MIX2_OVERLAP, MIX10, dataclasses.replace(MIX4, shuffled=True), _img(MIX4), _img(MIX10),
                _gauss(2), _gauss(4)),
    "full": (MIX4, MIX2_OVERLAP, MIX10, MIX100, dataclasses.replace(MIX4, shuffled=True), _img(MIX4), _img(MIX10),
             _img(MIX100), _img(MIX10, shuffle=True), *(_gauss(n) for n in (2, 4, 6, 8, 10))),
}
SUITE = {t.id: t for tasks in SUITE_TASKS.values() for t in tasks}  # id -> task, every profile's


# ---------------------------------------------------------------- problems at the study's layer shapes (issue 12, item 3)
# A K-class mixture in a small latent space, z | y ~ N(s m_y, I_d), presented at a layer's shape by an injective
# linear map plus noise off its range: x = Q z + sigma (I - Q Q^T) n, Q with orthonormal columns. Q^T x = z, and
# the rest of x is noise independent of (z, y), so I(x; y) = I(z; y), the mixture's MI (Monte Carlo, with its standard error). `spatial` builds Q from smooth spatial blobs times channel
# vectors (the structure a conv stem can use); without it Q is a random orthonormal basis (no structure at all).

@dataclass(frozen=True)
class Problem:
    """A known-MI problem: K classes at a target truth (nats), presented at one or more layer shapes."""

    k: int                       # classes, uniform
    truth: float                 # target I(x; y) in nats (calibrated: the sample's Monte-Carlo truth is within ~0.01)
    shapes: tuple = ((64,),)     # one (D,) or (C, H, W) per layer; every layer carries the same latent (same truth)
    spatial: bool = False        # Q from smooth spatial blobs (True) or a random orthonormal basis (False)
    shuffled: bool = False       # labels permuted: truth 0
    noise: float = 1.0           # per-feature noise variance as a multiple of d / D (total noise power = d)

    @property
    def id(self) -> str:
        shapes = "+".join("x".join(map(str, s)) for s in self.shapes)
        tag = ("_sp" if self.spatial else "") + ("_shuf" if self.shuffled else "")
        return f"k{self.k}_t{self.truth:g}_{shapes}{tag}"

    @property
    def latent(self) -> int:
        return int(min(max(self.k, 4), 16))

    @property
    def kind(self) -> str:
        return "flat" if all(len(s) == 1 for s in self.shapes) else "image"


def _unit_means(k: int, d: int) -> np.ndarray:
    """K fixed mean directions in R^d: orthonormal when d >= K, else random of unit expected length."""
    return _mixture_means(k, d, math.sqrt(2.0), 0)  # (K, d)


def _mc_truth(k: int, d: int, scale: float, n_mc: int = 40_000) -> tuple[float, float]:
    """(I, standard error) of the mixture z | y ~ N(scale m_y, I_d), y uniform, by Monte Carlo."""
    means = scale * _unit_means(k, d)
    rng = np.random.default_rng(derive_seed(0, "mc-truth", k, d, round(scale, 6)))
    y = rng.integers(0, k, n_mc)
    z = means[y] + rng.standard_normal((n_mc, d))
    logits = z @ means.T - 0.5 * (means ** 2).sum(1)  # (n_mc, K), up to a per-row constant
    lp = logits[np.arange(n_mc), y] - np.logaddexp.reduce(logits, axis=1)
    return math.log(k) + float(lp.mean()), float(lp.std() / math.sqrt(n_mc))


@functools.lru_cache(maxsize=256)
def calibrate(k: int, d: int, truth: float) -> float:
    """The mean scale whose mixture MI is `truth` nats (bisection on the Monte-Carlo truth)."""
    if not 0.0 < truth < math.log(k):
        raise ValueError(f"truth must lie in (0, log K = {math.log(k):.3f}), got {truth}")
    lo, hi = 0.0, 1.0
    while _mc_truth(k, d, hi, 8000)[0] < truth:
        hi *= 2.0
    for _ in range(18):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _mc_truth(k, d, mid, 8000)[0] < truth else (lo, mid)
    return 0.5 * (lo + hi)


def _basis(shape: tuple, d: int, spatial: bool, rng: np.random.Generator) -> np.ndarray:
    """(D, d) orthonormal columns: random, or spanned by smooth blobs x channel vectors."""
    size = int(np.prod(shape))
    if not spatial or len(shape) == 1:
        raw = rng.standard_normal((size, d))
    else:
        c, h, w = shape
        yy, xx = np.mgrid[0:h, 0:w]
        width = max(h, w) / 4.0
        cols = []
        for _ in range(d):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width ** 2))  # (H, W)
            cols.append((rng.standard_normal(c)[:, None, None] * blob[None]).ravel())
        raw = np.stack(cols, 1)
    q, _ = np.linalg.qr(raw)
    return q  # (D, d)


def sample(problem: Problem, n: int, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor, float, float]:
    """n rows of `problem` -> (one tensor per shape, labels, Monte-Carlo truth, its standard error)."""
    d, k = problem.latent, problem.k
    rng = np.random.default_rng(derive_seed(seed, "problem", problem.id, n))
    scale = calibrate(k, d, problem.truth)
    y = rng.integers(0, k, n)
    z = scale * _unit_means(k, d)[y] + rng.standard_normal((n, d))  # (n, d)
    xs = []
    for i, shape in enumerate(problem.shapes):
        size = int(np.prod(shape))
        q = _basis(tuple(shape), d, problem.spatial, np.random.default_rng(derive_seed(0, "basis", problem.id, i)))
        sigma = math.sqrt(problem.noise * d / size)
        noise = rng.standard_normal((n, size))
        noise -= (noise @ q) @ q.T  # noise only in the complement of Q's span: Q^T x = z exactly
        xs.append(torch.tensor((z @ q.T + sigma * noise).reshape(n, *shape), dtype=torch.float32))
    truth, se = _mc_truth(k, d, scale)  # every layer holds z injectively (Q^T x = z) and y -> z -> x
    if problem.shuffled:
        y = rng.permutation(y)
        truth, se = 0.0, 0.0
    return xs, torch.tensor(y), truth, se
