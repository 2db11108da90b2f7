"""Population training: a group of CNNs of the search space trained in one step, each as if alone.

Source: horizontal model fusion (HFTA, Wang et al., MLSys 2021; Pack, Liu et al. 2020) for the
thesis CNN (Kossmann 2019, section 2.2). A small CNN's step is some 40 kernel launches, so a GPU
(and, for narrow networks, a CPU) idles; N networks packed side by side (`_packed.PackedCNN`:
grouped convolutions, BatchNorm over N x C channels = per-network statistics, a batched head) do
N networks' work in one step. Every network keeps its own initialization, its own batches (its
seed's order), its own SGD momentum and its own learning rate (a per-network rate tensor, so
different schedules share a step); a network that is done (its epochs, or early stopping) leaves
the group, which is repacked. The results equal `cnn.train` / `cnn.train_to_convergence` run one
after another up to floating-point summation order (tests/nas/test_population.py: exact in float64).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from minas.nas import _packed, cnn, recipe
from minas.nas.cnn import CNN
from minas.nas.recipe import TrainResult, TrainState
from minas.nas.space import Architecture

CUDA_GROUP = 16  # train.group_size 0 (auto) on a GPU: networks per group (launch-bound: fill the device)
CPU_GROUP = 8  # ... on a CPU, for narrow networks only (benchmarks/population_training.py)
CPU_NARROW = 30  # ... a network is narrow on the CPU when no layer has more filters than this


def run_epochs(models: Sequence[CNN], opts: Sequence[torch.optim.Optimizer], xs: Sequence[torch.Tensor],
               ys: Sequence[torch.Tensor], starts: Sequence[int], ends: Sequence[int], seeds: Sequence[int],
               batch_size: int, schedule: str = "constant", precision: str = "fp32") -> list[list[float]]:
    """`cnn.run_epochs` for every network j at once: epochs starts[j]+1..ends[j] on (xs[j], ys[j]), in place.

    The epoch loop, batch order and schedule are `recipe.epoch_loop`'s; this packs the networks still training
    (`_packed.pack`), steps them as one, and writes them back (weights, BatchNorm statistics, momentum buffers)
    when one leaves and at the end. Models and optimizers are plain `CNN`s and `recipe.new_optimizer`s; all xs
    share their row count and image shape. Returns each network's mean train loss per epoch.
    """
    if any(x.shape != xs[0].shape for x in xs) or len({len(models), len(opts), len(ys), len(starts), len(ends), len(seeds)}) != 1:
        raise ValueError("a population needs one model, optimizer, rows, labels, start, end and seed per network, "
                         "and rows of one shape: group networks by task")
    decays = {o.param_groups[0]["weight_decay"] for o in opts}
    if len(decays) != 1:
        raise ValueError(f"a population shares its weight decay, got {sorted(decays)}")
    group = _Group(models, opts, xs, ys, decays.pop(), recipe.autocast(precision, xs[0].device))
    base = [o.param_groups[0]["lr"] for o in opts]
    return recipe.epoch_loop(group, xs[0].shape[0], starts, ends, seeds, base, batch_size, schedule, xs[0].device)


class _Group:
    """`recipe.epoch_loop`'s group: packs the networks that step together (`_packed.pack`) and writes them back
    (weights, BatchNorm statistics, momentum buffers) when that set changes and at the end."""

    def __init__(self, models, opts, xs, ys, weight_decay: float, amp: torch.autocast):
        self.models, self.opts, self.xs, self.ys, self.wd, self.amp = models, opts, xs, ys, weight_decay, amp
        self.active: list[int] = []
        self.packed = self.bufs = None

    def __call__(self, active: list[int]):
        if self.packed is not None:
            _write_back(self.packed, self.bufs, [self.models[j] for j in self.active], [self.opts[j] for j in self.active])
        self.active, self.packed = active, None
        if not active:
            return None
        models = [self.models[j] for j in active]
        self.packed = _packed.pack(models)
        self.bufs = _packed.pack_momentum(self.packed, [self.opts[j] for j in active], models)
        self.packed.train()
        return self.step

    def step(self, idx: list[torch.Tensor], lrs: list[float]) -> torch.Tensor:
        """One SGD step of every active network on its rows `idx[j]` at its rate `lrs[j]`; their mean losses."""
        active, packed = self.active, self.packed
        xb = torch.cat([self.xs[j][i] for j, i in zip(active, idx)], dim=1).contiguous(memory_format=torch.channels_last)
        yb = torch.stack([self.ys[j][i] for j, i in zip(active, idx)])  # (N, B)
        with self.amp:
            logits = packed(xb)  # (N, B, K)
            per_net = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(len(active), -1).mean(1)
        for p in packed.parameters():
            p.grad = None
        per_net.sum().backward()  # network j's parameters see only loss j
        _packed.sgd_step(packed, self.bufs, lrs, self.wd)
        return per_net.detach()


def _write_back(packed, bufs, models, opts) -> None:
    _packed.unpack_into(packed, models)
    _packed.unpack_momentum(packed, bufs, opts, models)


@torch.no_grad()
def recalibrate(models: Sequence[CNN], xs: Sequence[torch.Tensor], batch_size: int = 256, max_rows: int = 1024,
                precision: str = "fp32") -> None:
    """`cnn.recalibrate` of every network at once (network j on its rows xs[j]), in place."""
    packed = _packed.pack(models)
    norms = list(packed.norms)
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    packed.train()
    rows = [recipe.calibration_rows(x, max_rows) for x in xs]
    with recipe.autocast(precision, xs[0].device):
        for start in range(0, rows[0].shape[0], batch_size):
            packed(torch.cat([r[start : start + batch_size] for r in rows], dim=1).contiguous(memory_format=torch.channels_last))
    _packed.unpack_into(packed, models)


@torch.no_grad()
def evaluate(models: Sequence[CNN], xs: Sequence[torch.Tensor], ys: Sequence[torch.Tensor], batch_size: int = 1024,
             precision: str = "fp32") -> list[tuple[float, float]]:
    """`cnn.evaluate` of every network at once: (accuracy, mean cross-entropy) of network j on (xs[j], ys[j])."""
    packed = _packed.pack(models)
    packed.eval()
    n, rows = xs[0].shape[0], max(1, batch_size // len(models))  # the same memory as one network's batch
    correct = torch.zeros(len(models), dtype=torch.long)
    loss = [0.0] * len(models)
    amp = recipe.autocast(precision, xs[0].device)
    for start in range(0, n, rows):
        xb = torch.cat([x[start : start + rows] for x in xs], dim=1).contiguous(memory_format=torch.channels_last)
        with amp:
            logits = packed(xb).float()  # (N, B, K)
        target = torch.stack([y[start : start + rows] for y in ys])
        correct += (logits.argmax(2) == target).sum(1).cpu()
        for j in range(len(models)):
            loss[j] += float(F.cross_entropy(logits[j], target[j], reduction="sum"))
    return [(int(c) / max(1, n), s / max(1, n)) for c, s in zip(correct, loss)]


class Population:
    """The engine that trains networks as one population (`recipe.Engine`): `run_epochs`, `recalibrate`, `evaluate`."""

    name = "population"  # TrainResult.engine of a result trained here

    def new_model(self, arch: Architecture, in_channels: int, n_classes: int, seed: int, device: torch.device) -> CNN:
        return cnn.new_model(arch, in_channels, n_classes, seed, device)

    def run_epochs(self, models, opts, xs, ys, starts, ends, seeds, batch_size, schedule, precision) -> list[list[float]]:
        return run_epochs(models, opts, xs, ys, starts, ends, seeds, batch_size, schedule, precision)

    def recalibrate(self, models: Sequence[CNN], xs: Sequence[torch.Tensor], precision: str) -> None:
        recalibrate(models, xs, precision=precision)

    def evaluate(self, models, xs, ys, precision: str) -> list[tuple[float, float]]:
        return evaluate(models, xs, ys, precision=precision)


POPULATION = Population()


def train(task, archs: Sequence[Architecture], epochs: int | Sequence[int], seeds: int | Sequence[int], train_cfg,
          device: torch.device | str = "cpu", resumes: Sequence[TrainState | None] | None = None) -> list[TrainResult]:
    """`cnn.train` of every architecture on `task` in one population (`recipe.train`); one `TrainResult` each.

    `seconds` is the group's wall time divided by its size (its cost per network).
    """
    return recipe.train(POPULATION, task, archs, epochs, seeds, train_cfg, device, resumes)


def train_to_convergence(task, archs: Sequence[Architecture], seeds: int | Sequence[int], train_cfg,
                         device: torch.device | str = "cpu") -> list[tuple[TrainResult, CNN]]:
    """`cnn.train_to_convergence` of every architecture in one population (`recipe.train_to_convergence`): each
    network keeps its own held-out split (its seed's); a stopped network leaves the group."""
    return recipe.train_to_convergence(POPULATION, task, archs, seeds, train_cfg, device)


def width_order(arch: Architecture) -> tuple[int, int, int, int]:
    """Sort key that keeps padding low: widths in the order (c2, c3, c1, c4), the layers that cost most first."""
    c1, c2, c3, c4 = arch.filters
    return (c2, c3, c1, c4)


def group_architectures(archs: Sequence[Architecture], group_size: int, max_width: int | None = None) -> list[list[int]]:
    """Indices of `archs` in groups of at most `group_size`, sorted by `width_order` (deterministic: ties by index).

    With `max_width`, a network with a layer wider than it trains alone (on the CPU only narrow groups pay).
    """
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    order = sorted(range(len(archs)), key=lambda i: (width_order(archs[i]), i))
    alone = [i for i in order if max_width is not None and max(archs[i].filters) > max_width]
    grouped = [i for i in order if i not in alone]
    return [grouped[s : s + group_size] for s in range(0, len(grouped), group_size)] + [[i] for i in alone]


def padding_factor(archs: Sequence[Architecture], in_channels: int = 1, image_size: int = 16) -> float:
    """FLOPs of the packed group over the sum of its networks' FLOPs (1.0: no padding)."""
    widest = Architecture(tuple(max(a.filters[i] for a in archs) for i in range(4)))
    own = sum(cnn.flops_per_image(a, in_channels, image_size) for a in archs)
    return len(archs) * cnn.flops_per_image(widest, in_channels, image_size) / own


def choose_group_size(setting: int, device: torch.device | str) -> tuple[int, int | None]:
    """(networks per group, widest layer allowed in a group) for `train.group_size` on `device`.

    setting >= 1 is taken as is; 0 (auto) means CUDA_GROUP on a GPU, and on a CPU CPU_GROUP for
    networks of at most CPU_NARROW filters per layer (wider ones alone, where grouping does not pay).
    """
    if setting < 0:
        raise ValueError(f"train.group_size must be >= 0 (0: chosen per device), got {setting}")
    if setting >= 1:
        return setting, None
    return (CUDA_GROUP, None) if torch.device(device).type == "cuda" else (CPU_GROUP, CPU_NARROW)


def trains_in_groups(setting: int) -> bool:
    """Whether `train.group_size` = `setting` trains the networks asked for together as populations: every setting
    but 1 (0: a size chosen per device, `choose_group_size`); at 1 each network trains alone (`cnn.train`)."""
    return setting != 1


def groups_for(archs: Sequence[Architecture], setting: int, device: torch.device | str) -> list[list[int]]:
    """Indices of `archs` (trainings of one task wanted together) in the populations they train as under
    `train.group_size` = `setting`: one each at 1; else `group_architectures` at the size `choose_group_size`
    picks for `device` (0: per device)."""
    if not trains_in_groups(setting) or len(archs) < 2:
        return [[i] for i in range(len(archs))]
    size, widest = choose_group_size(setting, device)
    return group_architectures(archs, size, widest)
