"""Posterior predictors: input samples paired with clean Hyperband posteriors, the thesis MLP and its baselines.

Source: Kossmann 2019 (thesis), Def. 2.3 (input sample), sec. 3.1 (clean posteriors, the
predictor, its baselines) and A.1 (MLP 96 -> 128 -> 128 -> 64 -> 92, ReLU, MSE).

What a predictor reads beside the one-hot architecture is a feature object (`minas.study.predict.features`:
a signal z-scored or raw, the accuracy, a noise column, nothing, or a predictor's own), `width` numbers per
layer. Per-layer linear-probe accuracy needs stored activations (not in the store); the signal "ba" (the
held-out classifier bound) is the closest stored per-layer probe signal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import optimize
from torch import nn

from minas import data
from minas.core.seeding import rng_for
from minas.nas import hyperband
from minas.nas.space import N_LAYERS, N_OPTIONS, ONE_HOT_SIZE, parse_architecture


def task_sources(cfg, collected) -> dict:
    """task -> its image source (`Task.source`, the unit of independence): the samples' `source` column when they
    carry one (planted collections), else the data room's task (`data.get_task`)."""
    s = collected.samples
    if "source" in s.columns:
        return {str(t): str(v) for t, v in s.groupby("task").source.first().items()}
    try:
        return {str(t): data.get_task(cfg, t).source for t in sorted(s.task.unique())}
    except ValueError as err:  # DataError: a task the configured data source does not know
        raise ValueError(f"cannot name the source of every task ({err}); give the samples a 'source' column") from err


@dataclass
class Pairs:
    """(input sample, clean posterior) pairs of one split; x (P, 92 + N_LAYERS x width), y (P, 92) float32."""

    x: np.ndarray
    y: np.ndarray
    task: np.ndarray  # (P,) task name
    sample: np.ndarray  # (P,) input sample number within the task
    clean: np.ndarray  # (P,) clean posterior number within the task

    def __len__(self) -> int:
        return len(self.x)


def build_pairs(collected, feature, split: str, k: int, max_pairs_per_task: int = 0, seed: int = 0,
                max_clean: int = 0) -> Pairs:
    """Every clean posterior of each task of `split` x every input sample of that task (Def. 2.3, sec. 3.1); x is the
    one-hot architecture and the feature's values (`features`).

    max_clean > 0 keeps at most that many clean posteriors per task (`hyperband.clean_posteriors`: a seeded draw of
    the C(n, k) combinations, which at k = 20 of 25 would be 53,130)."""
    s = collected.samples
    sig = feature.matrix(collected)
    xs, ys, tasks, samples, cleans = [], [], [], [], []
    for task in sorted(s.loc[s.split == split, "task"].unique()):
        rows = np.flatnonzero((s.task == task).to_numpy())  # samples are in posterior order
        clean, _ = hyperband.clean_posteriors(collected.posteriors[task], k, max_clean, seed)  # (C, 4, 23)
        if len(clean) == 0:
            continue
        onehot = np.stack([parse_architecture(a).one_hot() for a in s.arch.iloc[rows]])  # (n, 92)
        inputs = np.concatenate([onehot, sig[rows]], axis=1)  # (n, 92 + L x width)
        ci, si = np.meshgrid(np.arange(len(clean)), np.arange(len(rows)), indexing="ij")
        ci, si = ci.ravel(), si.ravel()
        if 0 < max_pairs_per_task < len(ci):
            keep = np.sort(rng_for(seed, "pairs", task).choice(len(ci), max_pairs_per_task, replace=False))
            ci, si = ci[keep], si[keep]
        xs.append(inputs[si])
        ys.append(clean.reshape(len(clean), -1)[ci])
        tasks += [task] * len(ci)
        samples.append(s["sample"].to_numpy()[rows][si])
        cleans.append(ci)
    if not xs:
        return Pairs(np.zeros((0, ONE_HOT_SIZE + sig.shape[1]), np.float32), np.zeros((0, ONE_HOT_SIZE), np.float32),
                     np.array([], dtype=object), np.array([], int), np.array([], int))
    return Pairs(np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32),
                 np.array(tasks, dtype=object), np.concatenate(samples), np.concatenate(cleans))


class PosteriorMLP(nn.Module):
    """Thesis A.1 predictor: 96 -> 128 -> 128 -> 64 -> 92, ReLU; raw outputs (thesis) or per-layer softmax.
    n_inputs: 92 + N_LAYERS x the feature's width (96 for the thesis's one number per layer)."""

    def __init__(self, softmax: bool = False, n_inputs: int = ONE_HOT_SIZE + N_LAYERS):
        super().__init__()
        self.softmax = softmax
        self.net = nn.Sequential(nn.Linear(n_inputs, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                                 nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, ONE_HOT_SIZE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)  # (B, 92)
        if self.softmax:
            out = torch.softmax(out.view(-1, N_LAYERS, N_OPTIONS), dim=-1).view(-1, ONE_HOT_SIZE)
        return out


@dataclass
class TrainedMLP:
    """One predictor training: the model, MSE per epoch (epoch 0 = untrained) and test predictions."""

    model: PosteriorMLP
    train_curve: list[float]
    test_curve: list[float]
    test_pred: np.ndarray  # (P_test, 92)


def _mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    if len(x) == 0:
        return float("nan")
    with torch.no_grad():
        return float(((model(x) - y) ** 2).mean())


def train_mlp(train: Pairs, test: Pairs, epochs: int, lr: float, batch_size: int, seed: int,
              softmax: bool = False) -> TrainedMLP:
    """Adam on the MSE over shuffled mini-batches of whole tensors (no per-sample Python loop).

    The initial weights come from `seed` inside `torch.random.fork_rng`, so torch's global RNG is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed % 2**31)
        model = PosteriorMLP(softmax, train.x.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xtr, ytr = torch.from_numpy(train.x), torch.from_numpy(train.y)
    xte, yte = torch.from_numpy(test.x), torch.from_numpy(test.y)
    gen = torch.Generator().manual_seed(seed % 2**31)
    tr_curve, te_curve = [_mse(model, xtr, ytr)], [_mse(model, xte, yte)]
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=gen)
        for start in range(0, len(xtr), batch_size):
            idx = perm[start:start + batch_size]
            loss = ((model(xtr[idx]) - ytr[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        tr_curve.append(_mse(model, xtr, ytr))
        te_curve.append(_mse(model, xte, yte))
    with torch.no_grad():
        pred = model(xte).numpy() if len(xte) else np.zeros((0, ONE_HOT_SIZE), np.float32)
    return TrainedMLP(model, tr_curve, te_curve, pred)


def _gauss(x, a, mu, sigma):
    return a * np.exp(-0.5 * ((x - mu) / sigma) ** 2)


def fit_gaussian(mean_posterior: np.ndarray) -> np.ndarray:
    """One Gaussian a*exp(-(i-mu)^2/2s^2) per layer, least squares on option index i; (4, 23) -> (4, 23)."""
    p = np.asarray(mean_posterior, dtype=np.float64).reshape(N_LAYERS, N_OPTIONS)
    i = np.arange(N_OPTIONS, dtype=np.float64)
    out = np.zeros_like(p)
    for layer, row in enumerate(p):
        w = row / row.sum() if row.sum() > 0 else np.full(N_OPTIONS, 1 / N_OPTIONS)
        mu0 = float((w * i).sum())
        sd0 = float(np.sqrt((w * (i - mu0) ** 2).sum())) or 1.0
        try:
            params, _ = optimize.curve_fit(_gauss, i, row, p0=(row.max(), mu0, sd0),
                                           bounds=([0, -N_OPTIONS, 0.3], [np.inf, 2 * N_OPTIONS, 10 * N_OPTIONS]))
        except (RuntimeError, ValueError):  # no convergence: keep the moment estimate
            params = (row.max(), mu0, sd0)
        out[layer] = _gauss(i, *params)
    return out


def noise_summary(collected, k: int) -> pd.DataFrame:
    """Dirty and clean noise (hyperband.noise_level) averaged over the tasks of each split."""
    split = dict(zip(collected.samples.task, collected.samples.split))
    rows = []
    for task, posts in collected.posteriors.items():
        clean, _ = hyperband.clean_posteriors(posts, k)
        rows.append({"split": split.get(task, "?"), "dirty": hyperband.noise_level(posts),
                     "clean": hyperband.noise_level(clean)})
    df = pd.DataFrame(rows, columns=["split", "dirty", "clean"])
    return df.groupby("split")[["dirty", "clean"]].mean()  # NaN where a split has < 2 (clean) posteriors


def task_noise(collected, k: int, sources: dict | None = None) -> pd.DataFrame:
    """Per task: its posteriors' dirty noise and the floor of any predictor of its clean targets, dirty / (2k).

    A clean target is the mean of k posteriors drawn independently around the task's expected posterior mu, each
    entry with variance sigma^2 = dirty / 2 (`hyperband.noise_level` is the mean pairwise MSE, 2 sigma^2, unbiased).
    Any prediction p fixed before the target is drawn has E MSE(p, target) = MSE(p, mu) + sigma^2 / k, so
    dirty / (2k) is the floor, whether or not the task's C(n, k) targets overlap (the overlap makes its
    targets' pairwise MSE, the thesis's "clean noise", dirty * `hyperband.clean_overlap(n, k)` instead).
    """
    split = dict(zip(collected.samples.task, collected.samples.split))
    rows = []
    for task, posts in collected.posteriors.items():
        dirty = hyperband.noise_level(posts)
        rows.append({"task": task, "split": split.get(task, "?"), "source": (sources or {}).get(task, task),
                     "n_posteriors": len(posts), "k": k, "dirty": dirty, "floor": dirty / (2 * k)})
    return pd.DataFrame(rows, columns=["task", "split", "source", "n_posteriors", "k", "dirty", "floor"])


@dataclass
class SignalGaussian:
    """A predictor with 3 + 2d numbers per layer: a * exp(-(i - mu)^2 / 2 w^2), mu = m0 + m . s, log w = w0 + v . s.

    s is the layer's d feature values (the columns after the one-hot, layer-major), standardized on the training
    pairs; at d = 1 (one number per layer) it has 5 numbers per layer, 20 in all, and with m = v = 0 it is the
    input-free fitted Gaussian. Few parameters, so little variance: it asks whether the feature moves the preferred
    filter count or the spread of a layer at all (issue 23, item 4).
    """

    params: np.ndarray  # (N_LAYERS, 3 + 2d): a, m0, m_1..m_d, w0, v_1..v_d
    s_mean: np.ndarray  # (N_LAYERS * d,) feature mean on the training pairs
    s_sd: np.ndarray  # (N_LAYERS * d,)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(P, 92) prediction from (P, 92 + N_LAYERS d) inputs."""
        s = (np.asarray(x, np.float64)[:, ONE_HOT_SIZE:] - self.s_mean) / self.s_sd  # (P, L d)
        s = s.reshape(len(s), N_LAYERS, -1)  # (P, L, d)
        return np.concatenate([_layer_curve(p, s[:, l]) for l, p in enumerate(self.params)], axis=1)


def _layer_curve(p: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(P, 23) curve of one layer from its parameters (3 + 2d,) and standardized features s (P, d)."""
    i = np.arange(N_OPTIONS, dtype=np.float64)
    d = s.shape[1]
    mu = p[1] + (s * p[2:2 + d]).sum(axis=1)
    w = np.exp(np.clip(p[2 + d] + (s * p[3 + d:]).sum(axis=1), -3.0, 4.0))
    return p[0] * np.exp(-0.5 * ((i[None, :] - mu[:, None]) / w[:, None]) ** 2)  # (P, 23)


def fit_signal_gaussian(train: Pairs, grouped: bool = False) -> SignalGaussian:
    """Least squares of `SignalGaussian` on the training pairs, per layer, started from the input-free fit.

    grouped: fit each layer on its distinct feature rows, the targets averaged within each and weighted by sqrt(count).
    The sum of squares differs from the ungrouped one by a constant, so the minimizer is the same (up to the solver's
    tolerance), at a cost set by the distinct rows: the tasks for a task-level feature, the input samples for a
    per-sample one, instead of samples x clean targets."""
    s = train.x[:, ONE_HOT_SIZE:].astype(np.float64)  # (P, L d)
    s_mean, s_sd = s.mean(axis=0), s.std(axis=0)
    s_sd = np.where(s_sd > 1e-12, s_sd, 1.0)
    z = ((s - s_mean) / s_sd).reshape(len(s), N_LAYERS, -1)  # (P, L, d)
    d = z.shape[2]
    y = train.y.astype(np.float64).reshape(len(train), N_LAYERS, N_OPTIONS)
    start = fit_gaussian(y.mean(axis=0))
    params = np.zeros((N_LAYERS, 3 + 2 * d))
    i = np.arange(N_OPTIONS, dtype=np.float64)
    for l in range(N_LAYERS):
        row = start[l]
        w = row / row.sum() if row.sum() > 0 else np.full(N_OPTIONS, 1 / N_OPTIONS)
        mu = float((w * i).sum())
        p0 = np.concatenate([[row.max(), mu], np.zeros(d), [np.log(max(np.sqrt((w * (i - mu) ** 2).sum()), 0.3))], np.zeros(d)])
        zl, yl, weight = _distinct(z[:, l], y[:, l]) if grouped else (z[:, l], y[:, l], None)
        if weight is None:
            res = optimize.least_squares(lambda p: (_layer_curve(p, zl) - yl).ravel(), p0, method="trf")
        else:
            res = optimize.least_squares(lambda p: (weight * (_layer_curve(p, zl) - yl)).ravel(), p0, method="trf")
        params[l] = res.x if res.success else p0
    return SignalGaussian(params, s_mean, s_sd)


def _distinct(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct rows of z (G, d), mean y of each (G, 23), sqrt of each row's count (G, 1))."""
    rows, inverse, counts = np.unique(z, axis=0, return_inverse=True, return_counts=True)
    sums = np.zeros((len(rows), y.shape[1]))
    np.add.at(sums, inverse.ravel(), y)
    return rows, sums / counts[:, None], np.sqrt(counts)[:, None]
