"""Measure the glyph tasks (issue 24, item 4): do sources differ in which architectures they favour?

For the first task of every source of a glyph family: render speed (rows/s, uncached), then n_archs
random architectures x n_seeds seeds trained through Hyperband's rung budgets of the profile
(`minas.study.target.architecture_signal`), and per task the accuracy ICC(3,1), the spread of
architecture means and the seed sd. Across tasks: the variance of task mean accuracy and the
task x architecture interaction (each task's architecture profile after removing task and
architecture means; the same architectures are drawn for every task here, from one fixed rng)
against the seed noise it would have without any interaction.
Usage: OMP_NUM_THREADS=1 python scripts/glyph_measure.py [--family glyphs] [--archs 4] [--seeds 2] [--out DIR]
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import minas
from minas import data
from minas.core.registry import DATA_FAMILIES
from minas.data import glyphs
from minas.nas import cnn
from minas.nas.space import sample_architectures
from minas.core.seeding import rng_for


def render_speed(cfg, fam, names) -> pd.DataFrame:
    rows = []
    for name in names:
        t0 = time.perf_counter()
        train, test = glyphs.glyph_rows(cfg, fam.collection, fam.name, name)
        s = time.perf_counter() - t0
        rows.append({"task": name, "rows": len(train.y) + len(test.y), "seconds": s,
                     "rows_per_s": (len(train.y) + len(test.y)) / s})
    return pd.DataFrame(rows)


def arch_runs(cfg, names, n_archs, n_seeds) -> pd.DataFrame:
    archs = sample_architectures(n_archs, rng_for(cfg.seed, "glyph-measure"))  # one set for every task
    budgets = np.cumsum(cfg.hyperband.epochs_per_rung).tolist()
    rows = []
    for name in names:
        task = data.get_task(cfg, name)
        for arch in archs:
            for s in range(n_seeds):
                state = None
                for epochs in budgets:
                    res = cnn.train(task, arch, int(epochs), s, cfg.train, "cpu", resume=state)
                    state = res.state
                    rows.append({"task": name, "source": task.source, "classes": task.n_classes, "arch": arch.id,
                                 "seed": s, "epochs": int(epochs), "accuracy": res.accuracy})
        print(name, "done", flush=True)
    return pd.DataFrame(rows)


def per_task(runs: pd.DataFrame) -> pd.DataFrame:
    from minas.study.target import icc_consistency

    out = []
    for (name, epochs), g in runs.groupby(["task", "epochs"]):
        x = g.pivot_table(index="arch", columns="seed", values="accuracy").to_numpy()  # (archs, seeds)
        icc = icc_consistency(x)
        means = x.mean(1)
        out.append({"task": name, "source": g.source.iloc[0], "classes": g.classes.iloc[0], "epochs": epochs,
                    "mean_acc": x.mean(), "chance": 1 / g.classes.iloc[0], "arch_range": means.max() - means.min(),
                    "sd_between_archs": means.std(ddof=1), "sd_seed": np.sqrt(x.var(1, ddof=1).mean()),
                    "icc3": icc.value, "icc3_low": icc.ci_low, "icc3_high": icc.ci_high})
    return pd.DataFrame(out)


def across_tasks(runs: pd.DataFrame) -> dict:
    out = {}
    for epochs, g in runs.groupby("epochs"):
        cell = g.groupby(["task", "arch"]).accuracy.mean().unstack()  # (tasks, archs)
        n_seeds = g.seed.nunique()
        resid = cell.to_numpy() - cell.to_numpy().mean(1, keepdims=True) - cell.to_numpy().mean(0) + cell.to_numpy().mean()
        seed_var = g.groupby(["task", "arch"]).accuracy.var(ddof=1).mean()
        t, a = cell.shape
        out[int(epochs)] = {"tasks": t, "archs": a, "var_task_mean_acc": float(cell.mean(axis=1).var(ddof=1)),
                            "var_interaction": float((resid ** 2).sum() / ((t - 1) * (a - 1))),
                            "var_interaction_if_none": float(seed_var / n_seeds)}
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="default")
    ap.add_argument("--family", default="glyphs")
    ap.add_argument("--archs", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--sources", type=int, default=0, help="at most this many sources (0: all)")
    ap.add_argument("--out", default="docs/measurements/cpu-2026-12-02/glyphs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = minas.load(args.profile, **{"data.source": args.family, "data.tasks": [], "train.precision": "fp32",
                                      "data.root": tempfile.mkdtemp(prefix="glyph-measure-")})  # uncached
    fam = DATA_FAMILIES.get(args.family)
    names = [n for n in fam.task_names(cfg) if n.endswith("-0")]
    names = names[: args.sources] if args.sources else names
    speed = render_speed(cfg, fam, names)
    speed.to_csv(out / "render_speed.csv", index=False)
    t0 = time.process_time()
    runs = arch_runs(cfg, names, args.archs, args.seeds)
    runs.to_csv(out / "runs.csv", index=False)
    table = per_task(runs)
    table.to_csv(out / "per_task.csv", index=False)
    summary = {"family": args.family, "profile": args.profile, "rows_per_task": cfg.data.max_train_per_task,
               "test_rows": cfg.data.max_test_per_task, "image_size": cfg.data.image_size, "archs": args.archs,
               "seeds": args.seeds, "rung_epochs": cfg.hyperband.epochs_per_rung,
               "render_rows_per_s_median": float(speed.rows_per_s.median()),
               "render_seconds_per_task_median": float(speed.seconds.median()),
               "training_cpu_seconds": time.process_time() - t0, "across_tasks": across_tasks(runs)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    pd.set_option("display.width", 200)
    print(table.round(3).to_string(index=False))
    print(json.dumps(summary, indent=2))
