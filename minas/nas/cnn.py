"""The CNN of an architecture, its training on in-memory tensors, accuracy and activations.

Source: Kossmann 2019 (thesis) section 2.2 fixes only the 4 conv layers and their filter
counts; the macro-structure here is ours (documented in `CNN`). Training is resumable and
deterministic: epoch e of a run with seed s always sees the same batches, and the optimizer
state travels in the checkpoint, so 4 epochs then 8 more equals 12 epochs straight.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from minas.core.seeding import derive_seed
from minas.nas.device import native_bf16, pick_device, resolve_precision  # noqa: F401 (cnn.* names callers use)
from minas.nas.space import Architecture, parse_architecture


def layer_activations(convs, norms, x: torch.Tensor) -> list[torch.Tensor]:
    """The thesis stem's per-layer activations: conv, BatchNorm, ReLU, with 2x2 max-pooling before layers 2 and 3
    (shared by one network, `CNN`, and N networks packed side by side, `minas.nas._packed`)."""
    acts = []
    for i, (conv, norm) in enumerate(zip(convs, norms)):
        if i in (1, 2):
            x = F.max_pool2d(x, 2)
        x = F.relu(norm(conv(x)))
        acts.append(x)
    return acts


class CNN(nn.Module):
    """4 x [conv 3x3 -> BatchNorm -> ReLU], max-pool 2 after layers 1 and 2, global mean, linear.

    Pooling after the first two layers keeps layers 3-4 cheap (H/4) while every layer still
    sees a spatial map (the thesis MINE critics convolve over it). BatchNorm makes a few
    epochs enough for a fair Hyperband comparison. Activations are taken after each ReLU.
    """

    def __init__(self, arch: Architecture, in_channels: int, n_classes: int):
        super().__init__()
        chans = (in_channels,) + arch.filters
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1, bias=False) for i in range(4))
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in arch.filters)
        self.head = nn.Linear(arch.filters[-1], n_classes)
        self.arch = arch

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer activations, each (B, C_i, H_i, W_i)."""
        return layer_activations(self.convs, self.norms, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, K)
        return self.head(self.features(x)[-1].mean(dim=(2, 3)))


def flops_per_image(arch: Architecture, in_channels: int, image_size: int) -> float:
    """Forward multiply-adds x 2 of the convs and head for one image (training is ~3x this)."""
    chans = (in_channels,) + arch.filters
    total, side = 0.0, image_size
    for i in range(4):
        if i in (1, 2):
            side //= 2
        total += 2.0 * side * side * chans[i] * chans[i + 1] * 9
    return total


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


def _prepare(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float in [-1, 1] on the device, channels-last."""
    return (x.to(device, torch.float32).div_(127.5).sub_(1.0)).contiguous(memory_format=torch.channels_last)


def new_model(arch: Architecture, in_channels: int, n_classes: int, seed: int, device: torch.device) -> CNN:
    """A freshly initialized CNN; initialization depends only on (arch, seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init", arch.id))
        model = CNN(arch, in_channels, n_classes)
    return model.to(device, memory_format=torch.channels_last)


def _optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)


def _autocast(precision: str, device: torch.device) -> torch.autocast:
    """The autocast context of a training precision on `device` (a disabled one for fp32)."""
    bf16 = resolve_precision(precision, device) == "bf16"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)


def run_epochs(
    model: CNN,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    start_epoch: int,
    end_epoch: int,
    seed: int,
    batch_size: int,
    schedule: str = "constant",
    precision: str = "fp32",
) -> list[float]:
    """Train epochs start_epoch+1..end_epoch on prepared tensors; returns mean train loss per epoch.

    schedule "rung_cosine": the learning rate falls from its base value to 0 along a half cosine
    over the steps of this call (one Hyperband rung) and restarts at the next call (as in SGDR,
    Loshchilov & Hutter 2017), so every evaluation sees a network at the end of a decay rather
    than one mid-way through noisy constant-rate steps.

    precision "bf16" (or "auto" on hardware with native bfloat16): mixed precision, the convolutions and
    the head computed in bfloat16 under autocast while weights, gradients and optimizer state stay in
    float32. On the development CPU (AVX-512 BF16) this trains the 60- and 120-filter networks 1.3-1.4x
    and 1.6-2x faster (`benchmarks/train_throughput.py`). `train` recalibrates and evaluates in the same
    precision; `activations` (the MI estimators' input) are always computed in float32.
    """
    amp = _autocast(precision, x.device)
    losses = []
    n = x.shape[0]
    model.train()
    steps_per_epoch = sum(1 for s in range(0, n, batch_size) if min(batch_size, n - s) >= 2)
    total, step = steps_per_epoch * (end_epoch - start_epoch), 0
    base = [g["lr"] for g in opt.param_groups]
    for epoch in range(start_epoch, end_epoch):
        gen = torch.Generator().manual_seed(derive_seed(seed, "batches", epoch))
        order = torch.randperm(n, generator=gen).to(x.device)
        epoch_loss = torch.zeros((), device=x.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            if idx.numel() < 2:  # BatchNorm needs two rows
                continue
            if schedule == "rung_cosine":
                for g, lr in zip(opt.param_groups, base):
                    g["lr"] = 0.5 * lr * (1.0 + math.cos(math.pi * step / total))
                step += 1
            with amp:
                loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            epoch_loss += loss.detach() * idx.numel()
        losses.append(float(epoch_loss) / n)
    for g, lr in zip(opt.param_groups, base):
        g["lr"] = lr  # the checkpointed optimizer keeps its base rate
    return losses


@torch.no_grad()
def recalibrate(model: CNN, x: torch.Tensor, batch_size: int = 256, max_rows: int = 1024, precision: str = "fp32") -> None:
    """Recompute BatchNorm statistics as exact averages over (up to max_rows) training rows.

    After a few epochs the running averages still carry the early, untrained statistics; on
    the smoke profile this cut test accuracy from 0.70 to 0.21 after 6 epochs. Re-estimating
    them is one forward pass and makes short Hyperband rungs comparable. `precision` as in training.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    rows = x[:: max(1, x.shape[0] // max_rows)][:max_rows]  # strided: every class even if rows are sorted
    with _autocast(precision, rows.device):
        for start in range(0, rows.shape[0], batch_size):
            model(rows[start : start + batch_size])
    for m, mom in zip(norms, momenta):
        m.momentum = mom


@torch.no_grad()
def evaluate(model: CNN, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024,
             precision: str = "fp32") -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of a model on prepared tensors; `precision` as in training."""
    model.eval()
    correct, loss = 0, 0.0
    amp = _autocast(precision, x.device)
    for start in range(0, x.shape[0], batch_size):
        with amp:
            logits = model(x[start : start + batch_size]).float()
        target = y[start : start + batch_size]
        correct += int((logits.argmax(1) == target).sum())
        loss += float(F.cross_entropy(logits, target, reduction="sum"))
    return correct / max(1, x.shape[0]), loss / max(1, x.shape[0])


@torch.no_grad()
def activations(model: CNN, x: torch.Tensor, batch_size: int = 512) -> list[torch.Tensor]:
    """Per-layer activations of prepared or uint8 images, each (N, C_i, H_i, W_i) float32 on CPU."""
    model.eval()
    device = next(model.parameters()).device
    if x.dtype == torch.uint8:
        x = _prepare(x, device)
    parts: list[list[torch.Tensor]] = [[] for _ in range(4)]
    for start in range(0, x.shape[0], batch_size):
        for i, a in enumerate(model.features(x[start : start + batch_size].to(device))):
            parts[i].append(a.float().cpu().contiguous())
    return [torch.cat(p) for p in parts]


def train(
    task,
    arch: Architecture,
    epochs: int,
    seed: int,
    train_cfg,
    device: torch.device | str = "cpu",
    resume: TrainState | None = None,
) -> TrainResult:
    """Train `arch` on `task` to `epochs` total epochs, continuing from `resume` if given.

    Uses all of the task's training rows; accuracy and loss are measured on its test split.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    device = torch.device(device) if isinstance(device, str) else device
    t0 = time.perf_counter()
    model = new_model(arch, task.in_channels, task.n_classes, seed, device)
    opt = _optimizer(model, train_cfg.lr, train_cfg.weight_decay)
    done, history = 0, []
    if resume is not None:
        if resume.arch != arch.id or resume.epochs > epochs:
            raise ValueError(f"cannot resume {resume.arch} at {resume.epochs} epochs into {arch.id} at {epochs}")
        model.load_state_dict(resume.model)
        opt.load_state_dict(resume.optimizer)
        done, history = resume.epochs, list(resume.history)
    x, y = _prepare(task.x_train, device), task.y_train.to(device)
    p = train_cfg.precision
    losses = run_epochs(model, opt, x, y, done, epochs, seed, train_cfg.batch_size, train_cfg.schedule, p)
    recalibrate(model, x, precision=p)
    history += [{"epoch": done + i + 1, "train_loss": l} for i, l in enumerate(losses)]
    acc, test_loss = evaluate(model, _prepare(task.x_test, device), task.y_test.to(device), precision=p)
    state = TrainState(arch.id, epochs, _cpu_state(model.state_dict()), _cpu_state(opt.state_dict()), history)
    return TrainResult(arch.id, epochs, acc, test_loss, time.perf_counter() - t0, history, state)


def train_to_convergence(task, arch: Architecture, seed: int, train_cfg, device: torch.device | str = "cpu"):
    """Train until held-out loss stops improving for `patience` epochs (cap `max_epochs`).

    Stopping rule: `val_fraction` of the training rows (seeded) are held out; after each
    epoch their loss is measured; training stops when it has not improved on its best for
    `patience` epochs, and the weights of the best epoch are kept. Returns (TrainResult, model).
    """
    device = torch.device(device) if isinstance(device, str) else device
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(derive_seed(seed, "val-split", task.name))
    perm = torch.randperm(task.n_train, generator=gen)
    n_val = max(2, int(round(train_cfg.val_fraction * task.n_train)))
    val_idx, fit_idx = perm[:n_val], perm[n_val:]
    x_all, y_all = _prepare(task.x_train, device), task.y_train.to(device)
    x_fit, y_fit = x_all[fit_idx.to(device)], y_all[fit_idx.to(device)]
    x_val, y_val = x_all[val_idx.to(device)], y_all[val_idx.to(device)]
    model = new_model(arch, task.in_channels, task.n_classes, seed, device)
    opt = _optimizer(model, train_cfg.lr, train_cfg.weight_decay)
    best, best_state, best_epoch, history = float("inf"), None, 0, []
    for epoch in range(train_cfg.max_epochs):
        (loss,) = run_epochs(model, opt, x_fit, y_fit, epoch, epoch + 1, seed, train_cfg.batch_size,
                             precision=train_cfg.precision)
        recalibrate(model, x_fit, precision=train_cfg.precision)
        _, val_loss = evaluate(model, x_val, y_val, precision=train_cfg.precision)
        history.append({"epoch": epoch + 1, "train_loss": loss, "val_loss": val_loss})
        if val_loss < best - 1e-4:
            best, best_epoch, best_state = val_loss, epoch + 1, _cpu_state(model.state_dict())
        elif epoch + 1 - best_epoch >= train_cfg.patience:
            break
    model.load_state_dict(best_state)
    acc, test_loss = evaluate(model, _prepare(task.x_test, device), task.y_test.to(device), precision=train_cfg.precision)
    state = TrainState(arch.id, best_epoch, best_state, {}, history)
    return TrainResult(arch.id, best_epoch, acc, test_loss, time.perf_counter() - t0, history, state), model


def _cpu_state(state: dict) -> dict:
    """Deep copy of a state dict with tensors on the CPU (safe to pickle and to keep)."""
    out = {}
    for k, v in state.items():
        if isinstance(v, torch.Tensor):
            out[k] = v.detach().to("cpu", copy=True)
        elif isinstance(v, dict):
            out[k] = _cpu_state(v)
        elif isinstance(v, list):
            out[k] = [_cpu_state(i) if isinstance(i, dict) else i for i in v]
        else:
            out[k] = v
    return out


def load_model(state: TrainState, in_channels: int, n_classes: int, device: torch.device | str = "cpu") -> CNN:
    """Rebuild a trained CNN from its state."""
    model = CNN(parse_architecture(state.arch), in_channels, n_classes)
    model.load_state_dict(state.model)
    return model.to(device, memory_format=torch.channels_last)
