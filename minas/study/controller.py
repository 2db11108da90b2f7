"""The REINFORCE controller that predicts Hyperband priors from an input sample (thesis Exp. 2).

Sources: Williams 1992 (REINFORCE); Kossmann 2019 (thesis) section 2.3, eq. 2.6-2.10,
Algorithm 1, Table 3.2. A policy maps an input sample (92 one-hot + 4 z-scored MI = 96)
to a prior: 4 categorical distributions over the 23 filter options. Per iteration: one
random input architecture, M random training tasks; per task the policy predicts a prior,
N Hyperband inputs are drawn (Exp 1: half from the prior, half uniform; Exp 2: all from
the prior), Hyperband runs, HS = summed output score. One scalar reward for the iteration,
R = sum_i HS_i - HS_prev(task_i) (eq. 2.7); the update minimizes R * cross entropy of the
prior-drawn inputs under their predicted priors (eq. 2.10, Adam).

Choices the thesis leaves open (documented here and in notebook 05):
- baseline of a task's first visit: the mean HS of its uniform-prior collection brackets
  (notebook 03; Exp 1 and Exp 2 see the same value), or 0 when none is stored;
- the last layer starts at zero, so the first prior is exactly uniform (thesis Fig. 3.10);
- both experiments see the same tasks and input architecture per iteration (paired);
- MI is z-scored against the task's fixed collection reference set (thesis A.4), and a
  failed estimate enters as 0 (the reference mean).
The world (MI features, Hyperband runs) is injected as an `Environment`, so tests run the
same iteration logic on a fake objective without training CNNs.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from minas.core.seeding import derive_seed, rng_for
from minas.nas.hyperband import BracketResult
from minas.nas.space import (
    N_LAYERS,
    N_OPTIONS,
    ONE_HOT_SIZE,
    OPTIONS,
    Architecture,
    from_indices,
    sample_architecture,
    sample_architectures,
)
from minas.study.collection import BracketSpec

EXPERIMENTS = {"exp1": 0.5, "exp2": 1.0}  # share of the N Hyperband inputs drawn from the prior
HIDDEN = 64  # policy hidden units (the thesis does not give its controller's size)
COLLAPSE_PROB = 0.9  # a prior has collapsed when every layer puts more than this on one option
THESIS_TABLE_3_2 = pd.DataFrame({  # thesis Table 3.2: mean hs of Hyperband output, 20 training sets
    "prior": ["uniform", "exp1", "exp2"], "thesis_mean": [0.504, 0.506, 0.463], "thesis_std": [0.014, 0.015, 0.000]})


class Policy(nn.Module):
    """MLP 96 -> 64 -> 64 -> 92, softmax per layer: an input sample to a (4, 23) prior."""

    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(ONE_HOT_SIZE + N_LAYERS, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, ONE_HOT_SIZE))
        nn.init.zeros_(self.net[-1].weight)  # start at the uniform prior
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 96) -> log-probs (B, 4, 23)
        return torch.log_softmax(self.net(x).view(-1, N_LAYERS, N_OPTIONS), dim=-1)

    def priors(self, x: np.ndarray) -> np.ndarray:
        """(B, 96) input samples -> (B, 4, 23) priors as float64 rows summing to 1."""
        with torch.no_grad():
            p = self(torch.as_tensor(np.asarray(x), dtype=torch.float32)).exp().double().numpy()
        return p / p.sum(axis=-1, keepdims=True)


def new_policy(seed: int) -> Policy:
    """A policy initialized from a seed (the same for both experiments)."""
    with torch.random.fork_rng():
        torch.manual_seed(derive_seed(seed, "controller", "init"))
        return Policy()


def input_vector(arch: Architecture, z_mi: np.ndarray) -> np.ndarray:
    """Thesis Def. 2.3: one-hot architecture (92) + standardized MI (4) -> (96,) float32."""
    z = np.nan_to_num(np.asarray(z_mi, dtype=np.float32).reshape(N_LAYERS), nan=0.0)
    return np.concatenate([arch.one_hot(), z]).astype(np.float32)


def draw_inputs(prior: np.ndarray, n: int, share: float, rng: np.random.Generator) -> tuple[list[Architecture], list[bool]]:
    """n Hyperband inputs: round(share * n) from the prior, the rest uniform; (archs, drawn_from_prior)."""
    k = int(round(share * n))
    archs = sample_architectures(k, rng, prior) + sample_architectures(n - k, rng)
    return archs, [True] * k + [False] * (n - k)


def reinforce_loss(log_probs: torch.Tensor, samples: list[list[Architecture]], reward: float) -> tuple[torch.Tensor, float]:
    """(R * CE, CE): CE = mean over tasks and samples of -sum_l log p_l(a_l); log_probs (M, 4, 23)."""
    terms = []
    for lp, archs in zip(log_probs, samples):
        if archs:
            idx = torch.tensor([a.indices for a in archs])  # (K, 4)
            terms.append(-lp[torch.arange(N_LAYERS), idx].sum(dim=1))  # (K,)
    ce = torch.cat(terms).mean() if terms else log_probs.sum() * 0.0
    return reward * ce, float(ce.detach())


def entropy(prior: np.ndarray) -> np.ndarray:
    """Per-layer entropy (nats) of a (..., 4, 23) prior; log 23 = 3.14 for uniform."""
    p = np.asarray(prior, dtype=np.float64)
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=-1)


def collapsed(prior: np.ndarray, threshold: float = COLLAPSE_PROB) -> Architecture | None:
    """The architecture a (4, 23) prior has collapsed to (max prob > threshold in every layer), else None."""
    p = np.asarray(prior)
    if (p.max(axis=-1) > threshold).all():
        return from_indices(p.argmax(axis=-1))
    return None


def _sampled_spec(tag: str, task: str, k: int, prior: np.ndarray | None, n: int, seed: int) -> BracketSpec:
    return BracketSpec(tag, task, k, sample_architectures(n, rng_for(seed, "controller-eval", tag, task, k), prior))


@dataclass
class Environment:
    """What the controller needs from the world; `store_environment` trains CNNs, tests pass fakes.

    features: (task, input architecture) pairs -> (P, 4) z-scored MI.
    run: Hyperband instances -> their results, all run together (the M brackets train in parallel).
    first_baseline: HS baseline of a task's first visit.
    eval_input: the input architecture of evaluation run k on a task.
    eval_spec: (tag, task, k, prior or None for uniform) -> the evaluation bracket.
    """

    train_tasks: list[str]
    test_tasks: list[str]
    n_inputs: int
    seed: int
    features: Callable[[list[tuple[str, Architecture]]], np.ndarray]
    run: Callable[[list[BracketSpec]], list[BracketResult]]
    first_baseline: Callable[[str], float] = lambda task: 0.0
    eval_input: Callable[[str, int], Architecture] | None = None
    eval_spec: Callable[[str, str, int, np.ndarray | None], BracketSpec] | None = None

    def __post_init__(self) -> None:
        if self.eval_input is None:
            self.eval_input = lambda task, k: sample_architecture(rng_for(self.seed, "controller-eval-input", task, k))
        if self.eval_spec is None:
            self.eval_spec = lambda tag, task, k, prior: _sampled_spec(tag, task, k, prior, self.n_inputs, self.seed)


@dataclass
class ControllerRun:
    """A trained controller: per (iteration, task) rows, per-iteration rows, mean priors, final policy."""

    experiment: str
    visits: pd.DataFrame  # iteration, task, hs, baseline, advantage
    iterations: pd.DataFrame  # iteration, reward, loss, scaled_loss, entropy_1..4, min_layer_max_prob, input_spread, resumed
    priors: np.ndarray  # (I, 4, 23) prior predicted in iteration i (before its update), mean over its M tasks
    policy: Policy

    def collapse(self) -> Architecture | None:
        """The architecture the last mean prior collapsed to, or None."""
        return collapsed(self.priors[-1]) if len(self.priors) else None


def config_hash(cfg) -> str:
    """What a controller iteration depends on (not controller.iterations: a longer run resumes a shorter one)."""
    d = cfg.to_dict()
    blob = {k: d[k] for k in ("seed", "data", "train", "mi", "hyperband", "collection")}
    blob["controller"] = {k: d["controller"][k] for k in ("lr", "datasets_per_iteration")}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:12]


def _pack(policy: Policy, opt: torch.optim.Optimizer) -> str:
    buf = io.BytesIO()
    torch.save({"policy": policy.state_dict(), "optim": opt.state_dict()}, buf)
    return base64.b64encode(buf.getvalue()).decode()


def _unpack(blob: str, policy: Policy, opt: torch.optim.Optimizer) -> None:
    state = torch.load(io.BytesIO(base64.b64decode(blob)), weights_only=True)
    policy.load_state_dict(state["policy"])
    opt.load_state_dict(state["optim"])


def iteration_plan(env: Environment, m: int, it: int) -> tuple[list[str], Architecture]:
    """The M tasks (distinct) and the input architecture of iteration `it`, seeded by it."""
    if m > len(env.train_tasks):
        raise ValueError(f"controller.datasets_per_iteration={m} exceeds the {len(env.train_tasks)} training tasks; lower it")
    tasks = list(rng_for(env.seed, "controller", "tasks", it).choice(env.train_tasks, size=m, replace=False))
    return [str(t) for t in tasks], sample_architecture(rng_for(env.seed, "controller", "input", it))


def run_iteration(env: Environment, policy: Policy, opt: torch.optim.Optimizer, experiment: str, it: int,
                  m: int, previous: dict[str, float]) -> dict:
    """One iteration of Algorithm 1: predict, sample, run Hyperband, reward, one REINFORCE step."""
    tasks, arch = iteration_plan(env, m, it)
    x = torch.as_tensor(np.stack([input_vector(arch, z) for z in env.features([(t, arch) for t in tasks])]))  # (M, 96)
    log_probs = policy(x)  # (M, 4, 23)
    priors = log_probs.detach().exp().double().numpy()
    specs, from_prior = [], []
    for task, prior in zip(tasks, priors):
        archs, flags = draw_inputs(prior / prior.sum(-1, keepdims=True), env.n_inputs, EXPERIMENTS[experiment],
                                   rng_for(env.seed, "controller", experiment, it, task))
        specs.append(BracketSpec(f"controller-{experiment}", task, it, archs))
        from_prior.append([a for a, f in zip(archs, flags) if f])
    hs = [r.summed_score for r in env.run(specs)]
    base = [previous[t] if t in previous else float(env.first_baseline(t)) for t in tasks]
    reward = float(sum(h - b for h, b in zip(hs, base)))  # thesis eq. 2.7
    opt.zero_grad()
    scaled, ce = reinforce_loss(log_probs, from_prior, reward)
    scaled.backward()
    opt.step()
    mean_prior = priors.mean(axis=0)
    return {
        "iteration": it, "tasks": tasks, "input_arch": arch.id, "features": x[:, -N_LAYERS:].tolist(),
        "inputs": [[a.id for a in s.archs] for s in specs], "n_from_prior": len(from_prior[0]),
        "hs": hs, "baseline": base, "reward": reward, "loss": ce, "scaled_loss": reward * ce,
        "priors": np.round(priors, 6).tolist(), "entropy": entropy(mean_prior).tolist(),
        "max_prob": mean_prior.max(axis=-1).tolist(),
        "input_spread": float(0.5 * np.abs(priors - mean_prior).sum(axis=-1).mean()),  # mean TV to the mean prior
        "state": _pack(policy, opt),
    }


def train_controller(cfg, store, env: Environment, experiment: str) -> ControllerRun:
    """Algorithm 1 for cfg.controller.iterations, resuming from finished iterations in the store."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown controller experiment {experiment!r}; choose one of {sorted(EXPERIMENTS)}")
    cc, kind, key = cfg.controller, f"controller-{experiment}", config_hash(cfg)
    policy = new_policy(cfg.seed)
    opt = torch.optim.Adam(policy.parameters(), lr=cc.lr)
    previous: dict[str, float] = {}
    records, pending_state = [], None
    for it in range(cc.iterations):
        rec = store.get_result(kind, str(it), key)
        resumed = rec is not None
        if resumed:
            pending_state = rec["state"]
        else:
            if pending_state is not None:
                _unpack(pending_state, policy, opt)
                pending_state = None
            rec = run_iteration(env, policy, opt, experiment, it, cc.datasets_per_iteration, previous)
            store.put_result(kind, str(it), key, rec)
        previous.update(zip(rec["tasks"], rec["hs"]))
        records.append(dict(rec, resumed=resumed, state=None))
    if pending_state is not None:
        _unpack(pending_state, policy, opt)
    return _assemble(experiment, records, policy)


def load_run(cfg, store, experiment: str) -> ControllerRun | None:
    """A finished controller run rebuilt from its stored iterations (None if none are stored)."""
    kind, key = f"controller-{experiment}", config_hash(cfg)
    records = []
    for it in range(cfg.controller.iterations):
        rec = store.get_result(kind, str(it), key)
        if rec is None:
            break
        records.append(rec)
    if not records:
        return None
    policy = new_policy(cfg.seed)
    _unpack(records[-1]["state"], policy, torch.optim.Adam(policy.parameters(), lr=cfg.controller.lr))
    return _assemble(experiment, [dict(r, resumed=True, state=None) for r in records], policy)


def _assemble(experiment: str, records: list[dict], policy: Policy) -> ControllerRun:
    visits = pd.DataFrame([{"iteration": r["iteration"], "task": t, "hs": h, "baseline": b, "advantage": h - b}
                           for r in records for t, h, b in zip(r["tasks"], r["hs"], r["baseline"])])
    its = pd.DataFrame([{"iteration": r["iteration"], "reward": r["reward"], "loss": r["loss"],
                         "scaled_loss": r["scaled_loss"], "min_layer_max_prob": min(r["max_prob"]),
                         "input_spread": r["input_spread"], "resumed": r["resumed"],
                         **{f"entropy_{l + 1}": e for l, e in enumerate(r["entropy"])}} for r in records])
    priors = np.array([np.mean(r["priors"], axis=0) for r in records]).reshape(-1, N_LAYERS, N_OPTIONS)
    return ControllerRun(experiment, visits, its, priors, policy)


def evaluate_priors(env: Environment, policies: dict[str, Policy | None], tasks: list[str], instances: int) -> pd.DataFrame:
    """Hyperband runs with every prior (None: uniform) on every task; one row per (prior, task, instance).

    avg_score is HS / survivors, the mean hs of the Hyperband output (thesis Table 3.2).
    """
    keys = [(name, t, k) for name in policies for t in tasks for k in range(instances)]
    pairs = sorted({(t, env.eval_input(t, k)) for _, t, k in keys}, key=lambda p: (p[0], p[1].id))
    feats = dict(zip(pairs, env.features(pairs))) if pairs else {}
    specs = []
    for name, t, k in keys:
        arch = env.eval_input(t, k)
        pol = policies[name]
        prior = None if pol is None else pol.priors(input_vector(arch, feats[(t, arch)])[None])[0]
        specs.append(env.eval_spec(f"controller-eval-{name}", t, k, prior))
    results = env.run(specs)
    return pd.DataFrame([{"prior": name, "task": t, "split": "test" if t in env.test_tasks else "train",
                          "instance": k, "input_arch": env.eval_input(t, k).id,
                          "hs": r.summed_score, "avg_score": r.summed_score / len(r.scores), "survivors": r.survivors}
                         for (name, t, k), r in zip(keys, results)])


def score_table(evals: pd.DataFrame) -> pd.DataFrame:
    """Per (split, prior): mean over tasks (each equally), the thesis spread (mean within-task std), std and sem across tasks."""
    per_task = evals.groupby(["split", "prior", "task"], sort=False)["avg_score"].agg(["mean", "std"]).reset_index()
    out = per_task.groupby(["split", "prior"], sort=False).agg(
        mean=("mean", "mean"), within_task_std=("std", "mean"), across_task_std=("mean", "std"), n_tasks=("task", "size"))
    out["sem"] = out["across_task_std"] / np.sqrt(out["n_tasks"])
    return out.reset_index()


def compare_to_uniform(evals: pd.DataFrame) -> pd.DataFrame:
    """Per (split, prior): paired over tasks, mean of (prior - uniform) per-task avg_score and a Wilcoxon p."""
    from scipy.stats import wilcoxon

    per_task = evals.groupby(["split", "prior", "task"])["avg_score"].mean().unstack("prior")
    rows = []
    for split, g in per_task.groupby(level="split"):
        for prior in [c for c in g.columns if c != "uniform"]:
            d = (g[prior] - g["uniform"]).dropna()
            p = wilcoxon(d).pvalue if len(d) > 1 and (d != 0).any() else np.nan
            rows.append({"split": split, "prior": prior, "diff_mean": d.mean(), "wins": int((d > 0).sum()), "n_tasks": len(d), "wilcoxon_p": p})
    return pd.DataFrame(rows)


def history_frame(runs: dict[str, ControllerRun]) -> pd.DataFrame:
    """Long table for plots: experiment, iteration, metric (loss, reward, hs, entropy_l), value."""
    parts = []
    for name, r in runs.items():
        its = r.iterations.melt("iteration", ["loss", "reward"] + [f"entropy_{l}" for l in range(1, 5)], "metric")
        parts += [its.assign(experiment=name), r.visits[["iteration", "hs"]].melt("iteration", var_name="metric").assign(experiment=name)]
    return pd.concat(parts, ignore_index=True)


def prior_frame(runs: dict[str, ControllerRun]) -> pd.DataFrame:
    """Long table of the mean prior at the first, middle and last iteration: experiment, when, layer, filters, p."""
    rows = []
    for name, r in runs.items():
        n = len(r.priors)
        for when, it in (("first", 0), ("middle", (n - 1) // 2), ("last", n - 1)):
            rows += [{"experiment": name, "when": f"{when} (it. {it + 1})", "layer": l + 1, "filters": OPTIONS[o],
                      "p": r.priors[it, l, o]} for l in range(N_LAYERS) for o in range(N_OPTIONS)]
    return pd.DataFrame(rows)


def collapse_table(runs: dict[str, ControllerRun], threshold: float = COLLAPSE_PROB) -> pd.DataFrame:
    """Per experiment: final per-layer entropies, smallest layer max-prob, collapse flag, architecture, first iteration."""
    rows = []
    for name, r in runs.items():
        first = next((i + 1 for i, p in enumerate(r.priors) if collapsed(p, threshold) is not None), None)
        arch = collapsed(r.priors[-1], threshold)
        rows.append({"experiment": name, **{f"entropy_{l + 1}": e for l, e in enumerate(entropy(r.priors[-1]))},
                     "min_max_prob": float(r.priors[-1].max(-1).min()), "collapsed": arch is not None,
                     "architecture": arch.id if arch else "", "first_collapsed_iteration": first,
                     "input_spread": float(r.iterations.input_spread.iloc[-1])})
    return pd.DataFrame(rows)


def store_environment(cfg, store, engine) -> Environment:
    """The real world: MI through the store (computed if missing), Hyperband through `collection.run_brackets`."""
    from minas import data, mi
    from minas.study import collection, jobs

    tasks = data.build_tasks(cfg)
    method, mcfg, bcfg = cfg.mi.methods[0], jobs.mi_config_hash(cfg), collection.bracket_config(cfg)

    def reference(task: str) -> list[tuple[str, str]]:  # the task's collection archs (thesis A.4 set)
        std, inputs = collection.input_archs(cfg, task)
        return [(task, a.id) for a in std + inputs]

    def raw(task: str, arch: str) -> np.ndarray:  # (4,) nats, NaN where the estimate failed
        rows = store.get_mi(task, arch, cfg.seed, method, mcfg)
        return np.array([np.nan if r["value"] is None else r["value"] for r in rows], dtype=np.float64)

    def features(pairs: list[tuple[str, Architecture]]) -> np.ndarray:
        refs = {t: reference(t) for t in dict.fromkeys(t for t, _ in pairs)}
        collection.run_input_samples(cfg, store, engine, [p for r in refs.values() for p in r] + [(t, a.id) for t, a in pairs])
        out = [mi.standardize(raw(t, a.id)[None], collection.reference_mi(cfg, store, t, method))[0] for t, a in pairs]
        return np.array(out).reshape(-1, N_LAYERS)

    def first_baseline(task: str) -> float:  # mean HS of the task's uniform-prior collection brackets
        done = [store.get_bracket("collection", task, s.instance, bcfg) for s in collection.collection_brackets(cfg, task)]
        hs = [BracketResult.from_dict(d["result"]).summed_score for d in done if d is not None]
        return float(np.mean(hs)) if hs else 0.0

    def eval_input(task: str, k: int) -> Architecture:  # the task's collection input sample k (its MI is stored)
        inputs = collection.input_archs(cfg, task)[1]
        return inputs[k % len(inputs)]

    def eval_spec(tag: str, task: str, k: int, prior: np.ndarray | None) -> BracketSpec:
        specs = collection.collection_brackets(cfg, task)
        if prior is None and k < len(specs):
            return specs[k]  # the uniform prior's runs are the collection's: already trained in notebook 03
        return _sampled_spec(tag, task, k, prior, cfg.hyperband.n_inputs, cfg.seed)

    return Environment(
        train_tasks=[t.name for t in tasks if t.split == "train"], test_tasks=[t.name for t in tasks if t.split == "test"],
        n_inputs=cfg.hyperband.n_inputs, seed=cfg.seed, features=features,
        run=lambda specs: collection.run_brackets(cfg, store, engine, specs),
        first_baseline=first_baseline, eval_input=eval_input, eval_spec=eval_spec)
