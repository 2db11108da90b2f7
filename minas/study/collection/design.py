"""What a collection holds, as pure functions of the config: a task's architectures, its Hyperband
instances and the collection seeds (thesis 2.1-2.2; every draw seeded by what it is for).

`collection.seeds` repeats the whole collection: collection seed i is the profile seed + i
(`seed_configs`), so every random draw, training and estimate is resampled; seed 0 is the
profile's own collection, stored under the keys it always had.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from minas import data
from minas.core.config import StudyConfig
from minas.core.seeding import rng_for
from minas.nas.space import Architecture, sample_architecture, sample_architectures


@dataclass
class BracketSpec:
    """A Hyperband instance to run: its tag (what it is for), task, instance number and inputs."""

    tag: str
    task: str
    instance: int
    archs: list[Architecture]


def n_samples(cfg: StudyConfig, task: str, split: str | None = None) -> int:
    """How many input samples (and Hyperband instances) a task gets: by its side of the meta split (`split`: the
    task's, when known without loading it, as `minas.cost` plans)."""
    split = split or data.get_task(cfg, task).split
    return cfg.collection.n_train_samples if split == "train" else cfg.collection.n_test_samples


def input_archs(cfg: StudyConfig, task: str, split: str | None = None) -> tuple[list[Architecture], list[Architecture]]:
    """(standardization architectures, input-sample architectures) of a task, seeded by name."""
    std = [sample_architecture(rng_for(cfg.seed, "standardize", task, i)) for i in range(cfg.mi.n_standardize)]
    return std, [sample_architecture(rng_for(cfg.seed, "input", task, i)) for i in range(n_samples(cfg, task, split))]


def collection_brackets(cfg: StudyConfig, task: str, split: str | None = None) -> list[BracketSpec]:
    """The Hyperband instances of a task's samples, inputs drawn uniformly (seeded by name)."""
    n_in = cfg.hyperband.n_inputs
    return [BracketSpec("collection", task, i, sample_architectures(n_in, rng_for(cfg.seed, "bracket", task, i)))
            for i in range(n_samples(cfg, task, split))]


def seed_configs(cfg: StudyConfig) -> list[StudyConfig]:
    """One config per collection seed: seed i is the profile seed + i (i = 0: `cfg` itself); nothing else differs,
    so the output folder, checkpoints folder and store are shared and every row keeps its seed in its key."""
    return [cfg] + [dataclasses.replace(cfg, seed=cfg.seed + i) for i in range(1, cfg.collection.seeds)]
