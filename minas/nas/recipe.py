"""The training recipe: epoch loop, learning-rate schedule, validation split and early stopping, in one place.

One recipe trains every network of the study, whichever engine takes its steps: one network at a time
(`minas.nas.cnn`, the `OneAtATime` engine) or a population in one step (`minas.nas.population`). An engine
supplies only what depends on how networks are held: a step on a batch per network, BatchNorm recalibration
and evaluation (the `Engine` protocol); batch order, learning rates, the held-out split, the stopping rule,
resuming and the results are decided here, so a change to the recipe is made once.

Deterministic and resumable: epoch e of a run with seed s always sees the same batches
(`batch_order`), and the optimizer state travels in the checkpoint (`TrainState`), so 4 epochs then 8
more equals 12 epochs straight. Optimizer: SGD with nesterov momentum 0.9 (`new_optimizer`).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import nn

from minas.core.seeding import derive_seed
from minas.nas.device import resolve_precision
from minas.nas.space import Architecture

MOMENTUM = 0.9  # SGD's momentum (nesterov); `minas.nas._packed.sgd_step` repeats its arithmetic
MIN_DELTA = 1e-4  # early stopping: a held-out loss improves when it falls below the best by more than this


@dataclass
class TrainState:
    """Everything needed to continue a training run: weights, optimizer, epochs done, history."""

    arch: str
    epochs: int
    model: dict
    optimizer: dict
    history: list = field(default_factory=list)  # per epoch: {"epoch", "train_loss", "val_loss"}


@dataclass
class TrainResult:
    """Outcome of training to some epoch count."""

    arch: str
    epochs: int
    accuracy: float  # on the task's test split
    test_loss: float
    seconds: float
    history: list
    state: TrainState
    engine: str = "cnn"  # what trained it: "cnn" (one network at a time) or "population" (minas.nas.population)


class Engine(Protocol):
    """How networks are held and stepped; network j of every call trains on (xs[j], ys[j]) with seed seeds[j]."""

    name: str  # TrainResult.engine

    def new_model(self, arch: Architecture, in_channels: int, n_classes: int, seed: int,
                  device: torch.device) -> nn.Module: ...

    def run_epochs(self, models: Sequence[nn.Module], opts: Sequence[torch.optim.Optimizer], xs: Sequence[torch.Tensor],
                   ys: Sequence[torch.Tensor], starts: Sequence[int], ends: Sequence[int], seeds: Sequence[int],
                   batch_size: int, schedule: str, precision: str) -> list[list[float]]: ...

    def recalibrate(self, models: Sequence[nn.Module], xs: Sequence[torch.Tensor], precision: str) -> None: ...

    def evaluate(self, models: Sequence[nn.Module], xs: Sequence[torch.Tensor], ys: Sequence[torch.Tensor],
                 precision: str) -> list[tuple[float, float]]: ...


def prepare(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float in [-1, 1] on the device, channels-last."""
    return (x.to(device, torch.float32).div_(127.5).sub_(1.0)).contiguous(memory_format=torch.channels_last)


def new_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """The recipe's optimizer: SGD, nesterov momentum `MOMENTUM`, weight decay."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM, nesterov=True, weight_decay=weight_decay)


def autocast(precision: str, device: torch.device) -> torch.autocast:
    """The autocast context of a training precision on `device` (a disabled one for fp32).

    bf16: the convolutions and the head computed in bfloat16 while weights, gradients and optimizer state stay
    in float32 (`minas.nas.device` says where that pays)."""
    bf16 = resolve_precision(precision, device) == "bf16"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)


def cpu_state(state: dict) -> dict:
    """Deep copy of a state dict with tensors on the CPU (safe to pickle and to keep)."""
    out = {}
    for k, v in state.items():
        if isinstance(v, torch.Tensor):
            out[k] = v.detach().to("cpu", copy=True)
        elif isinstance(v, dict):
            out[k] = cpu_state(v)
        elif isinstance(v, list):
            out[k] = [cpu_state(i) if isinstance(i, dict) else i for i in v]
        else:
            out[k] = v
    return out


def calibration_rows(x: torch.Tensor, max_rows: int) -> torch.Tensor:
    """The training rows BatchNorm statistics are recomputed on: strided, so every class is in even if rows are sorted."""
    return x[:: max(1, x.shape[0] // max_rows)][:max_rows]


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimizer steps in an epoch of `n` rows (a last batch of one row is skipped: BatchNorm needs two)."""
    return sum(1 for s in range(0, n, batch_size) if min(batch_size, n - s) >= 2)


def batch_order(seed: int, epoch: int, n: int, device: torch.device) -> torch.Tensor:
    """The row order of (0-based) epoch `epoch` of a run with `seed`: a function of those two only."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(derive_seed(seed, "batches", epoch))).to(device)


def learning_rate(schedule: str, base: float, step: int, total: int) -> float:
    """The rate of step `step` of `total` in one call of the epoch loop.

    "constant": `base`. "rung_cosine": from `base` to 0 along a half cosine over the steps of the call (one
    Hyperband rung), restarting at the next call (as in SGDR, Loshchilov & Hutter 2017), so every evaluation
    sees a network at the end of a decay rather than one mid-way through noisy constant-rate steps.
    """
    if schedule == "rung_cosine":
        return 0.5 * base * (1.0 + math.cos(math.pi * step / total))
    return base


Step = Callable[[list[torch.Tensor], list[float]], torch.Tensor]  # (rows per network, rates) -> loss per network


def epoch_loop(group: Callable[[list[int]], Step | None], n: int, starts: Sequence[int], ends: Sequence[int],
               seeds: Sequence[int], base_lrs: Sequence[float], batch_size: int, schedule: str,
               device: torch.device) -> list[list[float]]:
    """Epochs starts[j]+1..ends[j] of every network j on `n` rows each; returns each one's mean train loss per epoch.

    `group(active)` is told which networks (indices) step together from now on, whenever that set changes
    (a network whose epochs are done leaves) and once with [] at the end; it returns the step for that set:
    given each active network's batch rows and learning rate, one optimizer step each, and their mean batch
    losses (a tensor, one per active network, detached).
    """
    lengths = [e - s for s, e in zip(starts, ends)]
    per_epoch = steps_per_epoch(n, batch_size)
    losses: list[list[float]] = [[] for _ in lengths]
    active: list[int] = []
    step_fn = None
    for t in range(max(lengths, default=0)):
        now = [j for j in range(len(lengths)) if t < lengths[j]]
        if now != active:
            active, step_fn = now, group(now)
        orders = [batch_order(seeds[j], starts[j] + t, n, device) for j in active]
        epoch_loss = torch.zeros(len(active), device=device)
        step = t * per_epoch
        for start in range(0, n, batch_size):
            idx = [o[start : start + batch_size] for o in orders]
            if idx[0].numel() < 2:  # BatchNorm needs two rows
                continue
            lrs = [learning_rate(schedule, base_lrs[j], step, per_epoch * lengths[j]) for j in active]
            step += 1
            epoch_loss += step_fn(idx, lrs) * idx[0].numel()
        for j, loss in zip(active, epoch_loss.tolist()):
            losses[j].append(loss / n)
    group([])
    return losses


def validation_split(task, seed: int, fraction: float, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(fit rows, held-out rows) of `task`'s training rows: `fraction` of them (at least 2) held out, drawn by `seed`."""
    perm = torch.randperm(task.n_train, generator=torch.Generator().manual_seed(derive_seed(seed, "val-split", task.name)))
    n_val = max(2, int(round(fraction * task.n_train)))
    return perm[n_val:].to(device), perm[:n_val].to(device)


class EarlyStopping:
    """Stop when the held-out loss has not improved on its best (by `MIN_DELTA`) for `patience` epochs; keep the best."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best, self.epoch, self.state = math.inf, 0, None

    def stop(self, epoch: int, val_loss: float, model: nn.Module) -> bool:
        """Record epoch `epoch` (1-based); True when training should stop."""
        if val_loss < self.best - MIN_DELTA:
            self.best, self.epoch, self.state = val_loss, epoch, cpu_state(model.state_dict())
            return False
        return epoch - self.epoch >= self.patience


def each(value: int | Sequence[int], k: int, name: str) -> list[int]:
    """An int for every network, or one per network."""
    values = [int(value)] * k if isinstance(value, int) else [int(v) for v in value]
    if len(values) != k:
        raise ValueError(f"{name}: one per architecture ({k}), got {len(values)}")
    return values


def train(engine: Engine, task, archs: Sequence[Architecture], epochs: int | Sequence[int], seeds: int | Sequence[int],
          train_cfg, device: torch.device | str = "cpu",
          resumes: Sequence[TrainState | None] | None = None) -> list[TrainResult]:
    """Train each of `archs` on `task` to its `epochs` total epochs, continuing from its resume state if given.

    Uses all of the task's training rows (`train_cfg.schedule` within the call); accuracy and loss are measured on
    its test split after BatchNorm recalibration. `seconds` is the wall time divided by the number of networks.
    """
    k = len(archs)
    epochs, seeds = each(epochs, k, "epochs"), each(seeds, k, "seeds")
    resumes = list(resumes) if resumes is not None else [None] * k
    if min(epochs, default=1) < 1:
        raise ValueError(f"epochs must be >= 1, got {min(epochs)}")
    device = torch.device(device)
    t0 = time.perf_counter()
    models = [engine.new_model(a, task.in_channels, task.n_classes, s, device) for a, s in zip(archs, seeds)]
    opts = [new_optimizer(m, train_cfg.lr, train_cfg.weight_decay) for m in models]
    done, history = [0] * k, [[] for _ in range(k)]
    for j, state in enumerate(resumes):
        if state is not None:
            if state.arch != archs[j].id or state.epochs > epochs[j]:
                raise ValueError(f"cannot resume {state.arch} at {state.epochs} epochs into {archs[j].id} at {epochs[j]}")
            models[j].load_state_dict(state.model)
            opts[j].load_state_dict(state.optimizer)
            done[j], history[j] = state.epochs, list(state.history)
    x, y = prepare(task.x_train, device), task.y_train.to(device)
    p = train_cfg.precision
    losses = engine.run_epochs(models, opts, [x] * k, [y] * k, done, epochs, seeds, train_cfg.batch_size,
                               train_cfg.schedule, p)
    engine.recalibrate(models, [x] * k, p)
    x_test, y_test = prepare(task.x_test, device), task.y_test.to(device)
    scores = engine.evaluate(models, [x_test] * k, [y_test] * k, p)
    seconds = (time.perf_counter() - t0) / max(1, k)
    out = []
    for j in range(k):
        history[j] += [{"epoch": done[j] + i + 1, "train_loss": l} for i, l in enumerate(losses[j])]
        state = TrainState(archs[j].id, epochs[j], cpu_state(models[j].state_dict()), cpu_state(opts[j].state_dict()),
                           history[j])
        out.append(TrainResult(archs[j].id, epochs[j], *scores[j], seconds, history[j], state, engine=engine.name))
    return out


def train_to_convergence(engine: Engine, task, archs: Sequence[Architecture], seeds: int | Sequence[int], train_cfg,
                         device: torch.device | str = "cpu") -> list[tuple[TrainResult, nn.Module]]:
    """Train each of `archs` until its held-out loss stops improving for `patience` epochs (cap `max_epochs`).

    Stopping rule: `val_fraction` of the training rows (drawn by the network's seed, `validation_split`) are
    held out; after each epoch (constant rate, BatchNorm recalibrated) their loss is measured; a network stops
    when it has not improved on its best for `patience` epochs (`EarlyStopping`), leaves the others, and keeps
    the weights of its best epoch. Returns (TrainResult, model) per network.
    """
    k = len(archs)
    seeds = each(seeds, k, "seeds")
    device = torch.device(device)
    t0 = time.perf_counter()
    x_all, y_all = prepare(task.x_train, device), task.y_train.to(device)
    fit, val = [], []
    for s in seeds:
        f, v = validation_split(task, s, train_cfg.val_fraction, device)
        fit.append((x_all[f], y_all[f]))
        val.append((x_all[v], y_all[v]))
    models = [engine.new_model(a, task.in_channels, task.n_classes, s, device) for a, s in zip(archs, seeds)]
    opts = [new_optimizer(m, train_cfg.lr, train_cfg.weight_decay) for m in models]
    stops = [EarlyStopping(train_cfg.patience) for _ in range(k)]
    history: list[list[dict]] = [[] for _ in range(k)]
    active, p = list(range(k)), train_cfg.precision
    for epoch in range(train_cfg.max_epochs):
        ms, xs = [models[j] for j in active], [fit[j][0] for j in active]
        losses = engine.run_epochs(ms, [opts[j] for j in active], xs, [fit[j][1] for j in active], [epoch] * len(active),
                                   [epoch + 1] * len(active), [seeds[j] for j in active], train_cfg.batch_size,
                                   "constant", p)
        engine.recalibrate(ms, xs, p)
        scores = engine.evaluate(ms, [val[j][0] for j in active], [val[j][1] for j in active], p)
        stopped = []
        for j, (loss,), (_, val_loss) in zip(active, losses, scores):
            history[j].append({"epoch": epoch + 1, "train_loss": loss, "val_loss": val_loss})
            if stops[j].stop(epoch + 1, val_loss, models[j]):
                stopped.append(j)
        active = [j for j in active if j not in stopped]
        if not active:
            break
    for j in range(k):
        models[j].load_state_dict(stops[j].state)
    x_test, y_test = prepare(task.x_test, device), task.y_test.to(device)
    scores = engine.evaluate(models, [x_test] * k, [y_test] * k, p)
    seconds = (time.perf_counter() - t0) / max(1, k)
    return [(TrainResult(archs[j].id, stops[j].epoch, *scores[j], seconds, history[j],
                         TrainState(archs[j].id, stops[j].epoch, stops[j].state, {}, history[j]), engine=engine.name),
             models[j]) for j in range(k)]
