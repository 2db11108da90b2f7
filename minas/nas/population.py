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

import math
import time
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from minas.core.seeding import derive_seed
from minas.nas import _packed, cnn
from minas.nas.cnn import CNN, TrainResult, TrainState
from minas.nas.space import Architecture

ENGINE = "population"  # TrainResult.engine of a result trained here
CUDA_GROUP = 16  # train.group_size 0 (auto) on a GPU: networks per group (launch-bound: fill the device)
CPU_GROUP = 8  # ... on a CPU, for narrow networks only (benchmarks/population_training.py)
CPU_NARROW = 30  # ... a network is narrow on the CPU when no layer has more filters than this


def run_epochs(models: Sequence[CNN], opts: Sequence[torch.optim.Optimizer], xs: Sequence[torch.Tensor],
               ys: Sequence[torch.Tensor], starts: Sequence[int], ends: Sequence[int], seeds: Sequence[int],
               batch_size: int, schedule: str = "constant", precision: str = "fp32") -> list[list[float]]:
    """`cnn.run_epochs` for every network j at once: epochs starts[j]+1..ends[j] on (xs[j], ys[j]), in place.

    Models and optimizers are plain `CNN`s and `cnn._optimizer`s; they are packed, trained and written back
    (weights, BatchNorm statistics, momentum buffers). All xs share their row count and image shape.
    Returns each network's mean train loss per epoch.
    """
    n = xs[0].shape[0]
    if any(x.shape != xs[0].shape for x in xs) or len({len(models), len(opts), len(ys), len(starts), len(ends), len(seeds)}) != 1:
        raise ValueError("a population needs one model, optimizer, rows, labels, start, end and seed per network, "
                         "and rows of one shape: group networks by task")
    decays = {o.param_groups[0]["weight_decay"] for o in opts}
    if len(decays) != 1:
        raise ValueError(f"a population shares its weight decay, got {sorted(decays)}")
    wd = decays.pop()
    base = [o.param_groups[0]["lr"] for o in opts]
    lengths = [e - s for s, e in zip(starts, ends)]
    per_epoch = sum(1 for s in range(0, n, batch_size) if min(batch_size, n - s) >= 2)
    amp = cnn._autocast(precision, xs[0].device)
    losses: list[list[float]] = [[] for _ in models]
    active: list[int] = []
    packed = bufs = None
    for t in range(max(lengths, default=0)):
        now = [j for j in range(len(models)) if t < lengths[j]]
        if now != active:  # a network is done: write the group back and repack the others
            if packed is not None:
                _write_back(packed, bufs, [models[j] for j in active], [opts[j] for j in active])
            active = now
            packed = _packed.pack([models[j] for j in active])
            bufs = _packed.pack_momentum(packed, [opts[j] for j in active], [models[j] for j in active])
            packed.train()
        orders = [torch.randperm(n, generator=torch.Generator().manual_seed(derive_seed(seeds[j], "batches", starts[j] + t)))
                  .to(xs[j].device) for j in active]
        epoch_loss = torch.zeros(len(active), device=xs[0].device)
        step = t * per_epoch
        for start in range(0, n, batch_size):
            idx = [o[start : start + batch_size] for o in orders]
            if idx[0].numel() < 2:  # BatchNorm needs two rows
                continue
            lrs = [base[j] if schedule != "rung_cosine" else
                   0.5 * base[j] * (1.0 + math.cos(math.pi * step / (per_epoch * lengths[j]))) for j in active]
            step += 1
            xb = torch.cat([xs[j][i] for j, i in zip(active, idx)], dim=1).contiguous(memory_format=torch.channels_last)
            yb = torch.stack([ys[j][i] for j, i in zip(active, idx)])  # (N, B)
            with amp:
                logits = packed(xb)  # (N, B, K)
                per_net = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(len(active), -1).mean(1)
            for p in packed.parameters():
                p.grad = None
            per_net.sum().backward()  # network j's parameters see only loss j
            _packed.sgd_step(packed, bufs, lrs, wd)
            epoch_loss += per_net.detach() * idx[0].numel()
        for j, loss in zip(active, epoch_loss.tolist()):
            losses[j].append(loss / n)
    if packed is not None:
        _write_back(packed, bufs, [models[j] for j in active], [opts[j] for j in active])
    return losses


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
    rows = [x[:: max(1, x.shape[0] // max_rows)][:max_rows] for x in xs]
    with cnn._autocast(precision, xs[0].device):
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
    amp = cnn._autocast(precision, xs[0].device)
    for start in range(0, n, rows):
        xb = torch.cat([x[start : start + rows] for x in xs], dim=1).contiguous(memory_format=torch.channels_last)
        with amp:
            logits = packed(xb).float()  # (N, B, K)
        target = torch.stack([y[start : start + rows] for y in ys])
        correct += (logits.argmax(2) == target).sum(1).cpu()
        for j in range(len(models)):
            loss[j] += float(F.cross_entropy(logits[j], target[j], reduction="sum"))
    return [(int(c) / max(1, n), s / max(1, n)) for c, s in zip(correct, loss)]


def train(task, archs: Sequence[Architecture], epochs: int | Sequence[int], seeds: int | Sequence[int], train_cfg,
          device: torch.device | str = "cpu", resumes: Sequence[TrainState | None] | None = None) -> list[TrainResult]:
    """`cnn.train` of every architecture on `task` in one population; returns one `TrainResult` each.

    `seconds` is the group's wall time divided by its size (its cost per network).
    """
    k = len(archs)
    epochs, seeds = _each(epochs, k, "epochs"), _each(seeds, k, "seeds")
    resumes = list(resumes) if resumes is not None else [None] * k
    if min(epochs, default=1) < 1:
        raise ValueError(f"epochs must be >= 1, got {min(epochs)}")
    device = torch.device(device)
    t0 = time.perf_counter()
    models = [cnn.new_model(a, task.in_channels, task.n_classes, s, device) for a, s in zip(archs, seeds)]
    opts = [cnn._optimizer(m, train_cfg.lr, train_cfg.weight_decay) for m in models]
    done, history = [0] * k, [[] for _ in range(k)]
    for j, state in enumerate(resumes):
        if state is not None:
            if state.arch != archs[j].id or state.epochs > epochs[j]:
                raise ValueError(f"cannot resume {state.arch} at {state.epochs} epochs into {archs[j].id} at {epochs[j]}")
            models[j].load_state_dict(state.model)
            opts[j].load_state_dict(state.optimizer)
            done[j], history[j] = state.epochs, list(state.history)
    x, y = cnn._prepare(task.x_train, device), task.y_train.to(device)
    p = train_cfg.precision
    losses = run_epochs(models, opts, [x] * k, [y] * k, done, epochs, seeds, train_cfg.batch_size, train_cfg.schedule, p)
    recalibrate(models, [x] * k, precision=p)
    x_test, y_test = cnn._prepare(task.x_test, device), task.y_test.to(device)
    scores = evaluate(models, [x_test] * k, [y_test] * k, precision=p)
    seconds = (time.perf_counter() - t0) / max(1, k)
    out = []
    for j in range(k):
        history[j] += [{"epoch": done[j] + i + 1, "train_loss": l} for i, l in enumerate(losses[j])]
        state = TrainState(archs[j].id, epochs[j], cnn._cpu_state(models[j].state_dict()),
                           cnn._cpu_state(opts[j].state_dict()), history[j])
        out.append(TrainResult(archs[j].id, epochs[j], *scores[j], seconds, history[j], state, engine=ENGINE))
    return out


def train_to_convergence(task, archs: Sequence[Architecture], seeds: int | Sequence[int], train_cfg,
                         device: torch.device | str = "cpu") -> list[tuple[TrainResult, CNN]]:
    """`cnn.train_to_convergence` of every architecture in one population; a stopped network leaves the group."""
    k = len(archs)
    seeds = _each(seeds, k, "seeds")
    device = torch.device(device)
    t0 = time.perf_counter()
    x_all, y_all = cnn._prepare(task.x_train, device), task.y_train.to(device)
    fit, val = [], []
    for s in seeds:  # the held-out split of each network's seed, as cnn.train_to_convergence draws it
        perm = torch.randperm(task.n_train, generator=torch.Generator().manual_seed(derive_seed(s, "val-split", task.name)))
        n_val = max(2, int(round(train_cfg.val_fraction * task.n_train)))
        v, f = perm[:n_val].to(device), perm[n_val:].to(device)
        fit.append((x_all[f], y_all[f]))
        val.append((x_all[v], y_all[v]))
    models = [cnn.new_model(a, task.in_channels, task.n_classes, s, device) for a, s in zip(archs, seeds)]
    opts = [cnn._optimizer(m, train_cfg.lr, train_cfg.weight_decay) for m in models]
    best, best_state, best_epoch = [math.inf] * k, [None] * k, [0] * k
    history: list[list[dict]] = [[] for _ in range(k)]
    active, p = list(range(k)), train_cfg.precision
    for epoch in range(train_cfg.max_epochs):
        ms, os_ = [models[j] for j in active], [opts[j] for j in active]
        losses = run_epochs(ms, os_, [fit[j][0] for j in active], [fit[j][1] for j in active], [epoch] * len(active),
                            [epoch + 1] * len(active), [seeds[j] for j in active], train_cfg.batch_size, precision=p)
        recalibrate(ms, [fit[j][0] for j in active], precision=p)
        scores = evaluate(ms, [val[j][0] for j in active], [val[j][1] for j in active], precision=p)
        stopped = []
        for j, (loss,), (_, val_loss) in zip(active, losses, scores):
            history[j].append({"epoch": epoch + 1, "train_loss": loss, "val_loss": val_loss})
            if val_loss < best[j] - 1e-4:
                best[j], best_epoch[j], best_state[j] = val_loss, epoch + 1, cnn._cpu_state(models[j].state_dict())
            elif epoch + 1 - best_epoch[j] >= train_cfg.patience:
                stopped.append(j)
        active = [j for j in active if j not in stopped]
        if not active:
            break
    for j in range(k):
        models[j].load_state_dict(best_state[j])
    x_test, y_test = cnn._prepare(task.x_test, device), task.y_test.to(device)
    scores = evaluate(models, [x_test] * k, [y_test] * k, precision=p)
    seconds = (time.perf_counter() - t0) / max(1, k)
    return [(TrainResult(archs[j].id, best_epoch[j], *scores[j], seconds, history[j],
                         TrainState(archs[j].id, best_epoch[j], best_state[j], {}, history[j]), engine=ENGINE), models[j])
            for j in range(k)]


def _each(value, k: int, name: str) -> list[int]:
    """An int for every network, or one per network."""
    values = [int(value)] * k if isinstance(value, int) else [int(v) for v in value]
    if len(values) != k:
        raise ValueError(f"{name}: one per architecture ({k}), got {len(values)}")
    return values


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


def groups_for(archs: Sequence[Architecture], setting: int, device: torch.device | str) -> list[list[int]]:
    """Indices of `archs` (trainings of one task wanted together) in the populations they train as under
    `train.group_size` = `setting`: one each at 1; else `group_architectures` at the size `choose_group_size`
    picks for `device` (0: per device)."""
    if setting == 1 or len(archs) < 2:
        return [[i] for i in range(len(archs))]
    size, widest = choose_group_size(setting, device)
    return group_architectures(archs, size, widest)
