"""Pin the training recipe's numbers: train a few tiny networks and save, or compare bit for bit.

Trains 3 small architectures on the smoke profile's mnist task through every public training entry point
(`cnn.train` with a resume, `cnn.train_to_convergence`, `population.train` with resumes and different epoch
counts, `population.train_to_convergence`) under the smoke and default training settings (fp32 and the
profile's precision as resolved here) and bf16, and keeps every accuracy, loss, history, weight and optimizer
state. `--check` retrains and requires exact equality (same dtypes, same bits) with a saved pin, so a
refactoring of the recipe can show that it moved no number.
Usage: python scripts/recipe_pin.py --save /tmp/pin.pt   (before)
       python scripts/recipe_pin.py --check /tmp/pin.pt  (after; exits 1 on any difference)
       [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import sys

import torch

from minas import data
from minas.core import config
from minas.nas import cnn, population
from minas.nas.space import Architecture

ARCHS = [Architecture((10, 20, 15, 10)), Architecture((15, 10, 25, 20)), Architecture((10, 10, 10, 10))]
SETTINGS = {  # name -> (profile, overrides)
    "smoke": ("smoke", {}),
    "default": ("default", {}),
    "default-bf16": ("default", {"train.precision": "bf16"}),
}


def _result(r) -> dict:
    return {"arch": r.arch, "epochs": r.epochs, "accuracy": r.accuracy, "test_loss": r.test_loss,
            "history": r.history, "engine": r.engine, "model": r.state.model, "optimizer": r.state.optimizer,
            "state_epochs": r.state.epochs}


def collect(device: str) -> dict:
    task = data.get_task(config.load("smoke"), "mnist")
    out = {}
    for name, (profile, overrides) in SETTINGS.items():
        tcfg = config.load(profile, **{"train.max_epochs": 4, **overrides}).train
        first = [cnn.train(task, a, 1, s, tcfg, device) for s, a in enumerate(ARCHS)]
        out[f"{name}/cnn.train/1"] = [_result(r) for r in first]
        out[f"{name}/cnn.train/resumed"] = [_result(cnn.train(task, a, 2 + j % 2, j, tcfg, device, resume=first[j].state))
                                            for j, a in enumerate(ARCHS)]
        out[f"{name}/cnn.train/straight"] = [_result(cnn.train(task, a, 3, j, tcfg, device)) for j, a in enumerate(ARCHS)]
        out[f"{name}/cnn.converge"] = [_result(cnn.train_to_convergence(task, a, j, tcfg, device)[0])
                                       for j, a in enumerate(ARCHS)]
        out[f"{name}/population.train"] = [_result(r) for r in population.train(
            task, ARCHS, [2, 3, 2], [0, 1, 2], tcfg, device, resumes=[r.state for r in first])]
        out[f"{name}/population.converge"] = [_result(r) for r, _ in population.train_to_convergence(
            task, ARCHS, [0, 1, 2], tcfg, device)]
    return out


def differences(a, b, path: str = "") -> list[str]:
    """Every place where `a` and `b` differ in value, type or dtype (bit-exact for tensors and floats)."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, torch.Tensor):
        same = a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
        return [] if same else [f"{path}: tensors differ"]
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(map(str, set(a) ^ set(b)))}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b or (a != a and b != b) else [f"{path}: {a!r} != {b!r}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save")
    group.add_argument("--check")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(1)
    got = collect(args.device)
    if args.save:
        torch.save(got, args.save)
        print(f"saved {len(got)} entries to {args.save}")
        return 0
    diffs = differences(torch.load(args.check, weights_only=False), got)
    print("\n".join(diffs[:40]) if diffs else f"identical: {len(got)} entries, every number bit for bit")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
