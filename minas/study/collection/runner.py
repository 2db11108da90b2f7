"""Running a collection through the engine (notebook 03; thesis 2.1-2.2, A.5).

Input samples are one job each (train to convergence, then every signal). Hyperband instances run
together rung by rung: a rung asks for the trainings it lacks, stored ones are fed back at once, and a
training several instances want is one job. Every finished training goes to the store before anything
else happens, so a killed run loses at most the jobs in flight.

With `train.group_size` other than 1, trainings that are asked for together are trained as populations
(`minas.nas.population`: one step for a group of networks, each as if alone): the input samples' convergence
trainings of a task (their signals stay one job each), and the trainings of one task and epoch count that the
Hyperband rungs ask for at once (every instance's first rung together, then each rung as it closes), sorted by
width so that padding stays low (`population.group_architectures`). Which trainings share a group depends on
what is stored and, on a Dask cluster, on the order rungs close; a group's results equal separate trainings
to float noise (exactly in float64), and the store keeps the first result of each training.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from minas import data
from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.engine import Engine, Job
from minas.core.progress import bar
from minas.core.store import Store
from minas.nas import hyperband, population
from minas.nas.device import pick_device
from minas.nas.space import parse_architecture
from minas.study import jobs
from minas.study.collection.columns import signal_layers
from minas.study.collection.design import BracketSpec, collection_brackets, input_archs, seed_configs

_ANNOUNCED: set[str] = set()  # dashboard links already printed by this process


def _announce(engine: Engine) -> None:
    """Start the engine and say once where its Dask dashboard is (live workers, tasks, memory)."""
    engine.start()
    link = getattr(engine.client, "dashboard_link", None)
    if link and link not in _ANNOUNCED:
        _ANNOUNCED.add(link)
        print(f"Dask dashboard: {link}", file=sys.stderr)


@contextmanager
def _own_bar(engine: Engine):
    """Silence the engine's bar while a caller shows its own (with a total fixed at the start)."""
    shown, engine.progress = engine.progress, False
    try:
        yield shown
    finally:
        engine.progress = shown


def groups_for(cfg: StudyConfig, arch_ids: list[str]) -> list[list[int]]:
    """Indices of `arch_ids` (trainings of one task asked for together) in the populations they train as
    (`population.groups_for` at train.group_size on the configured device)."""
    return population.groups_for([parse_architecture(a) for a in arch_ids], cfg.train.group_size, pick_device(cfg.device))


def run_input_samples(cfg: StudyConfig, store: Store, engine: Engine, pairs: list[tuple[str, str]]) -> int:
    """Make sure every (task, arch) has a converged training and every configured signal; returns the jobs run.

    With train.group_size other than 1, the convergence trainings still to do are trained as populations per
    task first (`jobs.converge_group`); each architecture's signals then run as its own job."""
    todo = {}
    signals = tuple(cfg.mi.signals)
    signal_key = keys.signal_key(cfg)
    for task, arch in dict.fromkeys(pairs):
        missing = tuple(s for s in signals if len(store.get_signals(task, arch, cfg.seed, s, signal_key)) < len(signal_layers(s)))
        if missing:
            todo[(task, arch)] = Job(f"input|{task}|{arch}|{cfg.seed}|{signal_key}|{','.join(missing)}", jobs.input_sample,
                                     (cfg, task, arch, missing))
    training_key = keys.training_key(cfg)
    first: list[Job] = list(todo.values())
    if population.trains_in_groups(cfg.train.group_size) and todo:
        untrained: dict[str, list[str]] = {}
        for task, arch in todo:
            stored = store.get_training(task, arch, cfg.seed, 0, training_key, kind="converge") is not None
            if not stored and not jobs.has_converged(cfg, task, arch):
                untrained.setdefault(task, []).append(arch)
        grouped = [(task, [archs[i] for i in g]) for task, archs in untrained.items()
                   for g in groups_for(cfg, archs) if len(g) > 1]
        waiting = {(task, a) for task, g in grouped for a in g}
        first = [Job(f"converge|{task}|{','.join(g)}|{cfg.seed}|{training_key}", jobs.converge_group, (cfg, task, g), {"task": task})
                 for task, g in grouped] + [job for pair, job in todo.items() if pair not in waiting]

    def after(job: Job, result) -> list[Job]:  # a population converged: its members' signals are next
        return [todo[(job.meta["task"], a)] for a in result] if job.fn is jobs.converge_group else []

    if todo:
        _announce(engine)
    with _own_bar(engine) as shown, bar(len(todo), "input samples (train + signals)", unit="arch", leave=False,
                                        disable=not shown or not todo) as progress:
        for job, result in engine.run(first, follow=after):
            if job.fn is jobs.converge_group:
                continue
            tr = result["training"]
            if store.get_training(tr["task"], tr["arch"], tr["seed"], 0, training_key, kind="converge") is None:
                store.put_training(tr)
            store.put_signals(result["mi"])
            progress.update(1)
    return len(todo)


def _rung_trainings(spec: BracketSpec, survivors: list[int]) -> int:
    """Trainings an instance asks for over all its rungs (distinct architectures per rung, at most)."""
    distinct = len({a.id for a in spec.archs})
    return distinct + sum(min(distinct, k) for k in survivors)


def task_lambda(cfg: StudyConfig, store: Store, task: str) -> float:
    """The size penalty of a task's Hyperband instances: `hyperband.lam`, or with `lam_mode: balanced` the task's
    own, sd(accuracy) / sd(sum of filters) over its reference architectures' converged trainings (thesis A.4's
    set: the standardization architectures and the input samples, trained before any instance runs)."""
    hb = cfg.hyperband
    if hb.lam_mode != "balanced":
        return hb.lam
    std, inputs = input_archs(cfg, task)
    tkey = keys.training_key(cfg)
    rows = [(store.get_training(task, a.id, cfg.seed, 0, tkey, kind="converge"), a) for a in std + inputs]
    done = [(r["accuracy"], a.total_filters()) for r, a in rows if r is not None]
    try:
        return hyperband.balanced_lambda([acc for acc, _ in done], [f for _, f in done])
    except ValueError as err:
        raise ValueError(f"hyperband.lam_mode balanced on task {task!r}: {err}; {len(done)} of {len(rows)} reference "
                         "architectures are trained (notebook 03 trains them before its Hyperband instances)") from err


class _Brackets:
    """The Hyperband instances of one `run_brackets` call: the live ones, their results and their bar."""

    def __init__(self, cfg: StudyConfig, store: Store, specs: list[BracketSpec], progress_shown: bool):
        hb = cfg.hyperband
        self.cfg, self.store, self.specs = cfg, store, specs
        self.training_key, self.bracket_key = keys.training_key(cfg), keys.bracket_key(cfg)
        self.out: dict[int, hyperband.BracketResult] = {}
        self.live: dict[int, hyperband.Bracket] = {}
        lam: dict[str, float] = {}  # task -> its size penalty, for the tasks with an instance still to run
        for n, s in enumerate(specs):
            done = store.get_bracket(s.tag, s.task, s.instance, self.bracket_key)
            if done is not None and done["archs"] == [a.id for a in s.archs]:
                self.out[n] = hyperband.BracketResult.from_dict(done["result"])
            else:
                lam[s.task] = lam[s.task] if s.task in lam else task_lambda(cfg, store, s.task)
                self.live[n] = hyperband.Bracket(list(s.archs), list(hb.survivors), list(hb.epochs_per_rung), lam[s.task])
        self.started = time.perf_counter()
        self.expected = {n: _rung_trainings(specs[n], hb.survivors) for n in self.live}
        self.reported = dict.fromkeys(self.live, 0)  # trainings fed to each instance so far (stored or computed)
        self.have: set[tuple[str, str, int]] = set()  # (task, arch, epochs) trainings seen in the store
        self.waiting: dict[tuple[str, str, int], list[int]] = {}  # (task, arch, epochs) in flight -> instances asking
        # not left behind when done: a caller in a loop (the controller) would stack one per iteration
        self.progress = bar(sum(self.expected.values()), f"Hyperband trainings ({len(self.live)} instances)",
                            unit="training", leave=False, disable=not progress_shown or not self.live)

    def tick(self, n: int, k: int = 1) -> None:
        self.reported[n] += k
        self.progress.update(k)

    def _stored(self, n: int, b: hyperband.Bracket) -> list:
        """Feed the current rung's stored accuracies to instance n; return the architectures still missing."""
        task, missing = self.specs[n].task, []
        for arch in b.wanted():
            row = self.store.get_training(task, arch.id, self.cfg.seed, b.epochs, self.training_key)
            if row is None:
                missing.append(arch)
                continue
            self.have.add((task, arch.id, b.epochs))
            b.report(arch, b.epochs, row["accuracy"])
            self.tick(n)
        return missing

    def advance(self, n: int) -> list[tuple[str, str, int, int]]:
        """Feed stored accuracies to instance n rung after rung; return the trainings it still lacks as
        (task, arch, epochs, from_epochs), each one only once while it is in flight (a later asker waits on it)."""
        b, s = self.live[n], self.specs[n]
        while not b.done:
            missing = self._stored(n, b)
            if missing:
                wants = []
                for a in missing:
                    asked = self.waiting.setdefault((s.task, a.id, b.epochs), [])
                    if not asked:
                        wants.append((s.task, a.id, b.epochs, b.prev_epochs))
                    asked.append(n)
                return wants
        res = b.outcome()
        self.store.put_bracket(s.tag, s.task, s.instance, self.bracket_key, [a.id for a in s.archs], res.to_dict(),
                               time.perf_counter() - self.started)
        self.out[n] = res
        self.tick(n, max(0, self.expected[n] - self.reported[n]))  # duplicate architectures asked for fewer trainings
        return []

    def jobs_for(self, wants: list[tuple[str, str, int, int]]) -> list[Job]:
        """Jobs for trainings asked for together: one each (`jobs.train_fixed`), or with train.group_size other
        than 1 populations of one task and epoch count (`jobs.train_group`, grouped by `groups_for`)."""
        cfg, out = self.cfg, []
        batches: dict[tuple[str, int, int], list[str]] = {}
        for task, arch, epochs, prev in wants:
            batches.setdefault((task, epochs, prev), []).append(arch)
        for (task, epochs, prev), archs in batches.items():
            for g in groups_for(cfg, archs):
                if len(g) == 1:
                    a = archs[g[0]]
                    out.append(Job(f"train|{task}|{a}|{cfg.seed}|{epochs}|{self.training_key}", jobs.train_fixed,
                                   (cfg, task, a, epochs, prev)))
                else:
                    items = [(archs[i], epochs, prev) for i in g]
                    out.append(Job(f"group|{task}|{','.join(a for a, _, _ in items)}|{cfg.seed}|{epochs}|{self.training_key}",
                                   jobs.train_group, (cfg, task, items)))
        return out

    def needed(self, task: str) -> set[tuple[str, int]]:
        """(arch, epochs) checkpoints of a task that an unfinished instance may still continue.

        An architecture alive in an instance continues from its latest training there: the current
        rung's when it is reported (it may survive into the next rung), else the previous one's.
        """
        keep = set()
        for n, b in self.live.items():
            if n in self.out or self.specs[n].task != task:
                continue
            for i in b.alive:
                arch = b.archs[i]
                keep.add((arch.id, b.epochs if (task, arch.id, b.epochs) in self.have else b.prev_epochs))
        return keep

    def prune(self, task: str) -> None:
        """Drop the task's fixed-epoch checkpoints that no rung can continue any more (Hyperband eliminated them)."""
        jobs.prune_checkpoints(self.cfg, task, self.needed(task))

    def follow(self, job: Job, result: dict | list[dict]) -> list[Job]:
        """Store finished trainings, report each to every instance waiting on it, and ask for the next rungs
        of those whose rung closed (together, so that they can share populations)."""
        wants, closed = [], []
        for row in result if isinstance(result, list) else [result]:
            self.store.put_training(row)
            self.have.add((row["task"], row["arch"], row["epochs"]))
            for n in self.waiting.pop((row["task"], row["arch"], row["epochs"]), []):
                if n in self.out:
                    continue
                b = self.live[n]
                rung = b.rung
                b.report(parse_architecture(row["arch"]), row["epochs"], row["accuracy"])
                self.tick(n)
                if b.rung != rung:
                    closed.append(n)
        for n in closed:
            wants += self.advance(n)
        for task in dict.fromkeys(self.specs[n].task for n in closed):
            self.prune(task)
        return self.jobs_for(wants)


def run_brackets(cfg: StudyConfig, store: Store, engine: Engine, specs: list[BracketSpec]) -> list[hyperband.BracketResult]:
    """Run Hyperband instances together, rung by rung, reusing every stored training."""
    runs = _Brackets(cfg, store, specs, engine.progress)
    try:
        first = runs.jobs_for([w for n in list(runs.live) for w in runs.advance(n)])
        for task in dict.fromkeys(s.task for s in specs):  # also what a killed run left behind
            runs.prune(task)
        if first:
            _announce(engine)
        with _own_bar(engine):
            for _ in engine.run(first, follow=runs.follow):
                pass
    finally:
        runs.progress.close()
    return [runs.out[n] for n in range(len(specs))]


@dataclass
class CollectionSummary:
    """Counts and timing of one `collect` call."""

    input_jobs: int
    brackets: int
    seconds: float
    checkpoint_bytes: int = 0  # size of the checkpoints kept afterwards (eliminated architectures' are deleted)
    seeds: int = 1  # collection seeds collected (`collection.seeds`)


def collect(cfg: StudyConfig, store: Store, engine: Engine, tasks: list[str] | None = None) -> CollectionSummary:
    """Collect standardization signals, input samples and Hyperband posteriors for the tasks, once per collection seed."""
    t0 = time.perf_counter()
    n_jobs = n_specs = 0
    for c in seed_configs(cfg):
        names = tasks if tasks is not None else [t.name for t in data.build_tasks(c)]
        pairs, specs = [], []
        for task in names:
            std, inputs = input_archs(c, task)
            pairs += [(task, a.id) for a in std + inputs]
            specs += collection_brackets(c, task)
        n_jobs += run_input_samples(c, store, engine, pairs)
        run_brackets(c, store, engine, specs)
        n_specs += len(specs)
    return CollectionSummary(n_jobs, n_specs, time.perf_counter() - t0, jobs.checkpoint_bytes(cfg), cfg.collection.seeds)
