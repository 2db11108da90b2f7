"""The thesis's Hyperband budget on an accelerator: throughput, architecture signal (ICC) and the full collection's time.

For each task and learning-rate schedule: `n_archs` random architectures x `n_seeds` training seeds trained
through the thesis's cumulative rung budgets (4, 8, 12 epochs: 4 epochs per rung, training continued), with
minas.study.target.architecture_signal; prints the ICC of test accuracy at each budget with its 95% CI, the
images per second of the whole loop (training, BN recalibration, evaluation), the achieved share of the
device's matmul rate, and the wall time of the `full` profile's Hyperband collection extrapolated from that
rate (an upper bound: every data set at full's max_train_per_task rows). Writes one CSV per run to --out.

Usage (on a GPU; CPU works but is slow):
  python benchmarks/thesis_budget.py --tasks fashion,mnist --rows 10000 --image-size 28 --out /tmp/budget
  python benchmarks/thesis_budget.py --set data.root=/data --schedules constant,rung_cosine
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from minas import data
from minas.core import config, parse
from minas.data.thesis import THESIS_TEST
from minas.nas import cnn
from minas.nas.device import pick_device
from minas.nas.space import parse_architecture
from minas.study import target
from train_throughput import _sync, matmul_gflops  # this folder's sibling script (sys.path[0] when run as a script)

THESIS_TEST_TASKS = len(THESIS_TEST)  # CIFAR-10, K-49, Fashion-MNIST, 4 Tiny ImageNet subsets
THESIS_TASKS = 27  # thesis: 27 data sets (20 for training the predictor, 7 held out)


def matmul_tflops(device, tf32: bool, n: int = 4096, reps: int = 20) -> float:
    """fp32 matrix-product rate of `device` (TF32 tensor cores when `tf32`), TFLOP/s."""
    return matmul_gflops(device, n, reps, warmup=3, tf32=tf32) / 1e3


def full_collection_seconds(img_per_s: float, full) -> dict:
    """Hyperband collection of the `full` profile at `img_per_s`: instances x arch-epochs x rows / rate."""
    hb = full.hyperband
    sizes = [hb.n_inputs] + list(hb.survivors)
    arch_epochs = sum(n * e for n, e in zip(sizes, hb.epochs_per_rung))
    instances = (THESIS_TASKS - THESIS_TEST_TASKS) * full.collection.n_train_samples \
        + THESIS_TEST_TASKS * full.collection.n_test_samples
    images = instances * arch_epochs * full.data.max_train_per_task
    return {"instances": instances, "arch_epochs_per_instance": arch_epochs, "rows": full.data.max_train_per_task,
            "images": images, "seconds": images / img_per_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--profile", default="default", help="params/<profile>.yaml for data source and lambda")
    ap.add_argument("--tasks", default="fashion,mnist")
    ap.add_argument("--rows", type=int, default=10000, help="training rows per task (data.max_train_per_task)")
    ap.add_argument("--test-rows", type=int, default=2000, help="test rows per task")
    ap.add_argument("--image-size", type=int, default=28)
    ap.add_argument("--batch-size", type=int, default=0, help="0: the full profile's train.batch_size")
    ap.add_argument("--budgets", default="4,8,12", help="cumulative epochs (thesis: 4 per rung, 3 rungs)")
    ap.add_argument("--schedules", default="constant,rung_cosine")
    ap.add_argument("--archs", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other params key")
    ap.add_argument("--time-limit", type=float, default=0, help="skip runs that start after this many seconds")
    ap.add_argument("--out", default="", help="folder for one CSV per (task, schedule)")
    args = ap.parse_args()

    full = config.load("full")
    over = {"data.max_train_per_task": args.rows, "data.max_test_per_task": args.test_rows,
            "data.image_size": args.image_size, "train.batch_size": args.batch_size or full.train.batch_size,
            "train.lr": full.train.lr}
    over.update(parse.parse_sets(args.set))
    budgets = tuple(int(b) for b in args.budgets.split(","))
    started = time.perf_counter()
    device = pick_device("auto")
    torch.set_num_threads(1)
    peak32, peak_tf32 = matmul_tflops(device, False), matmul_tflops(device, True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}: matmul fp32 {peak32:.1f} TFLOP/s, TF32 {peak_tf32:.1f} TFLOP/s; budgets {budgets}; "
          f"{args.archs} archs x {args.seeds} seeds", flush=True)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    summary = []
    for schedule in args.schedules.split(","):
        cfg = config.load(args.profile, **over, **{"train.schedule": schedule})
        for task_name in args.tasks.split(","):
            if args.time_limit and time.perf_counter() - started > args.time_limit:
                print(f"skipped {task_name} / {schedule}: past --time-limit", flush=True)
                continue
            task = data.get_task(cfg, task_name)
            t0 = time.perf_counter()
            runs = target.architecture_signal(cfg, task_name, args.archs, args.seeds, budgets, progress=False)
            _sync(device)
            wall = time.perf_counter() - t0
            images = args.archs * args.seeds * max(budgets) * task.n_train
            rate = images / wall
            flops = np.mean([cnn.flops_per_image(parse_architecture(a), task.in_channels, task.image_size)
                             for a in runs.arch.unique()])
            tflops = 3 * flops * rate / 1e12  # forward + twice that backward
            icc = target.icc_table(runs, values=("accuracy",))
            if out:
                runs.to_csv(out / f"runs_{task_name}_{schedule}.csv", index=False)
            print(f"\n{task_name} ({task.n_train} train / {task.n_test} test rows, {task.in_channels}x{task.image_size}"
                  f"x{task.image_size}, batch {cfg.train.batch_size}, {schedule}): {wall:.0f} s wall, {rate:,.0f} img/s, "
                  f"{tflops:.2f} TFLOP/s = {tflops / peak32:.3f} of fp32 matmul, {tflops / peak_tf32:.3f} of TF32; "
                  f"diverged {int(runs.diverged.sum())}", flush=True)
            for _, r in icc.iterrows():
                print(f"  {int(r.epochs):3d} epochs: accuracy {r['mean']:.3f}, sd between archs {r.sd_between_archs:.4f} "
                      f"within {r.sd_within_arch:.4f}; ICC(3,1) {r.icc3:.2f} [{r.icc3_low:.2f}, {r.icc3_high:.2f}], "
                      f"ICC(1) {r.icc1:.2f}; Spearman with filters {r.rho_filters:.2f}", flush=True)
                summary.append({"task": task_name, "schedule": schedule, "img_per_s": rate, "tflops": tflops,
                                "share_fp32": tflops / peak32, **r.to_dict()})
            est = full_collection_seconds(rate, full)
            print(f"  full profile's Hyperband collection at this rate: {est['instances']} instances x "
                  f"{est['arch_epochs_per_instance']} arch-epochs x {est['rows']:,} rows = {est['images']:.3g} images "
                  f"-> {est['seconds'] / 3600:.1f} h on one such device (upper bound: every data set at the cap)",
                  flush=True)
    if out and summary:
        pd.DataFrame(summary).to_csv(out / "summary.csv", index=False)


if __name__ == "__main__":
    main()
