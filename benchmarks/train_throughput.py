"""Training throughput of minas.nas.cnn vs a plain DataLoader + NCHW loop, and the machine's matmul rate.

Prints, in one run: images/s and achieved GFLOP/s of training for a small, a middle and a
large architecture on a real task of the profile, in float32 and in mixed precision (bf16
autocast, `train.precision`); this machine's fp32 and bf16 matmul GFLOP/s (same thread count);
the same training written as a plain `DataLoader` + NCHW float32 loop; and the ratios.
Usage: python benchmarks/train_throughput.py [--profile default] [--threads 1] [--epochs 3] [--set KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from minas import data
from minas.core import config, parse
from minas.nas import cnn, recipe
from minas.nas.device import native_bf16, pick_device
from minas.nas.space import Architecture

ARCHS = {"small": (20, 20, 20, 20), "middle": (60, 60, 60, 60), "large": (120, 120, 120, 120)}


def minas_rate(task, arch, tcfg, epochs: int, device, precision: str = "fp32") -> float:
    """Images/s of minas.nas.cnn's training loop (tensors on the device, channels-last) at a `train.precision`."""
    model = cnn.new_model(arch, task.in_channels, task.n_classes, 0, device)
    opt = recipe.new_optimizer(model, tcfg.lr, tcfg.weight_decay)
    x, y = recipe.prepare(task.x_train, device), task.y_train.to(device)
    cnn.run_epochs(model, opt, x, y, 0, 1, 0, tcfg.batch_size, precision=precision)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    cnn.run_epochs(model, opt, x, y, 1, 1 + epochs, 0, tcfg.batch_size, precision=precision)
    _sync(device)
    return epochs * task.n_train / (time.perf_counter() - t0)


def plain_rate(task, arch, tcfg, epochs: int, device) -> float:
    """Images/s of the textbook loop: float NCHW dataset, DataLoader batches, copy per step."""
    model = cnn.CNN(arch, task.in_channels, task.n_classes).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=tcfg.lr, momentum=0.9, nesterov=True, weight_decay=tcfg.weight_decay)
    ds = TensorDataset(task.x_train.float() / 127.5 - 1.0, task.y_train)
    loader = DataLoader(ds, batch_size=tcfg.batch_size, shuffle=True, drop_last=False)

    def epoch():
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    _sync(device)
    return epochs * task.n_train / (time.perf_counter() - t0)


def matmul_gflops(device, n: int = 1024, reps: int = 20, warmup: int = 1, tf32: bool | None = None,
                  dtype: torch.dtype = torch.float32) -> float:
    """n x n matrix-product rate of `device` in `dtype` (fp32 by default), GFLOP/s; `tf32` True/False sets CUDA's
    TF32 tensor cores for the measurement (None: as they are)."""
    old = torch.backends.cuda.matmul.allow_tf32
    if tf32 is not None:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
        for _ in range(warmup):
            a @ b
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        _sync(device)
        return reps * 2 * n**3 / (time.perf_counter() - t0) / 1e9
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--task", default="mnist")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the engine runs one per worker)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=0, help="0: the profile's train.batch_size")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="any params key, e.g. data.max_train_per_task=10000 (YAML value syntax)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    over = {"train.batch_size": args.batch_size} if args.batch_size else {}
    over.update(parse.parse_sets(args.set))
    cfg = config.load(args.profile, **over)
    device = pick_device(cfg.device)
    task = data.get_task(cfg, args.task)
    n = 4096 if device.type == "cuda" else 1024
    mm = matmul_gflops(device, n=n)
    mm16 = matmul_gflops(device, n=n, dtype=torch.bfloat16)
    print(f"device {device}, {args.threads} thread(s); task {task.name}: {task.n_train} images "
          f"{task.in_channels}x{task.image_size}x{task.image_size}, batch {cfg.train.batch_size}; "
          f"native bf16: {native_bf16(device)}")
    print(f"matmul: fp32 {mm:.1f} GFLOP/s, bf16 {mm16:.1f} GFLOP/s")
    print(f"{'arch':8s} {'filters':18s} {'prec':5s} {'minas img/s':>12s} {'GFLOP/s':>8s} {'/fp32 mm':>8s} "
          f"{'/bf16 mm':>8s} {'plain img/s':>12s} {'speed-up':>9s}")
    for name, filters in ARCHS.items():
        arch = Architecture(filters)
        plain = plain_rate(task, arch, cfg.train, args.epochs, device)
        for precision in ("fp32", "bf16"):
            fast = minas_rate(task, arch, cfg.train, args.epochs, device, precision)
            gflops = 3 * cnn.flops_per_image(arch, task.in_channels, task.image_size) * fast / 1e9  # fwd + 2x bwd
            print(f"{name:8s} {arch.id:18s} {precision:5s} {fast:12.0f} {gflops:8.1f} {gflops / mm:8.2f} "
                  f"{gflops / mm16:8.2f} {plain:12.0f} {fast / plain:8.2f}x")


if __name__ == "__main__":
    main()
