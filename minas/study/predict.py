"""Predicting Hyperband posteriors from input samples: thesis Experiment 1 (Table 3.1).

Source: Kossmann 2019 (thesis), Def. 2.3 (input sample), sec. 3.1 (clean posteriors, the
predictor, its baselines, Table 3.1) and A.1 (MLP 96 -> 128 -> 128 -> 64 -> 92, ReLU, MSE).

Scale: `hyperband.posterior` normalizes each layer to sum 1; the thesis normalized the whole
92-vector to sum 1 ("a normalized 92 dimensional vector"), i.e. every entry 4x smaller and
every MSE 16x smaller. Our tables report our scale and, beside the thesis's numbers,
`*_thesis_scale` = ours / 16.

Signals (the 4 numbers beside the one-hot architecture) are named strings, one code path:
  "mi:<method>"  z-scored MI of that estimator (`z_<method>_1..4`, thesis A.4)
  "accuracy"     the input architecture's accuracy, repeated in the 4 slots (the thesis's
                 "NN fed accuracy instead of MI"; raw, so it also tells tasks apart by difficulty)
  "accuracy_z"   the accuracy z-scored against the task's reference architectures (like MI)
  "none"         zeros: the architecture alone (does any signal add anything?)
Per-layer linear-probe accuracy needs stored activations (not in the store); "mi:ba" (the
held-out classifier bound) is the closest stored per-layer probe signal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import optimize
from torch import nn

from minas.core.seeding import derive_seed, rng_for
from minas.nas import hyperband
from minas.nas.space import N_LAYERS, N_OPTIONS, ONE_HOT_SIZE, parse_architecture
from minas.study.stats import paired_test

THESIS_SCALE = 1.0 / 16.0  # per-layer-normalized MSE -> 92-normalized MSE (the thesis's scale)
THESIS_TABLE_3_1 = {  # thesis Table 3.1 (train, test), the thesis's reported values (a citation)
    "Uniform": (7.80e-05, 8.13e-05),
    "Fitted Gaussian": (6.92e-05, 6.70e-05),
    "NN + accuracy": (3.57e-05, 7.58e-05),
    "NN + MI": (3.42e-05, 7.38e-05),
    "Noise (dirty)": (6.20e-04, 6.41e-04),
    "Noise (clean)": (6.84e-05, np.nan),
}


def signal_matrix(collected, signal: str) -> np.ndarray:
    """(n_samples, 4) signal per input sample of `collected.samples` (see module docstring)."""
    s = collected.samples
    if signal == "none":
        return np.zeros((len(s), N_LAYERS))
    if signal == "accuracy":
        return np.repeat(s["accuracy"].to_numpy(dtype=np.float64)[:, None], N_LAYERS, axis=1)
    if signal == "accuracy_z":
        ref = collected.reference
        z = np.zeros(len(s))
        for task, idx in s.groupby("task").groups.items():
            r = ref.loc[ref.task == task, "accuracy"].to_numpy(dtype=np.float64)
            rows = s.index.get_indexer(idx)
            z[rows] = (s.loc[idx, "accuracy"].to_numpy() - np.nanmean(r)) / max(np.nanstd(r), 1e-3)
        return np.repeat(z[:, None], N_LAYERS, axis=1)
    if signal.startswith("mi:"):
        cols = [f"z_{signal[3:]}_{l}" for l in range(1, N_LAYERS + 1)]
        missing = [c for c in cols if c not in s.columns]
        if missing:
            raise ValueError(f"signal {signal!r}: columns {missing} are not in the samples; "
                             f"collected methods: {collected.methods}")
        return np.nan_to_num(s[cols].to_numpy(dtype=np.float64))
    raise ValueError(f"unknown signal {signal!r}; use 'mi:<method>', 'accuracy', 'accuracy_z' or 'none'")


@dataclass
class Pairs:
    """(input sample, clean posterior) pairs of one split; x (P, 96), y (P, 92) float32."""

    x: np.ndarray
    y: np.ndarray
    task: np.ndarray  # (P,) task name
    sample: np.ndarray  # (P,) input sample number within the task
    clean: np.ndarray  # (P,) clean posterior number within the task

    def __len__(self) -> int:
        return len(self.x)


def build_pairs(collected, signal: str, split: str, k: int, max_pairs_per_task: int = 0, seed: int = 0) -> Pairs:
    """Every clean posterior of each task of `split` x every input sample of that task (Def. 2.3, sec. 3.1)."""
    s = collected.samples
    sig = signal_matrix(collected, signal)
    xs, ys, tasks, samples, cleans = [], [], [], [], []
    for task in sorted(s.loc[s.split == split, "task"].unique()):
        rows = np.flatnonzero((s.task == task).to_numpy())  # samples are in posterior order
        clean, _ = hyperband.clean_posteriors(collected.posteriors[task], k)  # (C, 4, 23)
        if len(clean) == 0:
            continue
        onehot = np.stack([parse_architecture(a).one_hot() for a in s.arch.iloc[rows]])  # (n, 92)
        inputs = np.concatenate([onehot, sig[rows]], axis=1)  # (n, 96)
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
        return Pairs(np.zeros((0, ONE_HOT_SIZE + N_LAYERS), np.float32), np.zeros((0, ONE_HOT_SIZE), np.float32),
                     np.array([], dtype=object), np.array([], int), np.array([], int))
    return Pairs(np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32),
                 np.array(tasks, dtype=object), np.concatenate(samples), np.concatenate(cleans))


class PosteriorMLP(nn.Module):
    """Thesis A.1 predictor: 96 -> 128 -> 128 -> 64 -> 92, ReLU; raw outputs (thesis) or per-layer softmax."""

    def __init__(self, softmax: bool = False):
        super().__init__()
        self.softmax = softmax
        self.net = nn.Sequential(nn.Linear(ONE_HOT_SIZE + N_LAYERS, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
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
    """Adam on the MSE over shuffled mini-batches of whole tensors (no per-sample Python loop)."""
    torch.manual_seed(seed % 2**31)
    model = PosteriorMLP(softmax)
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


@dataclass
class Experiment1:
    """Everything of one Table 3.1 run (MSE on our per-layer scale)."""

    table: pd.DataFrame  # method, group, train/test MSE mean/std, n_seeds, thesis columns
    runs: pd.DataFrame  # method, signal, seed, train_mse, test_mse
    curves: pd.DataFrame  # method, seed, epoch, split, mse
    errors: pd.DataFrame  # per test pair: method, seed, pair, task, sample, mse
    comparisons: pd.DataFrame  # a, b, unit, n, mean_diff, ci_low, ci_high, p_wilcoxon, p_ttest
    predictions: dict  # method -> (P_test, 92) prediction (seed mean for NNs)
    test: Pairs

    def task_posteriors(self, method: str) -> dict:
        """method's mean predicted posterior per test task, task -> (4, 23)."""
        p = self.predictions[method]
        return {t: p[self.test.task == t].mean(axis=0).reshape(N_LAYERS, N_OPTIONS) for t in np.unique(self.test.task)}


def default_signals(collected, primary: str | None = None) -> dict:
    """label -> signal: the thesis's two NNs ("NN + MI" uses `primary`, cfg.mi.methods[0]), then beyond ones."""
    methods = collected.methods
    primary = primary if primary in methods else (methods[0] if methods else None)
    out = {"NN + accuracy": "accuracy", "NN + MI": f"mi:{primary}" if primary else "none"}
    out.update({f"NN + MI ({m})": f"mi:{m}" for m in methods if m != primary})
    out.update({"NN + arch only": "none", "NN + accuracy (z)": "accuracy_z"})
    return out


def pair_mse(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MSE of each pair over its 92 entries, (P,)."""
    return ((np.asarray(pred, np.float64) - y) ** 2).mean(axis=1)  # (P,)


def run_experiment(cfg, collected, signals: dict | None = None, softmax: bool = False) -> Experiment1:
    """Train the NN per signal x cfg.predict.seeds and score every baseline on the same pairs (Table 3.1)."""
    pc, k = cfg.predict, cfg.hyperband.n_clean
    signals = signals or default_signals(collected, cfg.mi.methods[0])
    if collected.samples.empty or not (collected.samples.split == "test").any():
        raise ValueError("no collected input samples on test tasks: run notebook 03 (collection) first")
    first = next(iter(signals.values()))
    tr = build_pairs(collected, first, "train", k, pc.max_pairs_per_task, cfg.seed)
    te = build_pairs(collected, first, "test", k, 0, cfg.seed)
    if len(tr) == 0 or len(te) == 0:
        raise ValueError(f"no train or test pairs (train {len(tr)}, test {len(te)}): each task needs >= "
                         f"hyperband.n_clean={k} posteriors; run notebook 03 to finish the collection")
    mean_post = tr.y.mean(axis=0).reshape(N_LAYERS, N_OPTIONS)
    fixed = {"Uniform": np.full(ONE_HOT_SIZE, 1.0 / N_OPTIONS), "Fitted Gaussian": fit_gaussian(mean_post).ravel(),
             "Mean train posterior": mean_post.ravel()}
    runs, curves, errors, preds = [], [], [], {}
    meta = {"pair": np.arange(len(te)), "task": te.task, "sample": te.sample}
    for name, f in fixed.items():
        e = pair_mse(np.broadcast_to(f, te.y.shape), te.y)
        runs.append({"method": name, "signal": "", "seed": 0, "train_mse": pair_mse(np.broadcast_to(f, tr.y.shape), tr.y).mean(),
                     "test_mse": e.mean()})
        errors.append(pd.DataFrame(dict(meta, method=name, seed=0, mse=e)))
        preds[name] = np.broadcast_to(f, te.y.shape).astype(np.float32)
    for name, sig in signals.items():
        trs = build_pairs(collected, sig, "train", k, pc.max_pairs_per_task, cfg.seed)
        tes = build_pairs(collected, sig, "test", k, 0, cfg.seed)
        seed_preds = []
        for s in range(pc.seeds):
            fit = train_mlp(trs, tes, pc.epochs, pc.lr, pc.batch_size, derive_seed(cfg.seed, "predict", sig, s), softmax)
            e = pair_mse(fit.test_pred, tes.y)
            runs.append({"method": name, "signal": sig, "seed": s, "train_mse": fit.train_curve[-1], "test_mse": e.mean()})
            for split, c in (("train", fit.train_curve), ("test", fit.test_curve)):
                curves.append(pd.DataFrame({"method": name, "seed": s, "epoch": np.arange(len(c)), "split": split, "mse": c}))
            errors.append(pd.DataFrame(dict(meta, method=name, seed=s, mse=e)))
            seed_preds.append(fit.test_pred)
        preds[name] = np.mean(seed_preds, axis=0)
    runs, errors = pd.DataFrame(runs), pd.concat(errors, ignore_index=True)
    noise = noise_summary(collected, k)
    table = _table(runs, noise, signals)
    return Experiment1(table, runs, pd.concat(curves, ignore_index=True), errors,
                       _comparisons(runs, errors, te, cfg.seed), preds, te)


def _table(runs: pd.DataFrame, noise: pd.DataFrame, signals: dict) -> pd.DataFrame:
    agg = runs.groupby("method", sort=False).agg(train_mse_mean=("train_mse", "mean"), train_mse_std=("train_mse", "std"),
                                                 test_mse_mean=("test_mse", "mean"), test_mse_std=("test_mse", "std"),
                                                 n_seeds=("seed", "nunique")).reset_index()
    for kind in ("dirty", "clean"):
        agg.loc[len(agg)] = {"method": f"Noise ({kind})", "n_seeds": 1,
                             "train_mse_mean": noise[kind].get("train", np.nan), "test_mse_mean": noise[kind].get("test", np.nan)}
    agg["group"] = np.where(agg.method.isin(list(THESIS_TABLE_3_1)), "thesis", "beyond")
    agg["test_mse_thesis_scale"] = agg.test_mse_mean * THESIS_SCALE
    agg["train_mse_thesis_scale"] = agg.train_mse_mean * THESIS_SCALE
    agg["thesis_reported_train"] = agg.method.map(lambda m: THESIS_TABLE_3_1.get(m, (np.nan, np.nan))[0])
    agg["thesis_reported_test"] = agg.method.map(lambda m: THESIS_TABLE_3_1.get(m, (np.nan, np.nan))[1])
    order = ["method", "group", "train_mse_mean", "train_mse_std", "test_mse_mean", "test_mse_std", "n_seeds",
             "train_mse_thesis_scale", "test_mse_thesis_scale", "thesis_reported_train", "thesis_reported_test"]
    return agg.sort_values("group", ascending=False, kind="stable")[order].reset_index(drop=True)


def _comparisons(runs: pd.DataFrame, errors: pd.DataFrame, te: Pairs, seed: int) -> pd.DataFrame:
    rows = []
    per_pair = errors.groupby(["method", "pair"]).mse.mean().unstack("method")  # (P, methods), seed-mean
    per_seed = runs.pivot_table(index="seed", columns="method", values="test_mse")
    for a, b in (("NN + MI", "NN + accuracy"), ("NN + MI", "Fitted Gaussian"), ("NN + MI", "NN + arch only")):
        if a not in per_pair or b not in per_pair:
            continue
        t = paired_test(per_pair[a], per_pair[b], groups=te.task, seed=seed)
        rows.append(dict(a=a, b=b, unit="test pair (seed mean; CI resamples tasks)", **t.__dict__))
        sb = per_seed[b].fillna(per_seed[b].dropna().mean())  # a baseline without seeds is one constant
        t = paired_test(per_seed[a].dropna(), sb.loc[per_seed[a].dropna().index], seed=seed)
        rows.append(dict(a=a, b=b, unit="seed (mean test MSE)", **t.__dict__))
    return pd.DataFrame(rows)


def table_3_1(cfg, collected) -> pd.DataFrame:
    """The Table 3.1 analog beside the thesis's reported numbers (see run_experiment for everything else)."""
    return run_experiment(cfg, collected).table


def example_frame(exp: Experiment1, pair: int, methods: list[str]) -> pd.DataFrame:
    """Long table (source, layer, filters, p) of one test pair's target and predictions (thesis Fig. 3.3)."""
    from minas.nas.space import OPTIONS

    rows = [("target", exp.test.y[pair])] + [(m, exp.predictions[m][pair]) for m in methods]
    return pd.concat([pd.DataFrame({"source": src, "layer": np.repeat(np.arange(1, N_LAYERS + 1), N_OPTIONS),
                                    "filters": np.tile(OPTIONS, N_LAYERS), "p": np.asarray(v, np.float64)})
                      for src, v in rows], ignore_index=True)
