"""Training-free NAS proxies: scores of a network at initialisation, registered as signals.

The field's zero-cost baselines, read from a freshly initialised CNN on one batch (or none):
- synflow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving
  synaptic flow"): with every weight replaced by its absolute value and an all-ones input, R is the
  sum of the outputs; a layer's score is sum(theta * dR/dtheta). Computed in float64 with BatchNorm
  on its (initial) running statistics, i.e. switched off, as Abdelfattah et al. do; an overflow still
  left in float64 is reported as a failure, never stored.
- snip (Lee et al. 2019, "SNIP: single-shot network pruning"): sum |theta * dL/dtheta| of the
  cross-entropy L on one batch.
- grad_norm (as in Abdelfattah et al. 2021, "Zero-cost proxies for lightweight NAS", ICLR): the
  L2 norm of dL/dtheta.
- naswot (Mellor et al. 2021, "Neural architecture search without training", ICML): log det of the
  kernel K[i, j] = number of ReLUs on which rows i and j agree (binary activation codes).
- jacob_cov (Mellor et al. 2020 v1, as scored in Abdelfattah et al. 2021): eigenvalues v of the
  correlation matrix of the per-row input Jacobians, score -sum(log(v + k) + 1 / (v + k)), k = 1e-5.
- params and flops: parameter count and forward FLOPs per image (`cnn.flops_per_image`).

synflow, snip and grad_norm are per layer (layer i: the weights of conv i); the others describe the
whole network (layer 0). The score functions work on any module and parameter names, so tests can
use networks small enough to count by hand; `Proxy` wraps them for the CNN and the signal slot.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from minas.core.registry import SIGNALS, SignalInput, SignalValue
from minas.core.seeding import derive_seed
from minas.nas import cnn, recipe
from minas.nas.space import N_LAYERS

JACOB_K = 1e-5  # jacob_cov's regulariser of the eigenvalues (Mellor et al. 2020)


# ---------------------------------------------------------------- scores on any module

def synflow_scores(model: nn.Module, layers: list[str], input_shape: tuple[int, ...]) -> list[float]:
    """Per named weight, sum(theta * dR/dtheta) of R = sum of |model|'s outputs on an all-ones input (float64)."""
    net = copy.deepcopy(model).double().eval()  # a copy: the caller's weights keep their signs
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    device = next(net.parameters()).device
    net(torch.ones((1, *input_shape), dtype=torch.float64, device=device)).sum().backward()
    params = dict(net.named_parameters())
    return [float((params[n] * _grad(params[n])).detach().sum()) for n in layers]


def _grad(p: torch.Tensor) -> torch.Tensor:
    return p.grad if p.grad is not None else torch.zeros_like(p)  # an unused weight gets no gradient


def loss_gradients(model: nn.Module, layers: list[str], x: torch.Tensor, y: torch.Tensor) -> list[tuple]:
    """(theta, dL/dtheta) per named weight, L the mean cross-entropy of one batch (BatchNorm on batch statistics)."""
    net = copy.deepcopy(model).train()  # a copy: BatchNorm's running statistics stay as they were
    F.cross_entropy(net(x), y).backward()
    params = dict(net.named_parameters())
    return [(params[n].detach(), _grad(params[n])) for n in layers]


def snip_scores(model: nn.Module, layers: list[str], x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Per named weight, sum |theta * dL/dtheta| (connection sensitivity)."""
    return [float((w * g).abs().sum()) for w, g in loss_gradients(model, layers, x, y)]


def grad_norm_scores(model: nn.Module, layers: list[str], x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Per named weight, the L2 norm of dL/dtheta."""
    return [float(g.norm()) for _, g in loss_gradients(model, layers, x, y)]


def activation_codes(acts: list[torch.Tensor]) -> torch.Tensor:
    """(N, D) 0/1 float64 codes: which ReLUs are active for each row, over all layers' activations."""
    return torch.cat([(a.reshape(a.shape[0], -1) > 0) for a in acts], dim=1).double()


def naswot_kernel(codes: torch.Tensor) -> torch.Tensor:
    """(N, N) K[i, j] = units on which codes i and j agree = D - Hamming distance."""
    return codes @ codes.T + (1 - codes) @ (1 - codes).T


def naswot_score(codes: torch.Tensor) -> float:
    """log det of the NASWOT kernel; -inf when it is singular (e.g. two rows share a code)."""
    ev = torch.linalg.eigvalsh(naswot_kernel(codes))  # K is a sum of Gram matrices: symmetric, PSD
    # the rank rule of numpy.linalg.matrix_rank: an eigenvalue below this is zero within rounding
    if ev[0] <= ev[-1] * len(ev) * torch.finfo(ev.dtype).eps:
        return -math.inf
    return float(ev.log().sum())


def jacob_cov_score(model: nn.Module, x: torch.Tensor) -> float:
    """-sum(log(v + k) + 1/(v + k)) over eigenvalues v of the rows' Jacobian correlations; NaN if a Jacobian is constant."""
    net = copy.deepcopy(model).train()
    x = x.detach().clone().requires_grad_(True)
    net(x).sum().backward()
    jac = x.grad.reshape(x.shape[0], -1).double()  # (N, C*H*W)
    corr = torch.corrcoef(jac)
    if not torch.isfinite(corr).all():  # a row with a constant Jacobian has no correlation
        return math.nan
    ev = torch.linalg.eigvalsh(corr).clamp_min(0.0)  # rounding can leave -1e-17
    return float(-(torch.log(ev + JACOB_K) + 1.0 / (ev + JACOB_K)).sum())


def param_count(model: nn.Module) -> int:
    """Trainable parameters, every weight, BatchNorm affine and bias included."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------- the CNN as a signal

CONV_WEIGHTS = [f"convs.{i}.weight" for i in range(N_LAYERS)]  # layer i + 1 of a `cnn.CNN`


def _batch(inp: SignalInput) -> tuple[torch.Tensor, torch.Tensor]:
    """The signal's rows as the network sees them: images in [-1, 1] and labels, on the model's device."""
    device = next(inp.model.parameters()).device
    x = recipe.prepare(inp.x, device) if inp.x.dtype == torch.uint8 else inp.x.to(device)
    return x, inp.y.to(device).long()


def _synflow(inp: SignalInput) -> list[float]:
    return synflow_scores(inp.model, CONV_WEIGHTS, tuple(inp.x.shape[1:]))


def _snip(inp: SignalInput) -> list[float]:
    return snip_scores(inp.model, CONV_WEIGHTS, *_batch(inp))


def _grad_norm(inp: SignalInput) -> list[float]:
    return grad_norm_scores(inp.model, CONV_WEIGHTS, *_batch(inp))


def _naswot(inp: SignalInput) -> list[float]:
    net = copy.deepcopy(inp.model).train()
    with torch.no_grad():
        return [naswot_score(activation_codes(net.features(_batch(inp)[0])))]


def _jacob_cov(inp: SignalInput) -> list[float]:
    return [jacob_cov_score(inp.model, _batch(inp)[0])]


def _params(inp: SignalInput) -> list[float]:
    return [float(param_count(inp.model))]


def _flops(inp: SignalInput) -> list[float]:
    return [cnn.flops_per_image(inp.model.arch, inp.x.shape[1], inp.x.shape[-1])]


@dataclass(frozen=True)
class Proxy:
    """A training-free score of an initialised CNN on one batch (the model's init seed is the signal's seed)."""

    name: str
    about: str
    score: Callable[[SignalInput], list[float]]  # L per-layer numbers, or one for the network
    per_layer: bool = True
    unit: str = "score"
    hint: str = ""  # the usual cause of a non-finite score, for the failure's reason
    needs_training: bool = False

    def seed_for(self, base: int, task: str, arch: str) -> int:
        return derive_seed(base, "proxy", task, arch, self.name)

    def compute(self, inp: SignalInput, seed: int) -> list[SignalValue]:
        """One value per conv layer (1..L) or one (layer 0); deterministic given the model and rows."""
        t0 = time.perf_counter()
        numbers = self.score(inp)
        secs = (time.perf_counter() - t0) / len(numbers)  # the rows of one call share its cost
        layers = range(1, len(numbers) + 1) if self.per_layer else [0]
        return [self._value(layer, v, secs) for layer, v in zip(layers, numbers)]

    def _value(self, layer: int, v: float, secs: float) -> SignalValue:
        if math.isfinite(v):
            return SignalValue(layer, float(v), True, "", secs)
        why = f": {self.hint}" if self.hint else ""
        return SignalValue(layer, None, False, f"{self.name} is {v}{why}", secs)


PROXIES = (
    Proxy("synflow", "synaptic flow per conv layer at init, float64, data-free (Tanaka et al. 2020)", _synflow,
          hint="the product of |weights| overflowed float64"),
    Proxy("snip", "connection sensitivity |theta * dL/dtheta| per conv layer at init (Lee et al. 2019)", _snip,
          hint="the loss or its gradient is not finite"),
    Proxy("grad_norm", "L2 norm of the loss gradient per conv layer at init (Abdelfattah et al. 2021)", _grad_norm,
          hint="the loss or its gradient is not finite"),
    Proxy("naswot", "log det of the ReLU activation-code kernel at init (Mellor et al. 2021)", _naswot,
          per_layer=False, hint="the kernel is singular (rows with the same activation code)"),
    Proxy("jacob_cov", "input-Jacobian correlation score at init (Mellor et al. 2020; Abdelfattah et al. 2021)",
          _jacob_cov, per_layer=False, hint="a row's input Jacobian is constant (no correlation)"),
    Proxy("params", "parameter count of the CNN", _params, per_layer=False, unit="count"),
    Proxy("flops", "forward FLOPs per image of the convs (cnn.flops_per_image)", _flops, per_layer=False,
          unit="count"),
)

for _p in PROXIES:
    SIGNALS.register(_p)
