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
state, so a longer run resumes a shorter one (`records`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.progress import bar
from minas.core.seeding import rng_for
from minas.nas.space import N_LAYERS, Architecture, sample_architecture
from minas.study.collection import BracketSpec
from minas.study.controller.environment import Environment
from minas.study.controller.policy import (
    EXPERIMENTS,
    Policy,
    draw_inputs,
    entropy,
    input_vector,
    make_optimizer,
    new_policy,
    reinforce_loss,
)
from minas.study.controller.records import ControllerRun, Iteration, assemble, pack, stored_iteration, unpack


def iteration_plan(env: Environment, m: int, it: int, run: int = 0) -> tuple[list[str], Architecture]:
    """The M tasks (distinct) and the input architecture of iteration `it` of controller run `run`, seeded by both."""
    if m > len(env.train_tasks):
        raise ValueError(f"controller.datasets_per_iteration={m} exceeds the {len(env.train_tasks)} training tasks; lower it")
    tasks = list(rng_for(env.seed, "controller", "tasks", run, it).choice(env.train_tasks, size=m, replace=False))
    return [str(t) for t in tasks], sample_architecture(rng_for(env.seed, "controller", "input", run, it))


@dataclass
class _Proposal:
    """An iteration up to its Hyperband runs: the policy's priors and the instances drawn from them."""

    it: int
    tasks: list[str]
    arch: Architecture
    x: torch.Tensor  # (M, 96) policy input
    log_probs: torch.Tensor  # (M, 4, 23), with its graph (the update's gradient flows through it)
    priors: np.ndarray
    specs: list[BracketSpec]
    from_prior: list


def propose(env: Environment, policy: Policy, experiment: str, it: int, m: int, run: int = 0) -> _Proposal:
    """Algorithm 1 up to Hyperband: predict each task's prior and draw its instance's inputs."""
    tasks, arch = iteration_plan(env, m, it, run)
    x = torch.as_tensor(np.stack([input_vector(arch, z) for z in env.features([(t, arch) for t in tasks])]))  # (M, 96)
    log_probs = policy(x)  # (M, 4, 23)
    priors = log_probs.detach().exp().double().numpy()
    specs, from_prior = [], []
    for task, prior in zip(tasks, priors):
        draw = draw_inputs(prior / prior.sum(-1, keepdims=True), env.n_inputs, EXPERIMENTS[experiment],
                           rng_for(env.seed, "controller", experiment, run, it, task))
        specs.append(BracketSpec(keys.controller_kind(experiment, run), task, it, draw.archs))
        from_prior.append(draw.prior_drawn)
    return _Proposal(it, tasks, arch, x, log_probs, priors, specs, from_prior)


def finish(env: Environment, opt: torch.optim.Optimizer, p: _Proposal, hs: list[float], previous: dict[str, float],
           policy: Policy) -> Iteration:
    """Algorithm 1 after Hyperband: the reward from the instances' HS, one REINFORCE step, the iteration's record."""
    # R = HS - HS of the task's previous visit; at a task's first visit there is none, and the
    # environment's first_baseline stands in (real world: mean HS of its uniform collection brackets)
    base = [previous[t] if t in previous else float(env.first_baseline(t)) for t in p.tasks]
    reward = float(sum(h - b for h, b in zip(hs, base)))  # thesis eq. 2.7
    opt.zero_grad()
    scaled, ce = reinforce_loss(p.log_probs, p.from_prior, reward)
    scaled.backward()
    opt.step()
    mean_prior = p.priors.mean(axis=0)
    return Iteration(
        iteration=p.it, tasks=p.tasks, input_arch=p.arch.id, features=p.x[:, -N_LAYERS:].tolist(),
        inputs=[[a.id for a in s.archs] for s in p.specs], n_from_prior=len(p.from_prior[0]),
        hs=hs, baseline=base, reward=reward, loss=ce, scaled_loss=reward * ce,
        priors=np.round(p.priors, 6).tolist(), entropy=entropy(mean_prior).tolist(),
        max_prob=mean_prior.max(axis=-1).tolist(),
        input_spread=float(0.5 * np.abs(p.priors - mean_prior).sum(axis=-1).mean()),  # mean TV to the mean prior
        state=pack(policy, opt))


def run_iteration(env: Environment, policy: Policy, opt: torch.optim.Optimizer, experiment: str, it: int,
                  m: int, previous: dict[str, float], run: int = 0) -> Iteration:
    """One iteration of Algorithm 1: predict, sample, run Hyperband, reward, one REINFORCE step."""
    p = propose(env, policy, experiment, it, m, run)
    return finish(env, opt, p, [r.summed_score for r in env.run(p.specs)], previous, policy)


class _Run:
    """One controller run (experiment, run) advanced an iteration at a time, from the store where it is there."""

    def __init__(self, cfg: StudyConfig, store, env: Environment, experiment: str, run: int):
        if experiment not in EXPERIMENTS:
            raise ValueError(f"unknown controller experiment {experiment!r}; choose one of {sorted(EXPERIMENTS)}")
        self.cfg, self.store, self.env, self.experiment, self.run = cfg, store, env, experiment, run
        self.kind, self.key = keys.controller_kind(experiment, run), keys.controller_key(cfg)
        self.policy = new_policy(cfg.seed, run)
        self.opt = make_optimizer(self.policy, cfg.controller)
        self.previous: dict[str, float] = {}
        self.done: list[Iteration] = []
        self.resumed: list[bool] = []
        self.pending_state: str | None = None

    def _keep(self, rec: Iteration, stored: bool) -> None:
        self.previous.update(zip(rec.tasks, rec.hs))
        self.done.append(dataclasses.replace(rec, state=None))
        self.resumed.append(stored)

    def from_store(self, it: int) -> bool:
        """Take iteration `it` from the store when it is there."""
        stored = stored_iteration(self.store, self.kind, it, self.key)
        if stored is None:
            return False
        rec = Iteration.from_dict(stored)
        self.pending_state = rec.state
        self._keep(rec, True)
        return True

    def propose(self, it: int) -> _Proposal:
        if self.pending_state is not None:
            unpack(self.pending_state, self.policy, self.opt)
            self.pending_state = None
        return propose(self.env, self.policy, self.experiment, it, self.cfg.controller.datasets_per_iteration, self.run)

    def finish(self, p: _Proposal, hs: list[float]) -> None:
        rec = finish(self.env, self.opt, p, hs, self.previous, self.policy)
        self.store.put_result(self.kind, str(p.it), self.key, rec.to_dict())
        self._keep(rec, False)

    def result(self) -> ControllerRun:
        if self.pending_state is not None:
            unpack(self.pending_state, self.policy, self.opt)
        return assemble(self.experiment, self.done, self.resumed, self.policy)


def planned_inputs(env: Environment, cfg: StudyConfig, runs: list[tuple[str, int]]) -> list[tuple[str, Architecture]]:
    """Every (task, input architecture) the runs' iterations will read features of: fixed in advance by
    `iteration_plan` (it depends on the run and the iteration only), so they can be computed as one pool."""
    m = cfg.controller.datasets_per_iteration
    pairs = []
    for run in sorted({r for _, r in runs}):
        for it in range(cfg.controller.iterations):
            tasks, arch = iteration_plan(env, m, it, run)
            pairs += [(t, arch) for t in tasks]
    return list(dict.fromkeys(pairs))


def train_controllers(cfg: StudyConfig, store, env: Environment,
                      runs: list[tuple[str, int]] | None = None) -> dict[tuple[str, int], ControllerRun]:
    """Algorithm 1 for cfg.controller.iterations in every (experiment, controller run) (default: every experiment
    x cfg.controller.seeds), side by side, resuming from finished iterations in the store.

    Every input sample the runs will need is computed first, as one pool of jobs (`planned_inputs`). Then the runs
    advance in step: iteration `it` of every run draws its instances from its own policy, all of them run as one
    call of `env.run` (so the engine keeps every worker busy and can pool their trainings), and each run takes its
    own REINFORCE step. Each run's numbers are those it gets alone (`train_controller`): its draws, rewards and
    updates depend on its own policy and seeds only.
    """
    runs = runs if runs is not None else [(e, s) for s in range(cfg.controller.seeds) for e in EXPERIMENTS]
    states = [_Run(cfg, store, env, e, s) for e, s in runs]
    cc = cfg.controller
    todo = [(st.run, it) for st in states for it in range(cc.iterations)
            if stored_iteration(store, st.kind, it, st.key) is None]
    if todo:
        pairs = planned_inputs(env, cfg, [(st.experiment, st.run) for st in states])
        env.features(pairs)  # computes the missing input samples (MI) as one pool; read back per iteration
    names = ", ".join(f"{e} run {s}" for e, s in runs)
    outer = bar(cc.iterations * len(states), f"controller ({names}): iterations", unit="it")
    for it in range(cc.iterations):
        proposals = [(st, st.propose(it)) for st in states if not st.from_store(it)]
        outer.update(len(states) - len(proposals))
        if proposals:
            results = env.run([spec for _, p in proposals for spec in p.specs])
            at = 0
            for st, p in proposals:
                st.finish(p, [r.summed_score for r in results[at : at + len(p.specs)]])
                at += len(p.specs)
                outer.update(1)
    outer.close()
    return {(st.experiment, st.run): st.result() for st in states}


def train_controller(cfg: StudyConfig, store, env: Environment, experiment: str, run: int = 0) -> ControllerRun:
    """Algorithm 1 for cfg.controller.iterations (controller run `run`), resuming from finished iterations in the store."""
    return train_controllers(cfg, store, env, [(experiment, run)])[(experiment, run)]
