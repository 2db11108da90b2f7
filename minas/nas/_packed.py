"""N CNNs of the search space as one network: channels side by side, grouped convolutions.

Source: horizontal fusion of models as in HFTA (Wang et al., MLSys 2021) and Pack (Liu et al.
2020), applied to the thesis CNN (Kossmann 2019, section 2.2; `minas.nas.cnn.CNN`). HFTA fuses
equal shapes only; here networks of different widths share a group by zero padding: network j
owns channels [j * W_i, j * W_i + c_i) of layer i, where W_i is the widest network's c_i.

Why padded channels stay exactly 0 without masks: their conv weights, BatchNorm weight and bias
start at 0; a padded conv output is 0, so BatchNorm normalizes it to 0 (mean 0, variance 0) and
its weight and bias get zero gradients; ReLU(0) = 0 feeds weights that only ever see a zero input
(zero gradient); weight decay and momentum of a zero weight with a zero gradient stay 0.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from minas.nas.cnn import CNN, layer_activations
from minas.nas.recipe import MOMENTUM  # the recipe's SGD (nesterov), whose arithmetic `sgd_step` repeats
from minas.nas.space import Architecture


class PackedCNN(nn.Module):
    """N copies of `CNN`'s layout in one module: every conv grouped (groups = N), a batched head.

    Input (B, N * C_in, H, W): network j reads channels [j * C_in, (j + 1) * C_in), so each network
    can see its own batch. Output (N, B, K): network j's logits.
    """

    def __init__(self, archs: Sequence[Architecture], in_channels: int, n_classes: int):
        super().__init__()
        self.archs = list(archs)
        self.in_channels, self.n_classes = in_channels, n_classes
        n = len(self.archs)
        self.widths = tuple(max(a.filters[i] for a in self.archs) for i in range(4))
        wide = (in_channels,) + self.widths
        self.convs = nn.ModuleList(nn.Conv2d(n * wide[i], n * wide[i + 1], 3, padding=1, bias=False, groups=n)
                                   for i in range(4))
        self.norms = nn.ModuleList(nn.BatchNorm2d(n * w) for w in self.widths)
        self.head_weight = nn.Parameter(torch.zeros(n, n_classes, self.widths[-1]))  # (N, K, C_4)
        self.head_bias = nn.Parameter(torch.zeros(n, n_classes))  # (N, K)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer activations, each (B, N * W_i, H_i, W_i), as `CNN.features`."""
        return layer_activations(self.convs, self.norms, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N * C, H, W) -> (N, B, K)
        pooled = self.features(x)[-1].mean(dim=(2, 3))  # (B, N * C_4)
        feats = pooled.view(pooled.shape[0], len(self.archs), -1).transpose(0, 1)  # (N, B, C_4)
        return torch.baddbmm(self.head_bias.unsqueeze(1), feats, self.head_weight.transpose(1, 2))

    def rows_per_network(self) -> dict[str, int]:
        """Packed parameter name -> rows of its first dimension that belong to one network."""
        out = {f"convs.{i}.weight": w for i, w in enumerate(self.widths)}
        for i, w in enumerate(self.widths):
            out[f"norms.{i}.weight"] = out[f"norms.{i}.bias"] = w
        out["head_weight"] = out["head_bias"] = 1
        return out


def layout(packed: PackedCNN, j: int) -> list[tuple[str, str, tuple]]:
    """(name in network j's `CNN` state dict, packed name, index into the packed tensor) for every entry."""
    arch = packed.archs[j]
    chans, wide = (packed.in_channels,) + arch.filters, (packed.in_channels,) + packed.widths
    out = []
    for i in range(4):
        rows = slice(j * wide[i + 1], j * wide[i + 1] + chans[i + 1])
        out.append((f"convs.{i}.weight", f"convs.{i}.weight", (rows, slice(0, chans[i]))))
        for b in ("weight", "bias", "running_mean", "running_var"):
            out.append((f"norms.{i}.{b}", f"norms.{i}.{b}", (rows,)))
        out.append((f"norms.{i}.num_batches_tracked", f"norms.{i}.num_batches_tracked", ()))
    out.append(("head.weight", "head_weight", (j, slice(None), slice(0, arch.filters[-1]))))
    out.append(("head.bias", "head_bias", (j,)))
    return out


def pack(models: Sequence[CNN]) -> PackedCNN:
    """One `PackedCNN` holding the weights and BatchNorm statistics of `models` (same input and classes)."""
    first = models[0]
    in_channels, n_classes = first.convs[0].in_channels, first.head.out_features
    for m in models:
        if (m.convs[0].in_channels, m.head.out_features) != (in_channels, n_classes):
            raise ValueError("a population shares its input channels and classes: group networks by task")
    ref = first.head.weight
    packed = PackedCNN([m.arch for m in models], in_channels, n_classes)
    packed = packed.to(ref.device, ref.dtype, memory_format=torch.channels_last)
    target = packed.state_dict()  # shares storage with the module
    with torch.no_grad():
        for p in packed.parameters():
            p.zero_()  # padded weights, BatchNorm weights included, start (and stay) at 0
        for j, m in enumerate(models):
            source = m.state_dict()
            for name, pname, index in layout(packed, j):
                target[pname][index].copy_(source[name])
    return packed


def unpack_into(packed: PackedCNN, models: Sequence[CNN]) -> None:
    """Copy network j's slice of `packed` (weights and BatchNorm statistics) into `models[j]`."""
    for j, m in enumerate(models):
        unpack_into_one(packed, j, m)


def unpack_into_one(packed: PackedCNN, j: int, model: CNN) -> None:
    """Copy network j's slice of `packed` into `model`."""
    source, target = packed.state_dict(), model.state_dict()
    with torch.no_grad():
        for name, pname, index in layout(packed, j):
            target[name].copy_(source[pname][index])


def pack_momentum(packed: PackedCNN, opts: Sequence[torch.optim.Optimizer], models: Sequence[CNN]) -> dict:
    """Packed name -> momentum buffer shaped as the packed parameter, filled from each network's SGD state."""
    params = dict(packed.named_parameters())
    bufs = {name: torch.zeros_like(p) for name, p in params.items()}
    for j, (opt, m) in enumerate(zip(opts, models)):
        own = dict(m.named_parameters())
        for name, pname, index in layout(packed, j):
            state = opt.state.get(own[name]) if name in own else None
            if state and state.get("momentum_buffer") is not None:
                bufs[pname][index].copy_(state["momentum_buffer"])
    return bufs


def unpack_momentum(packed: PackedCNN, bufs: dict, opts: Sequence[torch.optim.Optimizer], models: Sequence[CNN]) -> None:
    """Write each network's slice of the packed momentum buffers into its SGD state (as torch's SGD keeps it)."""
    for j, (opt, m) in enumerate(zip(opts, models)):
        own = dict(m.named_parameters())
        for name, pname, index in layout(packed, j):
            if name in own:
                opt.state[own[name]]["momentum_buffer"] = bufs[pname][index].detach().clone()


@torch.no_grad()
def sgd_step(packed: PackedCNN, bufs: dict, lrs: Sequence[float], weight_decay: float) -> None:
    """One nesterov SGD step (torch.optim.SGD's arithmetic) with network j's learning rate lrs[j].

    When every network has the same rate (the common case) the update is torch's own `add_(alpha=-lr)`;
    otherwise each parameter's rows are scaled by their network's rate (a per-network rate tensor).
    """
    same = all(lr == lrs[0] for lr in lrs)
    rows = packed.rows_per_network()
    rates = None if same else torch.tensor(list(lrs), dtype=packed.head_weight.dtype, device=packed.head_weight.device)
    for name, p in packed.named_parameters():
        grad = p.grad if weight_decay == 0 else p.grad.add(p, alpha=weight_decay)
        buf = bufs[name]
        buf.mul_(MOMENTUM).add_(grad)
        grad = grad.add(buf, alpha=MOMENTUM)
        if same:
            p.add_(grad, alpha=-lrs[0])
        else:
            scale = rates.repeat_interleave(rows[name]).view(-1, *([1] * (p.dim() - 1)))
            p.sub_(grad * scale)
