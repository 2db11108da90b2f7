"""Collecting the study's raw material: input samples (MI) and Hyperband posteriors per task.

Thesis (Kossmann 2019) sections 2.1-2.2 and A.4-A.5. For each task: `n_standardize` random
architectures seed the MI standardization set; each of the task's samples is one random
architecture trained to convergence with its per-layer MI (the input sample) plus one
Hyperband instance on 12 other random architectures (its posterior). Everything goes through
the store, keyed by its inputs, so a rerun after a crash recomputes nothing that finished.

`collection.seeds` repeats the whole collection: collection seed i is the profile seed + i
(`seed_configs`), so every random draw, training and estimate is resampled; seed 0 is the
profile's own collection, stored under the keys it always had.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minas.core import keys
from minas.core.engine import Engine, Job
from minas.core.registry import SIGNALS
from minas.core.progress import bar
from minas.core.seeding import rng_for
from minas.core.store import Store
from minas.nas import hyperband
from minas.nas.space import (
    N_LAYERS,
    Architecture,
    parse_architecture,
    sample_architecture,
    sample_architectures,
)
from minas.study import jobs


@dataclass
class BracketSpec:
    """A Hyperband instance to run: its tag (what it is for), task, instance number and inputs."""

    tag: str
    task: str
    instance: int
    archs: list[Architecture]


def input_archs(cfg, task: str) -> tuple[list[Architecture], list[Architecture]]:
    """(standardization architectures, input-sample architectures) of a task, seeded by name."""
    std = [sample_architecture(rng_for(cfg.seed, "standardize", task, i)) for i in range(cfg.mi.n_standardize)]
    return std, [sample_architecture(rng_for(cfg.seed, "input", task, i)) for i in range(n_samples(cfg, task))]


def n_samples(cfg, task: str) -> int:
    from minas import data

    split = data.get_task(cfg, task).split
    return cfg.collection.n_train_samples if split == "train" else cfg.collection.n_test_samples


def collection_brackets(cfg, task: str) -> list[BracketSpec]:
    """The Hyperband instances of a task's samples, inputs drawn uniformly (seeded by name)."""
    n_in = cfg.hyperband.n_inputs
    return [BracketSpec("collection", task, i, sample_architectures(n_in, rng_for(cfg.seed, "bracket", task, i)))
            for i in range(n_samples(cfg, task))]


def bracket_config(cfg) -> str:
    """The config key of a Hyperband instance (`minas.core.keys.bracket_key`)."""
    return keys.bracket_key(cfg)


def seed_configs(cfg) -> list:
    """One config per collection seed: seed i is the profile seed + i (i = 0: `cfg` itself); nothing else differs,
    so the output folder, checkpoints folder and store are shared and every row keeps its seed in its key."""
    return [cfg] + [dataclasses.replace(cfg, seed=cfg.seed + i) for i in range(1, cfg.collection.seeds)]


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


def run_input_samples(cfg, store: Store, engine: Engine, pairs: list[tuple[str, str]]) -> int:
    """Make sure every (task, arch) has a converged training and MI for each configured method."""
    todo = []
    methods = tuple(cfg.mi.methods)
    mcfg = jobs.mi_config_hash(cfg)
    for task, arch in dict.fromkeys(pairs):
        missing = tuple(m for m in methods if len(store.get_mi(task, arch, cfg.seed, m, mcfg)) < len(signal_layers(m)))
        if missing:
            todo.append(Job(f"input|{task}|{arch}|{cfg.seed}|{mcfg}|{','.join(missing)}", jobs.input_sample, (cfg, task, arch, missing)))
    tcfg = jobs.train_config_hash(cfg)
    if todo:
        _announce(engine)
    with _own_bar(engine) as shown, bar(len(todo), "input samples (train + MI)", unit="arch", leave=False,
                                        disable=not shown or not todo) as progress:
        for _, result in engine.run(todo):
            tr = result["training"]
            if store.get_training(tr["task"], tr["arch"], tr["seed"], 0, tcfg, kind="converge") is None:
                store.put_training(tr)
            store.put_mi(result["mi"])
            progress.update(1)
    return len(todo)


def _rung_trainings(spec: BracketSpec, survivors: list[int]) -> int:
    """Trainings an instance asks for over all its rungs (distinct architectures per rung, at most)."""
    distinct = len({a.id for a in spec.archs})
    return distinct + sum(min(distinct, k) for k in survivors)


def run_brackets(cfg, store: Store, engine: Engine, specs: list[BracketSpec]) -> list[hyperband.BracketResult]:
    """Run Hyperband instances together, rung by rung, reusing every stored training."""
    hb, tcfg, bcfg = cfg.hyperband, jobs.train_config_hash(cfg), bracket_config(cfg)
    out: dict[int, hyperband.BracketResult] = {}
    live: dict[int, hyperband.Bracket] = {}
    for n, s in enumerate(specs):
        done = store.get_bracket(s.tag, s.task, s.instance, bcfg)
        if done is not None and done["archs"] == [a.id for a in s.archs]:
            out[n] = hyperband.BracketResult.from_dict(done["result"])
        else:
            live[n] = hyperband.Bracket(list(s.archs), list(hb.survivors), list(hb.epochs_per_rung), hb.lam)
    started = time.perf_counter()
    expected = {n: _rung_trainings(specs[n], hb.survivors) for n in live}
    reported = dict.fromkeys(live, 0)  # trainings fed to each bracket so far (stored or computed)
    have: set[tuple[str, str, int]] = set()  # (task, arch, epochs) trainings seen in the store
    # not left behind when done: a caller in a loop (the controller) would stack one per iteration
    progress = bar(sum(expected.values()), f"Hyperband trainings ({len(live)} instances)", unit="training",
                   leave=False, disable=not engine.progress or not live)

    def tick(n: int, k: int = 1) -> None:
        reported[n] += k
        progress.update(k)

    def advance(n: int) -> list[Job]:
        """Feed stored accuracies to bracket n; return jobs for what is still missing."""
        b, s, new = live[n], specs[n], []
        while not b.done:
            wanted = b.wanted()
            missing = []
            for arch in wanted:
                row = store.get_training(s.task, arch.id, cfg.seed, b.epochs, tcfg)
                if row is None:
                    missing.append(arch)
                else:
                    have.add((s.task, arch.id, b.epochs))
                    b.report(arch, b.epochs, row["accuracy"])
                    tick(n)
            if missing:
                for arch in missing:
                    key = f"train|{s.task}|{arch.id}|{cfg.seed}|{b.epochs}|{tcfg}"
                    new.append(Job(key, jobs.train_fixed, (cfg, s.task, arch.id, b.epochs, b.prev_epochs), {"bracket": n}))
                return new
        res = b.outcome()
        store.put_bracket(s.tag, s.task, s.instance, bcfg, [a.id for a in s.archs], res.to_dict(), time.perf_counter() - started)
        out[n] = res
        tick(n, max(0, expected[n] - reported[n]))  # duplicate architectures asked for fewer trainings
        return []

    def needed(task: str) -> set[tuple[str, int]]:
        """(arch, epochs) checkpoints of a task that an unfinished bracket may still continue.

        An architecture alive in a bracket continues from its latest training in that bracket:
        the current rung's when it is reported (it may survive into the next rung), else the previous one's.
        """
        keep = set()
        for n, b in live.items():
            if n in out or specs[n].task != task:
                continue
            for i in b.alive:
                arch = b.archs[i]
                keep.add((arch.id, b.epochs if (task, arch.id, b.epochs) in have else b.prev_epochs))
        return keep

    def prune(task: str) -> None:
        """Drop the task's fixed-epoch checkpoints that no rung can continue any more (Hyperband eliminated them)."""
        jobs.prune_checkpoints(cfg, task, needed(task))

    def follow(job: Job, result: dict) -> list[Job]:
        store.put_training(result)
        have.add((result["task"], result["arch"], result["epochs"]))
        n = job.meta["bracket"]
        if n in out:
            return []
        b = live[n]
        rung = b.rung
        b.report(parse_architecture(result["arch"]), result["epochs"], result["accuracy"])
        tick(n)
        if b.rung == rung:
            return []
        new = advance(n)  # a rung closed: ask for the next one
        prune(specs[n].task)
        return new

    try:
        first = [job for n in list(live) for job in advance(n)]
        for task in dict.fromkeys(s.task for s in specs):  # also what a killed run left behind
            prune(task)
        if first:
            _announce(engine)
        # the same training may be wanted by several brackets: each waits on the one job
        with _own_bar(engine):
            for _ in engine.run(first, follow=follow):
                pass
    finally:
        progress.close()
    return [out[n] for n in range(len(specs))]


@dataclass
class CollectionSummary:
    """Counts and timing of one `collect` call."""

    input_jobs: int
    brackets: int
    seconds: float
    checkpoint_bytes: int = 0  # size of the checkpoints kept afterwards (eliminated architectures' are deleted)
    seeds: int = 1  # collection seeds collected (`collection.seeds`)


def collect(cfg, store: Store, engine: Engine, tasks: list[str] | None = None) -> CollectionSummary:
    """Collect standardization MIs, input samples and Hyperband posteriors for the tasks, once per collection seed."""
    from minas import data

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


@dataclass
class Collected:
    """The collected data set, read back from the store for notebooks 03-06.

    samples: one row per input sample: task, split, sample, arch, accuracy, epochs, and per signal
        m and layer l (1..L) the raw value `mi_<m>_<l>` (`signal_column`) and its z-score
        `z_<m>_<l>` against the task's standardization set (thesis A.4: the task's random
        architectures, i.e. the n_standardize seeds plus all input samples).
    posteriors: task -> (n_samples, L, 23) Hyperband posteriors, in sample order.
    brackets: one row per (sample, rung, input): task, split, sample, rung, arch, epochs,
        accuracy, score, survived.
    reference: every random architecture measured per task (role 'standardize' or 'input').
    The signal "probe" (minas.mi.probe) holds held-out linear-probe accuracy, a fraction, not nats.
    """

    samples: pd.DataFrame
    posteriors: dict
    brackets: pd.DataFrame
    reference: pd.DataFrame
    signals: list[str]  # the per-layer signals held in samples and reference, in config order

    @property
    def methods(self) -> list[str]:
        """The stored per-layer signals, sorted (MI estimators, probe, ...)."""
        return sorted(self.signals)

    def mi_matrix(self, method: str, standardized: bool = True) -> np.ndarray:
        """(n_samples, L) per-layer features of the samples table, z-scored or raw ((n_samples, 1) for a
        whole-network signal such as a parameter count)."""
        return self.samples[signal_columns(method, standardized)].to_numpy(dtype=np.float64)


def signal_column(method: str, layer: int, standardized: bool = False) -> str:
    """The samples/reference column of one signal's layer: `mi_<method>_<layer>` raw, `z_<method>_<layer>` z-scored."""
    return f"{'z' if standardized else 'mi'}_{method}_{layer}"


def signal_layers(method: str) -> list[int]:
    """The layers a signal has values for: 1..L for a per-layer signal, [0] for a whole-network one."""
    return list(range(1, N_LAYERS + 1)) if SIGNALS.get(method).per_layer else [0]


def signal_columns(method: str, standardized: bool = False) -> list[str]:
    """The columns of one signal: layers 1..L, or the single layer-0 column of a whole-network signal."""
    return [signal_column(method, l, standardized) for l in signal_layers(method)]


def signal_long(frame: pd.DataFrame, methods: list[str], id_vars=("task", "arch")) -> pd.DataFrame:
    """Raw per-layer signal columns of a samples/reference frame as long rows: id_vars, method, layer, value."""
    parts = [frame[list(id_vars)].assign(method=m, layer=l, value=frame[signal_column(m, l)].to_numpy())
             for m in methods for l in signal_layers(m)]
    return pd.concat(parts, ignore_index=True)


def reference_mi(cfg, store: Store, task: str, method: str) -> np.ndarray:
    """(R, 4) raw per-layer values of the task's random architectures with a stored estimate.

    Thesis A.4: the standardization set is the task's n_standardize seed architectures plus every
    input sample measured on it; a failed layer estimate enters as NaN (ignored by the z-score).
    """
    mcfg = jobs.mi_config_hash(cfg)
    std, inputs = input_archs(cfg, task)
    rows = []
    for a in std + inputs:
        vals = store.get_mi(task, a.id, cfg.seed, method, mcfg)
        if len(vals) == len(signal_layers(method)):
            rows.append([np.nan if r["value"] is None else r["value"] for r in vals])
    return np.array(rows, dtype=np.float64).reshape(-1, len(signal_layers(method)))


def load_collected(cfg, store: Store, tasks: list[str] | None = None) -> Collected:
    """Read input samples, MIs and posteriors of finished work back from the store."""
    from minas import data, mi

    tcfg, mcfg, bcfg = jobs.train_config_hash(cfg), jobs.mi_config_hash(cfg), bracket_config(cfg)
    all_tasks = data.build_tasks(cfg)
    names = tasks if tasks is not None else [t.name for t in all_tasks]
    split = {t.name: t.split for t in all_tasks}
    ref_rows, sample_rows, bracket_rows, posts = [], [], [], {}
    for task in names:
        std, inputs = input_archs(cfg, task)
        specs = collection_brackets(cfg, task)
        for role, archs in (("standardize", std), ("input", inputs)):
            for i, a in enumerate(archs):
                tr = store.get_training(task, a.id, cfg.seed, 0, tcfg, kind="converge")
                row = {"task": task, "split": split[task], "role": role, "sample": i, "arch": a.id,
                       "accuracy": tr["accuracy"] if tr else np.nan}
                complete = tr is not None
                for m in cfg.mi.methods:
                    vals = store.get_mi(task, a.id, cfg.seed, m, mcfg)
                    complete &= len(vals) == len(signal_layers(m))
                    for l in signal_layers(m):
                        v = [r["value"] for r in vals if r["layer"] == l]
                        row[signal_column(m, l)] = v[0] if v and v[0] is not None else np.nan
                if complete:
                    ref_rows.append(row)
        task_posts = []
        for i, spec in enumerate(specs):
            done = store.get_bracket("collection", task, spec.instance, bcfg)
            sample = next((r for r in ref_rows if r["task"] == task and r["role"] == "input" and r["sample"] == i), None)
            if done is None or sample is None or done["archs"] != [a.id for a in spec.archs]:
                continue  # unfinished, or another draw's instance: never pair a posterior with the wrong inputs
            res = hyperband.BracketResult.from_dict(done["result"])
            task_posts.append(hyperband.posterior(res.survivors, res.scores, cfg.hyperband.smoothing))
            sample_rows.append(dict(sample))
            bracket_rows += [dict(r, task=task, split=split[task], sample=i) for r in res.rows]
        if task_posts:
            posts[task] = np.stack(task_posts)
    reference = pd.DataFrame(ref_rows)
    samples = pd.DataFrame(sample_rows)
    for m in cfg.mi.methods:
        cols, zcols = signal_columns(m), signal_columns(m, standardized=True)
        if samples.empty:
            for c in zcols:
                samples[c] = []
            continue
        z = np.zeros((len(samples), len(cols)))
        for task, idx in samples.groupby("task").groups.items():
            refs = reference_mi(cfg, store, task, m)
            z[samples.index.get_indexer(idx)] = mi.standardize(samples.loc[idx, cols].to_numpy(dtype=np.float64), refs)
        samples[zcols] = z
    return Collected(samples.reset_index(drop=True), posts, pd.DataFrame(bracket_rows), reference, list(cfg.mi.methods))


def noise_levels(collected: Collected, k: int) -> pd.DataFrame:
    """Per task: dirty noise (pairwise MSE of posteriors) and clean noise (of clean posteriors)."""
    rows = []
    split = dict(zip(collected.samples.task, collected.samples.split))
    for task, posts in collected.posteriors.items():
        clean, _ = hyperband.clean_posteriors(posts, k)
        rows.append({"task": task, "split": split[task], "n_posteriors": len(posts), "n_clean": len(clean),
                     "dirty": hyperband.noise_level(posts), "clean": hyperband.noise_level(clean)})
    return pd.DataFrame(rows)


def lambda_effect(collected: Collected, lam: float) -> dict:
    """How much the filter penalty matters: spreads of accuracy and penalty among first-rung inputs,
    and the share of instances whose survivors differ from an accuracy-only ranking."""
    b = collected.brackets
    if b.empty:
        return {"acc_std": float("nan"), "penalty_std": float("nan"), "changed_share": float("nan")}
    first = b[b.rung == 0].copy()
    first["penalty"] = first.accuracy - first.score
    changed = []
    final_rung = int(b.rung.max())
    for (task, sample), g in b.groupby(["task", "sample"]):
        last = g[g.rung == final_rung]
        by_acc = set(g[g.rung == final_rung - 1].nlargest(len(last), "accuracy").arch) if final_rung > 0 else set()
        changed.append(by_acc != set(last.arch))
    within = first.groupby(["task", "sample"])
    return {
        "acc_std": float(within.accuracy.std().mean()),
        "penalty_std": float(within.penalty.std().mean()),
        "changed_share": float(np.mean(changed)) if changed else float("nan"),
    }


def work_done(cfg, store: Store) -> dict:
    """Training epochs and seconds spent, as recorded in the store."""
    t = store.frame("trainings")
    if t.empty:
        return {"trainings": 0, "epochs_trained": 0, "train_seconds": 0.0, "mi_seconds": 0.0}
    fixed = t[t.kind == "fixed"]
    # a continued training's row holds the total epochs: count each (task, arch) once at its furthest
    epochs_fixed = int(fixed.groupby(["task", "arch", "seed"]).epochs.max().sum()) if len(fixed) else 0
    conv = t[t.kind == "converge"]
    epochs_conv = int(sum(len(json.loads(h)) for h in conv.history)) if len(conv) else 0
    m = store.frame("mi")
    return {
        "trainings": int(len(t)),
        "epochs_trained": epochs_fixed + epochs_conv,
        "train_seconds": float(t.seconds.sum()),
        # each layer's row holds its share of the network's estimate: sum every layer (was one layer per method: 1/4)
        "mi_seconds": float(m.drop_duplicates(["task", "arch", "seed", "method", "layer"]).seconds.sum()) if len(m) else 0.0,
    }
