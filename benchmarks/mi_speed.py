"""Thesis MINE (sequential, one conv critic per layer) vs the fast path (label-head critics of all 4 layers in one loop).

Prints, for the 4 layers of one network trained on an embedded task (minas.data / minas.nas.cnn), time
and estimate of both, their error on a Gaussian mixture with known MI of the same size and shape,
and the speed ratio. Usage: python benchmarks/mi_speed.py [--profile smoke] [--rows 1000] [--method mine_fast]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import minas
from minas import data, mi
from minas.mi import known
from minas.core.seeding import rng_for
from minas.nas import cnn, space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--rows", type=int, default=1000, help="activation rows (70/30 train/held-out)")
    ap.add_argument("--method", default="mine_fast", help="fast-path estimator")
    ap.add_argument("--min-epochs", type=int, default=0, help="0: the profile's mi.min_epochs (thesis: 18)")
    ap.add_argument("--max-epochs", type=int, default=0, help="0: the profile's mi.max_epochs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = minas.load(args.profile)
    opts = dict(mi.options_from_config(cfg.mi), max_rows=args.rows, batch_size=64,
                min_epochs=args.min_epochs or cfg.mi.min_epochs, max_epochs=args.max_epochs or cfg.mi.max_epochs)
    task = [t for t in data.build_tasks(cfg) if t.split == "train"][0]
    arch = space.sample_architecture(rng_for(cfg.seed, "mi-speed"))
    result, model = cnn.train_to_convergence(task, arch, 0, cfg.train, cnn.pick_device(cfg.device))
    acts = cnn.activations(model, task.x_train[: args.rows])
    y = task.y_train[: args.rows]
    print(f"task {task.name} ({len(y)} rows, K={task.n_classes}), arch {arch.id}, accuracy {result.accuracy:.3f}; "
          f"layer shapes {[tuple(a.shape[1:]) for a in acts]}; options {opts}")
    # known truth with the same rows, classes and layer shapes: a K-class mixture embedded into each layer's shape
    mix = known.gaussian_mixture(len(y), k=task.n_classes, dim=20, sep=4.0, seed=1)
    embedded = [(mix.x @ torch.randn(20, int(np.prod(a.shape[1:])), generator=torch.Generator().manual_seed(i))
              ).reshape(len(y), *a.shape[1:]) for i, a in enumerate(acts)]
    rows = {}
    for method in ("mine", args.method):
        t0 = time.perf_counter()
        real = mi.estimate_layers(acts, y, method, seed=0, **opts)
        seconds = time.perf_counter() - t0
        ref = mi.estimate_layers(embedded, mix.y, method, seed=0, **opts)
        err = float(np.mean([abs(r.value - mix.truth) for r in ref]))
        rows[method] = seconds, err
        print(f"{method:>10}: {seconds:7.2f} s for 4 layers; MI per layer {[round(r.value, 3) for r in real]}; "
              f"known-MI mixture (truth {mix.truth:.3f}) estimates {[round(r.value, 3) for r in ref]}, mean |error| {err:.3f}")
    ratio = rows["mine"][0] / rows[args.method][0]
    print(f"speed ratio mine / {args.method}: {ratio:.1f}x; |error| {rows['mine'][1]:.3f} vs {rows[args.method][1]:.3f} nats")


if __name__ == "__main__":
    main()
