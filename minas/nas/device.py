"""Where a network trains and in which arithmetic: the device, and train.precision resolved on it.

bfloat16 mixed precision pays only where the hardware computes bfloat16 natively (a CUDA GPU that supports
it, a CPU with AVX-512 BF16 or AMX; elsewhere oneDNN emulates it, slower than float32);
scripts/precision_check.py compares the two arithmetics. `train.precision: auto` resolves here, and the result keys
(`minas.core.keys`, through the ARITHMETICS slot) name what it resolved to.
"""
from __future__ import annotations

import torch

from minas.core.registry import ARITHMETICS


def pick_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def native_bf16(device: torch.device | str) -> bool:
    """Whether `device` computes bfloat16 natively: a CUDA GPU that supports it, or a CPU with AVX-512 BF16
    or AMX (elsewhere oneDNN emulates bfloat16, slower than float32)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """'auto' -> 'bf16' where `device` has native bfloat16 (see `native_bf16`), else 'fp32'; others unchanged."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"train.precision must be auto, fp32 or bf16, got {precision!r}")
    return precision


class _AutoPrecision:
    """train.precision=auto as the result keys read it: what it resolves to on `device` (a config value: auto, cpu, cuda)."""

    name = "auto"

    def resolve(self, device: str) -> str:
        return resolve_precision("auto", pick_device(device))


ARITHMETICS.register(_AutoPrecision())
