"""The CNN of an architecture, and the engine that trains such networks one at a time.

Source: Kossmann 2019 (thesis) section 2.2 fixes only the 4 conv layers and their filter
counts; the macro-structure here is ours (documented in `CNN`). How a network is trained (batch
order, schedule, held-out split, early stopping, resuming) is `minas.nas.recipe`'s; this module
supplies the one-network step, BatchNorm recalibration and evaluation (`OneAtATime`), and
`train` / `train_to_convergence` are the recipe run with it.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from minas.core.seeding import derive_seed
from minas.nas import recipe
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


def new_model(arch: Architecture, in_channels: int, n_classes: int, seed: int, device: torch.device) -> CNN:
    """A freshly initialized CNN; initialization depends only on (arch, seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init", arch.id))
        model = CNN(arch, in_channels, n_classes)
    return model.to(device, memory_format=torch.channels_last)


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
    """Train epochs start_epoch+1..end_epoch on prepared tensors (`recipe.epoch_loop`); returns mean train loss per epoch.

    `schedule` as `recipe.learning_rate` (the optimizer keeps its base rate afterwards, as checkpointed).
    precision "bf16" (or "auto" on hardware with native bfloat16): mixed precision (`recipe.autocast`). On the
    development CPU (AVX-512 BF16) this trains the 60- and 120-filter networks 1.3-1.4x and 1.6-2x faster
    (`benchmarks/train_throughput.py`). `train` recalibrates and evaluates in the same precision; `activations`
    (the MI estimators' input) are always computed in float32.
    """
    if len(opt.param_groups) != 1:
        raise ValueError(f"run_epochs steps one parameter group (as recipe.new_optimizer makes), got {len(opt.param_groups)}")
    amp = recipe.autocast(precision, x.device)
    group = opt.param_groups[0]
    base = group["lr"]

    def step(idx: list[torch.Tensor], lrs: list[float]) -> torch.Tensor:
        group["lr"] = lrs[0]
        with amp:
            loss = F.cross_entropy(model(x[idx[0]]), y[idx[0]])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach().reshape(1)

    model.train()
    (losses,) = recipe.epoch_loop(lambda active: step, x.shape[0], [start_epoch], [end_epoch], [seed], [base],
                                  batch_size, schedule, x.device)
    group["lr"] = base  # the checkpointed optimizer keeps its base rate
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
    rows = recipe.calibration_rows(x, max_rows)
    with recipe.autocast(precision, rows.device):
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
    amp = recipe.autocast(precision, x.device)
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
        x = recipe.prepare(x, device)
    parts: list[list[torch.Tensor]] = [[] for _ in range(4)]
    for start in range(0, x.shape[0], batch_size):
        for i, a in enumerate(model.features(x[start : start + batch_size].to(device))):
            parts[i].append(a.float().cpu().contiguous())
    return [torch.cat(p) for p in parts]


class OneAtATime:
    """The engine that trains networks one after another (`recipe.Engine`): `run_epochs`, `recalibrate`, `evaluate`."""

    name = "cnn"

    def new_model(self, arch: Architecture, in_channels: int, n_classes: int, seed: int, device: torch.device) -> CNN:
        return new_model(arch, in_channels, n_classes, seed, device)

    def run_epochs(self, models, opts, xs, ys, starts, ends, seeds, batch_size, schedule, precision) -> list[list[float]]:
        return [run_epochs(*one, batch_size, schedule, precision) for one in zip(models, opts, xs, ys, starts, ends, seeds)]

    def recalibrate(self, models: Sequence[CNN], xs: Sequence[torch.Tensor], precision: str) -> None:
        for m, x in zip(models, xs):
            recalibrate(m, x, precision=precision)

    def evaluate(self, models, xs, ys, precision: str) -> list[tuple[float, float]]:
        return [evaluate(m, x, y, precision=precision) for m, x, y in zip(models, xs, ys)]


ONE_AT_A_TIME = OneAtATime()


def train(task, arch: Architecture, epochs: int, seed: int, train_cfg, device: torch.device | str = "cpu",
          resume: recipe.TrainState | None = None) -> recipe.TrainResult:
    """Train `arch` on `task` to `epochs` total epochs, continuing from `resume` if given (`recipe.train`).

    Uses all of the task's training rows; accuracy and loss are measured on its test split.
    """
    (result,) = recipe.train(ONE_AT_A_TIME, task, [arch], epochs, seed, train_cfg, device, [resume])
    return result


def train_to_convergence(task, arch: Architecture, seed: int, train_cfg,
                         device: torch.device | str = "cpu") -> tuple[recipe.TrainResult, CNN]:
    """Train until held-out loss stops improving for `patience` epochs (cap `max_epochs`); `recipe.train_to_convergence`
    has the stopping rule. Returns (TrainResult, model) with the weights of the best epoch."""
    (got,) = recipe.train_to_convergence(ONE_AT_A_TIME, task, [arch], seed, train_cfg, device)
    return got




def load_model(state: recipe.TrainState, in_channels: int, n_classes: int, device: torch.device | str = "cpu") -> CNN:
    """Rebuild a trained CNN from its state."""
    model = CNN(parse_architecture(state.arch), in_channels, n_classes)
    model.load_state_dict(state.model)
    return model.to(device, memory_format=torch.channels_last)
