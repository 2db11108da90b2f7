"""A closed-form world for the controller: a planted best architecture, and the learning-rate sweep run on it.

Sources: Williams 1992 (REINFORCE); Kossmann 2019 (thesis) Algorithm 1. No CNN is trained: an
architecture's accuracy falls linearly with its distance (in option steps) from `TARGET`, plus a
small seeded noise per (task, architecture, epochs), at about the spread of accuracies the default
profile's Hyperband sees; Hyperband itself is the real `hyperband.run_bracket`. The right answer is
known, so a learning rate can be judged by how far the prior moves toward `TARGET` in the profile's
iterations without leaving it (`lr_sweep`, the source of params/*.yaml's controller.lr).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from minas.core import config
from minas.core.config import StudyConfig
from minas.core.seeding import derive_seed, rng_for
from minas.core.store import Store
from minas.nas import hyperband
from minas.nas.space import N_LAYERS, N_OPTIONS, Architecture, sample_architectures
from minas.study.collection import BracketSpec
from minas.study.controller.environment import Environment
from minas.study.controller.training import train_controller

TARGET = (4, 9, 14, 19)  # the rewarded option per layer
SLOPE = 0.2  # accuracy lost from the best to the farthest architecture (default profile: ~0.1-0.3)
NOISE = 0.01  # std of the seeded accuracy noise per (task, architecture, epochs)


def toy_accuracy(task: str, arch: Architecture, epochs: int) -> float:
    """0.9 - SLOPE * mean normalized distance to TARGET + seeded noise; more epochs help a little."""
    dist = np.abs(np.array(arch.indices) - np.array(TARGET)).mean() / (N_OPTIONS - 1)
    noise = np.random.default_rng(derive_seed(0, "toy", task, arch.id, epochs)).normal(0, NOISE)
    return float(0.9 - SLOPE * dist + noise) * (1 - 0.05 / epochs)


def toy_environment(cfg: StudyConfig, n_tasks: int = 10) -> Environment:
    """n_tasks identical toy tasks (t0..), Hyperband shaped as cfg.hyperband, MI features all 0."""
    hb = cfg.hyperband

    def run(specs):
        return [hyperband.run_bracket(s.archs, lambda a, e, t=s.task: toy_accuracy(t, a, e), list(hb.survivors),
                                      list(hb.epochs_per_rung), hb.lam) for s in specs]

    tasks = [f"t{i}" for i in range(n_tasks)]
    uniform = [BracketSpec("toy", t, k, sample_architectures(hb.n_inputs, rng_for(cfg.seed, "bracket", t, k)))
               for t in tasks for k in range(8)]
    hs = pd.Series([r.summed_score for r in run(uniform)], index=[s.task for s in uniform]).groupby(level=0).mean()
    # first visit: the mean HS of 8 uniform brackets of the task, as the real world's collection brackets
    return Environment(tasks, ["u0"], hb.n_inputs, cfg.seed, lambda pairs: np.zeros((len(pairs), N_LAYERS)), run,
                       first_baseline=lambda t: float(hs[t]))


def distance_to_target(prior: np.ndarray) -> float:
    """E|option - TARGET| under a (4, 23) prior, mean over layers (uniform: about 6.4 option steps)."""
    return float((prior * np.abs(np.arange(N_OPTIONS) - np.array(TARGET)[:, None])).sum(-1).mean())


def lr_sweep(cfg: StudyConfig, lrs: dict[str, list[float]], runs: int = 3, experiment: str = "exp2") -> pd.DataFrame:
    """Train on the toy world for every (optimizer, lr) and controller run; one row each.

    lrs: optimizer -> learning rates. Columns: optimizer, lr, run, dist_first, dist_last (E|option -
    TARGET| of the mean prior before the first and the last update), progress (1 - last/first),
    entropy_last (mean per-layer entropy of the last prior, nats).
    """

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = toy_environment(cfg)
        for opt, values in lrs.items():
            for lr in values:
                c = config.load(cfg.profile, output_dir=tmp, **{"controller.optimizer": opt, "controller.lr": lr,
                                                                "controller.iterations": cfg.controller.iterations,
                                                                "controller.datasets_per_iteration": cfg.controller.datasets_per_iteration})
                store = Store(Path(tmp) / f"{opt}-{lr}.sqlite")
                for r in range(runs):
                    p = train_controller(c, store, env, experiment, r).priors
                    first, last = distance_to_target(p[0]), distance_to_target(p[-1])
                    ent = float(-(p[-1] * np.log(np.clip(p[-1], 1e-12, None))).sum(-1).mean())
                    rows.append({"optimizer": opt, "lr": lr, "run": r, "dist_first": first, "dist_last": last,
                                 "progress": 1 - last / first, "entropy_last": ent})
    return pd.DataFrame(rows)
