"""A controller run's records: each finished iteration of Algorithm 1 as the store keeps it (with the policy's and
optimizer's state, so a longer run resumes a shorter one), and a finished run rebuilt from them for notebook 06.

Source: Kossmann 2019 (thesis) section 2.3, Algorithm 1; the key of an iteration is `keys.controller_key` under the
store kind `keys.controller_kind(experiment, run)`.
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
from minas.nas.space import N_LAYERS, N_OPTIONS, Architecture
from minas.study.controller.policy import Policy, collapsed, make_optimizer, new_policy


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


def stored_iteration(store, kind: str, it: int, key: str) -> dict | None:
    """Stored iteration `it` of a run (`keys.controller_kind`) under its `keys.controller_key`, or None."""
    return store.get_result(kind, str(it), key)


def pack(policy: Policy, opt: torch.optim.Optimizer) -> str:
    """The policy's and optimizer's state as base64 text (an iteration's `state`)."""
    buf = io.BytesIO()
    torch.save({"policy": policy.state_dict(), "optim": opt.state_dict()}, buf)
    return base64.b64encode(buf.getvalue()).decode()


def unpack(blob: str, policy: Policy, opt: torch.optim.Optimizer) -> None:
    """Load a `pack`ed state into the policy and its optimizer."""
    state = torch.load(io.BytesIO(base64.b64decode(blob)), weights_only=True)
    policy.load_state_dict(state["policy"])
    opt.load_state_dict(state["optim"])


def load_run(cfg: StudyConfig, store, experiment: str, run: int = 0) -> ControllerRun | None:
    """A finished controller run rebuilt from its stored iterations (None if none are stored)."""
    kind, key = keys.controller_kind(experiment, run), keys.controller_key(cfg)
    records = []
    for it in range(cfg.controller.iterations):
        stored = stored_iteration(store, kind, it, key)
        if stored is None:
            break
        records.append(Iteration.from_dict(stored))
    if not records:
        return None
    policy = new_policy(cfg.seed, run)
    unpack(records[-1].state, policy, make_optimizer(policy, cfg.controller))
    return assemble(experiment, [dataclasses.replace(r, state=None) for r in records], [True] * len(records), policy)


def assemble(experiment: str, records: list[Iteration], resumed: list[bool], policy: Policy) -> ControllerRun:
    """A run's tables from its iteration records (`resumed`: which were read from the store)."""
    visits = pd.DataFrame([{"iteration": r.iteration, "task": t, "hs": h, "baseline": b, "advantage": h - b}
                           for r in records for t, h, b in zip(r.tasks, r.hs, r.baseline)])
    its = pd.DataFrame([{"iteration": r.iteration, "reward": r.reward, "loss": r.loss,
                         "scaled_loss": r.scaled_loss, "min_layer_max_prob": min(r.max_prob),
                         "input_spread": r.input_spread, "resumed": res,
                         **{f"entropy_{l + 1}": e for l, e in enumerate(r.entropy)}} for r, res in zip(records, resumed)])
    priors = np.array([np.mean(r.priors, axis=0) for r in records]).reshape(-1, N_LAYERS, N_OPTIONS)
    return ControllerRun(experiment, visits, its, priors, policy)
