"""Notebook 05: the controller's Hyperband instances, counted as the job requests its code makes, not run.

The controller code runs against a counting `Environment` (thesis Algorithm 1 through `controller.propose`, Table 3.2
through `controller.evaluate_runs`): its features are zeros and its `run` records the instances asked for instead of
training them. Then, as `collection.run_brackets` would: an instance stored by notebook 03 (the uniform prior's
evaluation brackets are the collection's) costs nothing, a first-rung training of an architecture already trained on
that task (by 03's instances or an earlier request) is read back, and every later rung trains its survivors. The
input samples are `controller.planned_inputs` (trained to convergence with every signal). The priors are those of
untrained policies: near uniform, so on common random numbers (`controller.paired_spec`) their draws are mostly 03's
own, which is also what the default run's trained priors were (entropy 3.13 of log 23 = 3.14 nats per layer,
tables/05_controller_collapse.csv of docs/measurements/cpu-2026-12-06/default); a prior that training concentrates
draws other architectures, and more repeats among them.
"""
from __future__ import annotations

import numpy as np

from minas.core.config import StudyConfig
from minas.cost.counts import counts, signal_rows
from minas.cost.work import Work
from minas.data.task import TaskShape
from minas.nas.hyperband import BracketResult
from minas.nas.space import N_LAYERS
from minas.study import collection
from minas.study import controller as ctl
from minas.study.controller.training import propose

_RESULT = BracketResult(inputs=[], survivors=[], scores=[0.0], accuracies=[], rows=[], budget_epochs=0)


def requests(cfg: StudyConfig, shapes: list[TaskShape]) -> tuple[list, list]:
    """(input-sample (task, architecture) pairs, Hyperband instances) that notebook 05 asks for, in order."""
    hb, cc = cfg.hyperband, cfg.controller
    split = {s.name: s.split for s in shapes}
    brackets = {t: collection.collection_brackets(cfg, t, sp) for t, sp in split.items()}
    asked: list = []

    inputs = {t: collection.input_archs(cfg, t, sp)[1] for t, sp in split.items()}

    def eval_input(task: str, k: int):  # as `store_environment`: the task's collection input sample k
        return inputs[task][k % len(inputs[task])]

    def eval_spec(tag: str, task: str, k: int, prior, share: float = 1.0):  # as `store_environment`
        if prior is None and k < len(brackets[task]):
            return brackets[task][k]
        return ctl.paired_spec(tag, task, k, prior, share, hb.n_inputs, cfg.seed)

    def run(specs: list) -> list:
        asked.extend(specs)
        return [_RESULT] * len(specs)

    env = ctl.Environment([t for t, sp in split.items() if sp == "train"], [t for t, sp in split.items() if sp == "test"],
                          hb.n_inputs, cfg.seed, features=lambda pairs: np.zeros((len(pairs), N_LAYERS)), run=run,
                          eval_input=eval_input, eval_spec=eval_spec)
    runs = [(e, s) for s in range(cc.seeds) for e in ctl.EXPERIMENTS]
    policies = {r: ctl.new_policy(cfg.seed, r[1]) for r in runs}
    for it in range(cc.iterations):  # train_controllers: every run's iteration `it` in one call
        env.run([spec for (e, s) in runs
                 for spec in propose(env, policies[(e, s)], e, it, cc.datasets_per_iteration, s).specs])
    trained = {r: ctl.ControllerRun(r[0], None, None, None, policies[r]) for r in runs}
    ctl.evaluate_runs(env, trained, env.train_tasks + env.test_tasks, cc.eval_instances)
    return ctl.planned_inputs(env, cfg, runs), asked


@counts("05_controller_training")
def controller_training(cfg: StudyConfig, shapes: list[TaskShape], w: Work) -> None:
    """Notebook 05's input samples and the Hyperband trainings its instances add to the store."""
    w.parallel = True
    by_name = {s.name: s for s in shapes}
    pairs, asked = requests(cfg, shapes)
    for task, _ in pairs:
        w.converge(cfg, by_name[task])
        w.signals(cfg.mi.signals, signal_rows(cfg, by_name[task]))
    seen = {t: {a.id for b in collection.collection_brackets(cfg, t, s.split) for a in b.archs} for t, s in by_name.items()}
    for spec in asked:
        w.controller_instances += 1
        if spec.tag == "collection":
            continue  # notebook 03's instance, read back from the store
        ids = {a.id for a in spec.archs}
        w.hyperband(cfg, by_name[spec.task], len(ids), stored=len(ids & seen[spec.task]))
        seen[spec.task] |= ids
