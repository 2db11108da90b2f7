"""Pilot that sizes Experiment 1 (issue 23, item 6): per candidate design, the target floor, the gain G a perfect
per-layer signal could reach, and the calibrated power to detect it; the smallest design with power >= 0.8.

1. One shared pool of random architectures is trained on each task through the profile's Hyperband rungs
   (cumulative epochs, training continued, the profile seed: the collection trains every architecture with it, so an
   architecture scores the same in every instance).
2. Hyperband instances are replayed on the pool (12 inputs drawn without replacement, `nas.hyperband.run_bracket` on
   the measured accuracies) for each size penalty: lambda 0 (accuracy only), the profile's lambda, and the per-task
   balanced lambda (`hyperband.balanced_lambda`). Their posteriors give each task's expected posterior mu_t and dirty
   noise; for k posteriors per target the floor is dirty / (2k) and G = mean_t MSE(fitted Gaussian of the mean mu, mu_t)
   (per-layer scale, `study.predict.budget`).
3. Each (lambda, k) world is planted (`synthetic.calibrated_collected`) at several task counts, and the power of a
   perfect signal is measured with the comparison's own test (`power.calibrated_power`, crossed over predictor seeds).
Caveats: a finite pool (12 of a few dozen, drawn without replacement) concentrates the posteriors on the pool's
best architectures, so its dirty noise and G are not those of fresh draws from 23^4 architectures; G from a few
tasks is rough; planted tasks are independent (every task its own source). The pilot ranks designs; the run that
follows measures its own budget (`study.predict.budget`).

    OMP_NUM_THREADS=1 PYTHONPATH=. python scripts/pilot.py --out docs/measurements/cpu-2026-12-02/pilot
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from minas import data  # noqa: E402
from minas.core import config  # noqa: E402
from minas.core.seeding import rng_for  # noqa: E402
from minas.nas import cnn, hyperband  # noqa: E402
from minas.nas.device import pick_device  # noqa: E402
from minas.nas.space import parse_architecture, sample_architectures  # noqa: E402
from minas.study.predict import power  # noqa: E402
from minas.study.predict import fit_gaussian  # noqa: E402


def pool(cfg, tasks: list[str], n_archs: int, out: Path) -> pd.DataFrame:
    """Accuracy of one shared pool of n_archs random architectures on every task at each rung's cumulative epochs,
    trained as the collection trains them (profile seed, training continued between rungs; cached as CSV).

    The pool is the same for every task, so differences between the tasks' replayed posteriors are differences in
    how the tasks rank the same architectures, not in which architectures each task happened to draw."""
    path = out / "pilot_pool.csv"
    if path.exists():
        return pd.read_csv(path)
    rungs = [int(e) for e in np.cumsum(cfg.hyperband.epochs_per_rung)]
    archs = sample_architectures(n_archs, rng_for(cfg.seed, "pilot-pool"))
    device, rows = pick_device(cfg.device), []
    for name in tasks:
        task = data.get_task(cfg, name)
        for arch in archs:
            state = None
            for epochs in rungs:
                res = cnn.train(task, arch, epochs, cfg.seed, cfg.train, device, resume=state)
                ok = all(np.isfinite(h["train_loss"]) for h in res.history)
                rows.append({"task": name, "arch": arch.id, "epochs": epochs, "sum_filters": arch.total_filters(),
                             "accuracy": res.accuracy if ok else 1.0 / task.n_classes, "diverged": not ok})
                state = res.state
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def replay(cfg, frame: pd.DataFrame, lam_of: dict, instances: int) -> dict:
    """task -> (instances, 4, 23) posteriors of Hyperband replayed on the pool with that task's lambda."""
    hb, out = cfg.hyperband, {}
    for task, g in frame.groupby("task"):
        acc = {(a, int(e)): float(v) for a, e, v in zip(g.arch, g.epochs, g.accuracy)}
        archs = [parse_architecture(a) for a in sorted(g.arch.unique())]
        rng = rng_for(cfg.seed, "pilot", task)
        posts = []
        for _ in range(instances):
            pick = [archs[i] for i in rng.choice(len(archs), hb.n_inputs, replace=False)]
            res = hyperband.run_bracket(pick, lambda a, e: acc[(a.id, int(e))], hb.survivors, hb.epochs_per_rung, lam_of[task])
            posts.append(hyperband.posterior(res.survivors, res.scores, hb.smoothing))
        out[task] = np.stack(posts)
    return out


def world(posts: dict, k: int) -> dict:
    """floor dirty / (2k) and G of one design, over the pilot's tasks (per-layer scale).

    mu_t is estimated by the mean of the task's N replayed posteriors, whose own noise dirty / (2N) is taken off G."""
    mus = np.stack([p.mean(0) for p in posts.values()])  # (T, 4, 23)
    dirties = np.array([hyperband.noise_level(p) for p in posts.values()])
    n = min(len(p) for p in posts.values())
    gauss = fit_gaussian(mus.mean(0))
    gain = float(((mus - gauss[None]) ** 2).mean() - dirties.mean() / (2 * n))
    return {"dirty": float(dirties.mean()), "floor": float(dirties.mean()) / (2 * k), "gain": max(gain, 0.0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--tasks", nargs="+", default=["mnist", "digits8", "mnist-parity"])
    ap.add_argument("--archs", type=int, default=24)
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--ks", type=int, nargs="+", default=[5, 20])
    ap.add_argument("--sizes", nargs="+", default=["10x6", "40x12"], help="training x held-out tasks (sources)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = config.load(args.profile, **{"engine.workers": 0})
    start = time.perf_counter()
    frame = pool(cfg, args.tasks, args.archs, args.out)
    last = frame[frame.epochs == frame.epochs.max()]
    balanced = {t: hyperband.balanced_lambda(g.accuracy, g.sum_filters) for t, g in last.groupby("task")}
    lams = {"0 (accuracy only)": dict.fromkeys(balanced, 0.0), f"{cfg.hyperband.lam:g} (profile)":
            dict.fromkeys(balanced, cfg.hyperband.lam), "balanced": balanced}
    rows = []
    for name, lam_of in lams.items():
        posts = replay(cfg, frame, lam_of, args.instances)
        for k in args.ks:
            w = world(posts, k)
            pcfg = config.load(args.profile, **{"collection.n_train_samples": k + 1, "collection.n_test_samples": k,
                                                "hyperband.n_clean": k, "hyperband.max_clean": 6, "predict.seeds": args.seeds})
            for size in args.sizes:
                n_train, n_test = (int(v) for v in size.split("x"))
                c = power.calibrated_power(pcfg, w["gain"], w["floor"], n_train, n_test, strengths=(1.0,), reps=args.reps)
                rows.append({"lambda": name, "k": k, "n_train": n_train, "n_test": n_test, **w,
                             "g_over_floor": w["gain"] / w["floor"], "power": c.power.item(), "power_low": c.power_low.item(),
                             "power_high": c.power_high.item(), "s": c.s.item(), "g_over_s": w["gain"] / c.s.item(),
                             "effect": c.effect.item(), "posteriors_per_task": k + 1, "reps": args.reps})
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["pilot_seconds"] = time.perf_counter() - start
    table.to_csv(args.out / "pilot_designs.csv", index=False)
    ok = table[table.power >= 0.8].sort_values(["n_train", "k"])
    choice = ok.iloc[0].to_dict() if len(ok) else None
    (args.out / "pilot_choice.txt").write_text(
        (f"smallest design with power >= 0.8 for a perfect per-layer signal: {choice}" if choice else
         f"no design reached power 0.8; best: {table.sort_values('power').iloc[-1].to_dict()}")
        + f"\ntasks {args.tasks}, pool {args.archs} archs, {args.instances} replayed instances per lambda; caveats in "
          "scripts/pilot.py\n")
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for (lam, k), g in table.groupby(["lambda", "k"]):
        ax[0].plot(g.n_train, g.g_over_s, "o-", label=f"lambda {lam}, k {k}")
        ax[1].errorbar(g.n_train, g.power, yerr=[g.power - g.power_low, g.power_high - g.power], fmt="o-", capsize=3)
    ax[0].set(xlabel="training tasks", ylabel="G / s (perfect signal gain / paired sd)", title="signal budget")
    ax[1].axhline(0.8, color="grey", ls=":")
    ax[1].set(xlabel="training tasks", ylabel="power, perfect per-layer signal (95% CI)", title="calibrated power")
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out / "pilot.png", dpi=120)
    print((args.out / "pilot_choice.txt").read_text())


if __name__ == "__main__":
    main()
