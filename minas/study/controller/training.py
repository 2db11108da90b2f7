"""The controller's training loop: thesis Algorithm 1, one stored, resumable iteration at a time.

Sources: Williams 1992 (REINFORCE); Kossmann 2019 (thesis) section 2.3, eq. 2.7-2.10, Algorithm 1.
Per iteration: one random input architecture, M random training tasks; per task the policy
predicts a prior, N Hyperband inputs are drawn (Exp 1: half from the prior, half uniform; Exp 2:
all from the prior), Hyperband runs, HS = summed output score. One scalar reward for the
iteration, R = sum_i HS_i - HS_prev(task_i) (eq. 2.7); the update is Algorithm 1's plain gradient
step on R * cross entropy of the prior-drawn inputs under their predicted priors (eq. 2.10), i.e.
theta <- theta - lr * R * grad CE, so the step grows with |R| (`controller.optimizer: adam` takes
an Adam step on the same objective instead, which normalizes the size of R away). A task's first
visit has no previous HS: the environment's `first_baseline` stands in (not in the thesis). Both
experiments see the same tasks and input architecture per iteration (paired). `controller.seeds`
independent runs per experiment differ in policy init, tasks, input architectures and draws (run 0
is the one notebook 06 reads). Each finished iteration is stored with the policy's and optimizer's
state, so a longer run resumes a shorter one.
"""
from __future__ import annotations

import base64
import dataclasses
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.progress import bar
from minas.core.seeding import rng_for
from minas.nas.space import N_LAYERS, N_OPTIONS, Architecture, sample_architecture
from minas.study.collection import BracketSpec
from minas.study.controller.environment import Environment
from minas.study.controller.policy import (
    EXPERIMENTS,
    Policy,
    collapsed,
    draw_inputs,
    entropy,
    input_vector,
    new_policy,
    reinforce_loss,
)


@dataclass
class Iteration:
    """One finished iteration of Algorithm 1, stored as a dict (`to_dict`) under (controller-<exp>, it, config)."""

    iteration: int
    tasks: list[str]  # the M training tasks
    input_arch: str  # id of the iteration's input architecture
    features: list[list[float]]  # (M, N_LAYERS) z-scored MI fed to the policy
    inputs: list[list[str]]  # (M, N) Hyperband input architecture ids
    n_from_prior: int  # of the N inputs per run, how many the prior drew
    hs: list[float]  # (M,) summed Hyperband output score per task
    baseline: list[float]  # (M,) HS of each task's previous visit
    reward: float  # sum_i HS_i - baseline_i (eq. 2.7)
    loss: float  # cross entropy of the prior-drawn inputs, before scaling by the reward
    scaled_loss: float  # reward * loss, the minimized objective
    priors: list  # (M, N_LAYERS, N_OPTIONS) predicted priors, 6 decimals
    entropy: list[float]  # (N_LAYERS,) per-layer entropy of the mean prior, nats
    max_prob: list[float]  # (N_LAYERS,) per-layer largest probability of the mean prior
    input_spread: float  # mean total-variation distance of a task's prior to the mean prior
    state: str | None  # base64 policy and optimizer state after the update (None once loaded)

    def to_dict(self) -> dict:
        """The JSON-able record the store keeps."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Iteration":
        """An iteration from its stored record (extra keys are ignored)."""
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})


@dataclass
class ControllerRun:
    """A trained controller: per (iteration, task) rows, per-iteration rows, mean priors, final policy."""

    experiment: str
    visits: pd.DataFrame  # iteration, task, hs, baseline, advantage
    iterations: pd.DataFrame  # iteration, reward, loss, scaled_loss, entropy_1..N_LAYERS, min_layer_max_prob, input_spread, resumed
    priors: np.ndarray  # (I, N_LAYERS, N_OPTIONS) prior predicted in iteration i (before its update), mean over its M tasks
    policy: Policy

    def collapse(self) -> Architecture | None:
        """The architecture the last mean prior collapsed to, or None."""
        return collapsed(self.priors[-1]) if len(self.priors) else None


def _stored(store, kind: str, it: int, both: tuple[str, str]) -> tuple[dict | None, str]:
    """(stored iteration `it`, the key it was under): `keys.controller_keys` gives the key, then the old one."""
    for key in both:
        found = store.get_result(kind, str(it), key)
        if found is not None:
            return found, key
    return None, both[0]


def run_kind(experiment: str, run: int = 0) -> str:
    """The store kind of a controller run's iterations: controller-<exp> for run 0, controller-<exp>-s<run> else."""
    return f"controller-{experiment}" + (f"-s{run}" if run else "")


def make_optimizer(policy: Policy, cc) -> torch.optim.Optimizer:
    """controller.optimizer: plain SGD (thesis Algorithm 1: theta -= lr * R * grad CE) or Adam, at controller.lr."""
    if cc.optimizer == "sgd":
        return torch.optim.SGD(policy.parameters(), lr=cc.lr)
    return torch.optim.Adam(policy.parameters(), lr=cc.lr)


def _pack(policy: Policy, opt: torch.optim.Optimizer) -> str:
    buf = io.BytesIO()
    torch.save({"policy": policy.state_dict(), "optim": opt.state_dict()}, buf)
    return base64.b64encode(buf.getvalue()).decode()


def _unpack(blob: str, policy: Policy, opt: torch.optim.Optimizer) -> None:
    state = torch.load(io.BytesIO(base64.b64decode(blob)), weights_only=True)
    policy.load_state_dict(state["policy"])
    opt.load_state_dict(state["optim"])


def iteration_plan(env: Environment, m: int, it: int, run: int = 0) -> tuple[list[str], Architecture]:
    """The M tasks (distinct) and the input architecture of iteration `it` of controller run `run`, seeded by both."""
    if m > len(env.train_tasks):
        raise ValueError(f"controller.datasets_per_iteration={m} exceeds the {len(env.train_tasks)} training tasks; lower it")
    tasks = list(rng_for(env.seed, "controller", "tasks", run, it).choice(env.train_tasks, size=m, replace=False))
    return [str(t) for t in tasks], sample_architecture(rng_for(env.seed, "controller", "input", run, it))


def run_iteration(env: Environment, policy: Policy, opt: torch.optim.Optimizer, experiment: str, it: int,
                  m: int, previous: dict[str, float], run: int = 0) -> Iteration:
    """One iteration of Algorithm 1: predict, sample, run Hyperband, reward, one REINFORCE step."""
    tasks, arch = iteration_plan(env, m, it, run)
    x = torch.as_tensor(np.stack([input_vector(arch, z) for z in env.features([(t, arch) for t in tasks])]))  # (M, 96)
    log_probs = policy(x)  # (M, 4, 23)
    priors = log_probs.detach().exp().double().numpy()
    specs, from_prior = [], []
    for task, prior in zip(tasks, priors):
        draw = draw_inputs(prior / prior.sum(-1, keepdims=True), env.n_inputs, EXPERIMENTS[experiment],
                           rng_for(env.seed, "controller", experiment, run, it, task))
        specs.append(BracketSpec(run_kind(experiment, run), task, it, draw.archs))
        from_prior.append(draw.prior_drawn)
    hs = [r.summed_score for r in env.run(specs)]
    # R = HS - HS of the task's previous visit; at a task's first visit there is none, and the
    # environment's first_baseline stands in (real world: mean HS of its uniform collection brackets)
    base = [previous[t] if t in previous else float(env.first_baseline(t)) for t in tasks]
    reward = float(sum(h - b for h, b in zip(hs, base)))  # thesis eq. 2.7
    opt.zero_grad()
    scaled, ce = reinforce_loss(log_probs, from_prior, reward)
    scaled.backward()
    opt.step()
    mean_prior = priors.mean(axis=0)
    return Iteration(
        iteration=it, tasks=tasks, input_arch=arch.id, features=x[:, -N_LAYERS:].tolist(),
        inputs=[[a.id for a in s.archs] for s in specs], n_from_prior=len(from_prior[0]),
        hs=hs, baseline=base, reward=reward, loss=ce, scaled_loss=reward * ce,
        priors=np.round(priors, 6).tolist(), entropy=entropy(mean_prior).tolist(),
        max_prob=mean_prior.max(axis=-1).tolist(),
        input_spread=float(0.5 * np.abs(priors - mean_prior).sum(axis=-1).mean()),  # mean TV to the mean prior
        state=_pack(policy, opt))


def train_controller(cfg: StudyConfig, store, env: Environment, experiment: str, run: int = 0) -> ControllerRun:
    """Algorithm 1 for cfg.controller.iterations (controller run `run`), resuming from finished iterations in the store."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown controller experiment {experiment!r}; choose one of {sorted(EXPERIMENTS)}")
    cc, kind, both = cfg.controller, run_kind(experiment, run), keys.controller_keys(cfg)
    policy = new_policy(cfg.seed, run)
    opt = make_optimizer(policy, cc)
    previous: dict[str, float] = {}
    done, resumed, pending_state = [], [], None
    outer = bar(cc.iterations, f"controller {experiment} run {run}: iterations", unit="it")
    for it in range(cc.iterations):
        stored, under = _stored(store, kind, it, both)
        if stored is not None:
            rec = Iteration.from_dict(stored)
            pending_state = rec.state
            if under != both[0]:  # stored under the old key: carried to the new one as the run resumes
                store.put_result(kind, str(it), both[0], stored)
        else:
            if pending_state is not None:
                _unpack(pending_state, policy, opt)
                pending_state = None
            rec = run_iteration(env, policy, opt, experiment, it, cc.datasets_per_iteration, previous, run)
            store.put_result(kind, str(it), both[0], rec.to_dict())
        previous.update(zip(rec.tasks, rec.hs))
        done.append(dataclasses.replace(rec, state=None))
        resumed.append(stored is not None)
        outer.update(1)
    outer.close()
    if pending_state is not None:
        _unpack(pending_state, policy, opt)
    return _assemble(experiment, done, resumed, policy)


def train_controllers(cfg: StudyConfig, store, env: Environment) -> dict[tuple[str, int], ControllerRun]:
    """Every experiment x controller run (cfg.controller.seeds): (experiment, run) -> ControllerRun."""
    return {(e, s): train_controller(cfg, store, env, e, s) for s in range(cfg.controller.seeds) for e in EXPERIMENTS}


def load_run(cfg: StudyConfig, store, experiment: str, run: int = 0) -> ControllerRun | None:
    """A finished controller run rebuilt from its stored iterations (None if none are stored)."""
    kind, both = run_kind(experiment, run), keys.controller_keys(cfg)
    records = []
    for it in range(cfg.controller.iterations):
        stored, _ = _stored(store, kind, it, both)
        if stored is None:
            break
        records.append(Iteration.from_dict(stored))
    if not records:
        return None
    policy = new_policy(cfg.seed, run)
    _unpack(records[-1].state, policy, make_optimizer(policy, cfg.controller))
    return _assemble(experiment, [dataclasses.replace(r, state=None) for r in records], [True] * len(records), policy)


def _assemble(experiment: str, records: list[Iteration], resumed: list[bool], policy: Policy) -> ControllerRun:
    visits = pd.DataFrame([{"iteration": r.iteration, "task": t, "hs": h, "baseline": b, "advantage": h - b}
                           for r in records for t, h, b in zip(r.tasks, r.hs, r.baseline)])
    its = pd.DataFrame([{"iteration": r.iteration, "reward": r.reward, "loss": r.loss,
                         "scaled_loss": r.scaled_loss, "min_layer_max_prob": min(r.max_prob),
                         "input_spread": r.input_spread, "resumed": res,
                         **{f"entropy_{l + 1}": e for l, e in enumerate(r.entropy)}} for r, res in zip(records, resumed)])
    priors = np.array([np.mean(r.priors, axis=0) for r in records]).reshape(-1, N_LAYERS, N_OPTIONS)
    return ControllerRun(experiment, visits, its, priors, policy)
