"""The study's expensive units of work, as pure functions run on any worker.

Each job rebuilds its task from the config (cached per process), trains or estimates, and
returns plain rows; the driver (`minas.study.collection`) writes them to the store. Checkpoints
are written atomically under a folder all workers can read (docs/ARCHITECTURE.md).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import torch

from minas import data, mi
from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.registry import SIGNALS, SignalInput, SignalValue
from minas.core.seeding import derive_seed
from minas.nas import cnn, population
from minas.nas.device import pick_device
from minas.nas.recipe import TrainResult, TrainState
from minas.nas.space import parse_architecture


def checkpoint_dir(cfg: StudyConfig) -> Path:
    return Path(cfg.engine.checkpoint_dir).expanduser() if cfg.engine.checkpoint_dir else cfg.out / "checkpoints"


def checkpoint_path(cfg: StudyConfig, task: str, arch: str, seed: int, epochs: int) -> Path:
    return checkpoint_dir(cfg) / task / f"{arch}_s{seed}_e{epochs}_{keys.training_key(cfg)}.pt"


_CHECKPOINT = re.compile(r"^(?P<arch>.+)_s(?P<seed>\d+)_e(?P<epochs>\d+)_(?P<config>[0-9a-f]+(?:-[a-z0-9]+)?)\.pt$")


def prune_checkpoints(cfg: StudyConfig, task: str, keep: set[tuple[str, int]]) -> int:
    """Delete the task's fixed-epoch checkpoints (this seed and training config) not in `keep` (arch, epochs).

    Converged input samples (epochs 0) are never deleted: their MI is recomputed from them. A deleted
    checkpoint costs time only: training is deterministic, so a later continuation retrains from scratch
    to the same weights. Returns how many files were deleted.
    """
    folder, tcfg, n = checkpoint_dir(cfg) / task, keys.training_key(cfg), 0
    for path in folder.glob("*.pt") if folder.is_dir() else ():
        m = _CHECKPOINT.match(path.name)
        if not m or m["config"] != tcfg or int(m["seed"]) != cfg.seed or int(m["epochs"]) == 0:
            continue
        if (m["arch"], int(m["epochs"])) not in keep:
            path.unlink(missing_ok=True)
            n += 1
    return n


def checkpoint_bytes(cfg: StudyConfig) -> int:
    """Size of every file under the checkpoint folder."""
    folder = checkpoint_dir(cfg)
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def _write_atomic(path: Path, write) -> None:
    """`write(tmp)` then rename onto `path`: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # e.g. a full disk: leave no partial file behind
        raise


def _save(state: TrainState, path: Path) -> None:
    _write_atomic(path, lambda tmp: torch.save(state.__dict__, tmp))


def _load(path: Path) -> TrainState | None:
    try:
        return TrainState(**torch.load(path, map_location="cpu", weights_only=False))
    except (FileNotFoundError, EOFError, RuntimeError, OSError):
        return None  # missing or torn: the caller retrains (training is deterministic)


def _fixed_row(cfg: StudyConfig, task_name: str, arch_id: str, epochs: int, res: TrainResult, dest: Path,
               device: torch.device) -> dict:
    return {
        "task": task_name, "arch": arch_id, "seed": cfg.seed, "epochs": epochs, "config": keys.training_key(cfg),
        "kind": "fixed", "accuracy": res.accuracy, "test_loss": res.test_loss, "seconds": res.seconds,
        "checkpoint": str(dest), "history": res.history, "engine": res.engine, "device": device.type,
    }


def train_fixed(cfg: StudyConfig, task_name: str, arch_id: str, epochs: int, from_epochs: int) -> dict:
    """Train to `epochs` total, continuing from the checkpoint at `from_epochs` when it exists."""
    task = data.get_task(cfg, task_name)
    arch = parse_architecture(arch_id)
    device = pick_device(cfg.device)
    src, dest = (checkpoint_path(cfg, task_name, arch_id, cfg.seed, e) for e in (from_epochs, epochs))
    resume = _load(src) if from_epochs else None
    res = cnn.train(task, arch, epochs, cfg.seed, cfg.train, device, resume=resume)
    _save(res.state, dest)  # the source stays: another bracket may continue it too; the driver prunes
    return _fixed_row(cfg, task_name, arch_id, epochs, res, dest, device)


def train_group(cfg: StudyConfig, task_name: str, items: list[tuple[str, int, int]]) -> list[dict]:
    """`train_fixed` for several (arch, epochs, from_epochs) of one task as one population (`minas.nas.population`).

    Each network continues from its own checkpoint where it exists and gets its own checkpoint and row, as
    `train_fixed` would give it (to float noise; the row's `engine` says "population").
    """
    task = data.get_task(cfg, task_name)
    device = pick_device(cfg.device)
    archs = [parse_architecture(a) for a, _, _ in items]
    resumes = [_load(checkpoint_path(cfg, task_name, a, cfg.seed, f)) if f else None for a, _, f in items]
    results = population.train(task, archs, [e for _, e, _ in items], cfg.seed, cfg.train, device, resumes=resumes)
    rows = []
    for (arch_id, epochs, _), res in zip(items, results):
        dest = checkpoint_path(cfg, task_name, arch_id, cfg.seed, epochs)
        _save(res.state, dest)
        rows.append(_fixed_row(cfg, task_name, arch_id, epochs, res, dest, device))
    return rows


def _keep_converged(cfg: StudyConfig, task_name: str, arch_id: str, res: TrainResult, device: torch.device) -> dict:
    """Write a converged training's checkpoint and, beside it, its row (a driver killed before storing it loses nothing)."""
    path = checkpoint_path(cfg, task_name, arch_id, cfg.seed, 0)
    training = {
        "task": task_name, "arch": arch_id, "seed": cfg.seed, "epochs": 0, "config": keys.training_key(cfg),
        "kind": "converge", "accuracy": res.accuracy, "test_loss": res.test_loss, "seconds": res.seconds,
        "checkpoint": str(path), "history": res.history, "engine": res.engine, "device": device.type,
    }
    _save(res.state, path)
    _write_atomic(path.with_suffix(".json"), lambda tmp: tmp.write_text(json.dumps(training)))
    return training


def has_converged(cfg: StudyConfig, task_name: str, arch_id: str) -> bool:
    """Whether an input sample's converged checkpoint and its row are on disk (its signals then need no training)."""
    path = checkpoint_path(cfg, task_name, arch_id, cfg.seed, 0)
    return path.exists() and path.with_suffix(".json").exists()


def converge_group(cfg: StudyConfig, task_name: str, arch_ids: list[str]) -> list[str]:
    """Train several architectures of one task to convergence as one population and keep each one's checkpoint
    and row, as `input_sample` would (to float noise); returns the architectures. Their signals are separate
    `input_sample` jobs, which find the checkpoints."""
    task = data.get_task(cfg, task_name)
    device = pick_device(cfg.device)
    got = population.train_to_convergence(task, [parse_architecture(a) for a in arch_ids], cfg.seed, cfg.train, device)
    for arch_id, (res, _) in zip(arch_ids, got):
        _keep_converged(cfg, task_name, arch_id, res, device)
    return list(arch_ids)


def input_sample(cfg: StudyConfig, task_name: str, arch_id: str, methods: tuple[str, ...]) -> dict:
    """Train an architecture to convergence, then compute each named signal (MI per layer, probe, ...)."""
    task = data.get_task(cfg, task_name)
    arch = parse_architecture(arch_id)
    device = pick_device(cfg.device)
    path = checkpoint_path(cfg, task_name, arch_id, cfg.seed, 0)
    state, row_path = _load(path), path.with_suffix(".json")
    if state is None or not row_path.exists():
        res, model = cnn.train_to_convergence(task, arch, cfg.seed, cfg.train, device)
        training = _keep_converged(cfg, task_name, arch_id, res, device)
    else:
        model = cnn.load_model(state, task.in_channels, task.n_classes, device)
        training = json.loads(row_path.read_text())
    values = signal_values(cfg, task, arch, model, methods, cfg.seed, device)
    signal_rows = [signal_row(cfg, task_name, arch_id, name, v) for name in methods for v in values[name]]
    return {"training": training, "mi": signal_rows}


def signal_values(cfg: StudyConfig, task, arch, model, methods, base: int, device) -> dict[str, list[SignalValue]]:
    """Every named signal of one architecture: trained ones on `model`, read on `mi.max_rows` training rows
    fixed by the profile seed; training-free ones on a fresh network. `base` seeds each signal's own stream."""
    n = min(cfg.mi.max_rows, task.n_train)
    gen = torch.Generator().manual_seed(derive_seed(cfg.seed, "mi-rows", task.name))
    rows = torch.randperm(task.n_train, generator=gen)[:n]
    x, y = task.x_train[rows], task.y_train[rows]
    trained = None  # the trained network's input, built once when a signal reads it
    out = {}
    for name in methods:
        sig = SIGNALS.get(name)
        seed = sig.seed_for(base, task.name, arch.id)
        if sig.needs_training:
            if trained is None:
                acts = cnn.activations(model, x)
                trained = SignalInput(model, x, y, task.n_classes, acts, mi.options_from_config(cfg.mi), device)
            out[name] = sig.compute(trained, seed)
        else:  # a training-free proxy: its own freshly initialised network
            out[name] = sig.compute(init_input(cfg, task, arch, seed, device), seed)
    return out


def init_input(cfg: StudyConfig, task, arch, seed: int, device) -> SignalInput:
    """A network initialised from `seed` and a fixed batch of the task's training rows (seeded by task, the
    same batch for every architecture), for signals read at initialisation (the training-free proxies)."""
    n = min(cfg.train.batch_size, task.n_train)
    gen = torch.Generator().manual_seed(derive_seed(cfg.seed, "proxy-rows", task.name))
    rows = torch.randperm(task.n_train, generator=gen)[:n]
    model = cnn.new_model(arch, task.in_channels, task.n_classes, seed, device)
    return SignalInput(model, task.x_train[rows], task.y_train[rows], task.n_classes, device=device)


def signal_row(cfg: StudyConfig, task: str, arch: str, method: str, v: SignalValue) -> dict:
    """One store row of a signal's value (the `mi` table; a failure keeps value None and its reason)."""
    return {"task": task, "arch": arch, "seed": cfg.seed, "method": method, "layer": v.layer,
            "config": keys.signal_key(cfg), "value": v.value if v.ok else None, "ok": int(v.ok),
            "reason": v.reason, "seconds": v.seconds, "curve": list(map(float, v.curve))}
