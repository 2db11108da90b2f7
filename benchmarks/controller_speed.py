"""Wall time of one controller iteration: its M Hyperband runs together vs one after another.

Two objectives, same local Dask engine and bracket shape (the profile's Hyperband settings):
- fake (always): every training is a fixed sleep, so the ratio shows the scheduling effect
  alone, unaffected by other load on the machine;
- real (--real): tiny CNN trainings through the store. The MI of the iteration's input
  architecture (and the tasks' reference sets) is computed once in a warm-up store, which
  both modes copy, so the timings differ only in how the brackets run.

    .venv/bin/python benchmarks/controller_speed.py [--profile smoke] [--workers 2] [--m 2] [--sleep 0.3] [--real]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import minas
from minas import data
from minas.core.engine import Engine, Job
from minas.core.store import Store
from minas.nas import hyperband
from minas.nas.space import parse_architecture
from minas.study import controller as ctl

_RUNS = [0]  # fresh job keys per run, so Dask never hands back an earlier result


def _fake_train(arch_id: str, epochs: int, seconds: float) -> float:
    time.sleep(seconds)
    return 0.5 + (hash((arch_id, epochs)) % 1000) / 4000  # arbitrary but fixed within a process


def fake_runner(cfg, engine: Engine, seconds: float):
    """env.run that drives the brackets rung by rung over the engine with sleeping 'trainings'."""
    hb = cfg.hyperband

    def run(specs):
        _RUNS[0] += 1
        brackets = [hyperband.Bracket(list(s.archs), list(hb.survivors), list(hb.epochs_per_rung), hb.lam) for s in specs]

        def jobs_for(n):
            b = brackets[n]
            return [Job(f"fake|{_RUNS[0]}|{n}|{a.id}|{b.epochs}", _fake_train, (a.id, b.epochs, seconds), {"n": n}) for a in b.wanted()]

        def follow(job, acc):
            b = brackets[job.meta["n"]]
            rung = b.rung
            b.report(parse_architecture(job.args[0]), job.args[1], acc)
            return jobs_for(job.meta["n"]) if b.rung != rung and not b.done else []

        for _ in engine.run([j for n in range(len(specs)) for j in jobs_for(n)], follow=follow):
            pass
        return [b.outcome() for b in brackets]

    return run


def time_fake(cfg, engine: Engine, seconds: float, together: bool) -> float:
    """Seconds for iteration 0 of Exp 2 with sleeping trainings."""
    tasks = [f"task{i}" for i in range(cfg.controller.datasets_per_iteration)]
    run_all = fake_runner(cfg, engine, seconds)
    run = run_all if together else (lambda specs: [r for s in specs for r in run_all([s])])
    env = ctl.Environment(tasks, [], cfg.hyperband.n_inputs, cfg.seed, lambda pairs: np.zeros((len(pairs), 4)), run)
    policy = ctl.new_policy(cfg.seed)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.controller.lr)
    t0 = time.perf_counter()
    ctl.run_iteration(env, policy, opt, "exp2", 0, len(tasks), {})
    return time.perf_counter() - t0


def _load_tasks(cfg, names):  # runs on every worker so neither mode pays for data loading
    return [data.get_task(cfg, n).n_train for n in names]


def time_iteration(cfg, engine: Engine, together: bool) -> float:
    """Seconds for iteration 0 of Exp 2 on a copy of the warm store."""
    store = Store(cfg.out / "store.sqlite")
    env = ctl.store_environment(cfg, store, engine)
    if not together:
        run_all = env.run
        env.run = lambda specs: [r for s in specs for r in run_all([s])]
    policy = ctl.new_policy(cfg.seed)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.controller.lr)
    t0 = time.perf_counter()
    ctl.run_iteration(env, policy, opt, "exp2", 0, cfg.controller.datasets_per_iteration, {})
    seconds = time.perf_counter() - t0
    store.close()
    return seconds


def report(what: str, seq: float, tog: float) -> None:
    print(f"{what}: one after another {seq:.2f} s, together {tog:.2f} s, ratio {seq / tog:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    ap.add_argument("--m", type=int, default=0, help="data sets per iteration (0: the profile's)")
    ap.add_argument("--sleep", type=float, default=0.3, help="seconds per fake training")
    ap.add_argument("--real", action="store_true", help="also time real tiny trainings (minutes on 2 busy cores)")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="minas-ctl-bench-"))
    over = {"engine.workers": args.workers, **({"controller.datasets_per_iteration": args.m} if args.m else {})}
    cfgs = {name: minas.load(args.profile, output_dir=str(root / name), **over) for name in ("warm", "together", "sequential")}
    cfg = cfgs["warm"]
    hb = cfg.hyperband
    print(f"profile {args.profile}: M = {cfg.controller.datasets_per_iteration} brackets of {hb.n_inputs} -> {hb.survivors} "
          f"(epochs per rung {hb.epochs_per_rung}), {args.workers} Dask workers")
    try:
        with Engine.from_config(cfg, progress=False) as engine:
            time_fake(cfg, engine, 0.0, together=True)  # warm-up: workers import torch and minas
            seq, tog = (time_fake(cfg, engine, args.sleep, together=t) for t in (False, True))
            report(f"fake trainings ({args.sleep} s sleep each)", seq, tog)
            if args.real:
                t0 = time.perf_counter()
                env = ctl.store_environment(cfg, Store(cfg.out / "store.sqlite"), engine)
                tasks, arch = ctl.iteration_plan(env, cfg.controller.datasets_per_iteration, 0)
                env.features([(t, arch) for t in tasks])  # input samples + reference MIs, stored once
                if engine.client is not None:
                    engine.client.run(_load_tasks, cfg, tasks)
                print(f"real: warm-up (MI of the input architecture on {len(tasks)} tasks + references): {time.perf_counter() - t0:.1f} s")
                for name in ("together", "sequential"):
                    cfgs[name].out.mkdir(parents=True)
                    shutil.copy(cfg.out / "store.sqlite", cfgs[name].out / "store.sqlite")
                seq = time_iteration(cfgs["sequential"], engine, together=False)
                tog = time_iteration(cfgs["together"], engine, together=True)
                report("real tiny trainings", seq, tog)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
