"""The controller's world: MI features of input samples and Hyperband runs, injected as an `Environment`.

Source: Kossmann 2019 (thesis) section 2.3 and A.4. `store_environment` is the real world (MI
through the store, Hyperband through the collection's bracket runner); tests pass a fake one, so
the same iteration logic runs on a closed-form objective without training CNNs. Choices the thesis
leaves open: a task's first-visit baseline is the mean HS of its uniform-prior collection brackets
(notebook 03), or 0 when none is stored; MI is z-scored against the task's fixed collection
reference set (thesis A.4), and a failed estimate enters as 0 (the reference mean).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from minas import data, mi
from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.seeding import rng_for
from minas.nas.hyperband import BracketResult
from minas.nas.space import N_LAYERS, Architecture, sample_architecture
from minas.study import collection
from minas.study.collection import BracketSpec
from minas.study.controller.policy import paired_draw


def paired_spec(tag: str, task: str, k: int, prior: np.ndarray | None, share: float, n: int, seed: int) -> BracketSpec:
    """Evaluation bracket k of a task: n inputs, round(share * n) from `prior` (None: uniform), the rest uniform.

    Common random numbers: the draw is seeded by (task, k) only, as the collection's bracket k
    (`collection.collection_brackets`), so every prior and every controller run sees the same
    uniforms (`policy.paired_draw`), and the uniform prior's bracket k is the collection's. Hyperband's
    trainings are keyed by (task, architecture, seed), so an architecture two priors share is trained once.
    """
    return BracketSpec(tag, task, k, paired_draw(prior, n, share, rng_for(seed, "bracket", task, k)).archs)


@dataclass
class Environment:
    """What the controller needs from the world; `store_environment` trains CNNs, tests pass fakes.

    features: (task, input architecture) pairs -> (P, N_LAYERS) z-scored MI.
    run: Hyperband instances -> their results, all run together (the M brackets train in parallel).
    first_baseline: HS baseline of a task's first visit.
    eval_input: the input architecture of evaluation run k on a task.
    eval_spec: (tag, task, k, prior or None for uniform, share from the prior) -> the evaluation bracket.
    """

    train_tasks: list[str]
    test_tasks: list[str]
    n_inputs: int
    seed: int
    features: Callable[[list[tuple[str, Architecture]]], np.ndarray]
    run: Callable[[list[BracketSpec]], list[BracketResult]]
    first_baseline: Callable[[str], float] = lambda task: 0.0
    eval_input: Callable[[str, int], Architecture] | None = None
    eval_spec: Callable[[str, str, int, np.ndarray | None, float], BracketSpec] | None = None

    def __post_init__(self) -> None:
        if self.eval_input is None:
            self.eval_input = lambda task, k: sample_architecture(rng_for(self.seed, "controller-eval-input", task, k))
        if self.eval_spec is None:
            self.eval_spec = lambda tag, task, k, prior, share=1.0: paired_spec(tag, task, k, prior, share, self.n_inputs, self.seed)


def store_environment(cfg: StudyConfig, store, engine) -> Environment:
    """The real world: the first signal through the store (computed if missing), Hyperband through `collection.run_brackets`."""
    tasks = data.build_tasks(cfg)
    signal, signal_key, bracket_key = cfg.mi.signals[0], keys.signal_key(cfg), keys.bracket_key(cfg)

    def reference(task: str) -> list[tuple[str, str]]:  # the task's collection archs (thesis A.4 set)
        std, inputs = collection.input_archs(cfg, task)
        return [(task, a.id) for a in std + inputs]

    def raw(task: str, arch: str) -> np.ndarray:  # (N_LAYERS,) nats, NaN where the estimate failed
        rows = store.get_signals(task, arch, cfg.seed, signal, signal_key)
        return np.array([np.nan if r["value"] is None else r["value"] for r in rows], dtype=np.float64)

    def features(pairs: list[tuple[str, Architecture]]) -> np.ndarray:
        refs = {t: reference(t) for t in dict.fromkeys(t for t, _ in pairs)}
        collection.run_input_samples(cfg, store, engine, [p for r in refs.values() for p in r] + [(t, a.id) for t, a in pairs])
        out = [mi.standardize(raw(t, a.id)[None], collection.reference_signals(cfg, store, t, signal))[0] for t, a in pairs]
        return np.array(out).reshape(-1, N_LAYERS)

    def first_baseline(task: str) -> float:  # mean HS of the task's uniform-prior collection brackets
        done = [store.get_bracket("collection", task, s.instance, bracket_key) for s in collection.collection_brackets(cfg, task)]
        hs = [BracketResult.from_dict(d["result"]).summed_score for d in done if d is not None]
        return float(np.mean(hs)) if hs else 0.0

    def eval_input(task: str, k: int) -> Architecture:  # the task's collection input sample k (its MI is stored)
        inputs = collection.input_archs(cfg, task)[1]
        return inputs[k % len(inputs)]

    def eval_spec(tag: str, task: str, k: int, prior: np.ndarray | None, share: float = 1.0) -> BracketSpec:
        specs = collection.collection_brackets(cfg, task)
        if prior is None and k < len(specs):
            return specs[k]  # the same draw as paired_spec's (CRN), already trained in notebook 03
        return paired_spec(tag, task, k, prior, share, cfg.hyperband.n_inputs, cfg.seed)

    return Environment(
        train_tasks=[t.name for t in tasks if t.split == "train"], test_tasks=[t.name for t in tasks if t.split == "test"],
        n_inputs=cfg.hyperband.n_inputs, seed=cfg.seed, features=features,
        run=lambda specs: collection.run_brackets(cfg, store, engine, specs),
        first_baseline=first_baseline, eval_input=eval_input, eval_spec=eval_spec)
