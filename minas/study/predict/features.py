"""Predictor features: what a posterior predictor reads about an input sample beside its architecture.

Source: Kossmann 2019 (thesis), Def. 2.3 (an input sample: an architecture, its accuracy and its per-layer
MI) and A.4 (MI z-scored within the task). A feature is a typed object (`PredictorFeature` in
`minas.core.registry`) with a stable `label` and `matrix(collected)`: `width` numbers per layer for each
input sample (row of `collected.samples`), layer-major, which the predictor sees after the 92-entry
one-hot architecture. The thesis's MLP takes one number per layer (width 1); the Gaussian + X takes any width.

  SignalFeature(signal, z=True)  a collected signal, z-scored within its task (`z_<signal>_l`, thesis A.4)
                                 or raw (`raw_<signal>_l`); signal None is the run's primary (cfg.mi.signals[0])
  AccuracyFeature(z=False)       the sample's converged accuracy in every layer's slot, raw (the thesis's
                                 "NN fed accuracy instead of MI") or z-scored against the task's reference archs
  NoiseFeature()                 N(0, 1) per layer, seeded by (task, sample): unit variance, no information
  NoFeature()                    zeros: the architecture alone
A whole-network signal (one layer-0 column, e.g. a parameter count) enters every layer's slot, as accuracy does.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from minas.core.seeding import rng_for
from minas.nas.space import N_LAYERS
from minas.study.collection import signal_columns


def per_layer(values: np.ndarray) -> np.ndarray:
    """(n,) or (n, 1) -> (n, N_LAYERS): one number of each sample repeated in every layer's slot."""
    return np.repeat(np.asarray(values, np.float64).reshape(-1, 1), N_LAYERS, axis=1)


def task_mean(collected, values: np.ndarray) -> np.ndarray:
    """Each row replaced by the mean of its task's rows in `collected.samples` (the same shape as `values`)."""
    s = collected.samples
    out = np.zeros_like(np.asarray(values, np.float64))
    for _, idx in s.groupby("task").groups.items():
        rows = s.index.get_indexer(idx)
        out[rows] = values[rows].mean(axis=0)
    return out


@dataclass(frozen=True)
class SignalFeature:
    """A collected signal per layer: z-scored within its task (thesis A.4) or raw."""

    signal: str | None = None  # None: the run's primary signal, filled by `bind`
    z: bool = True
    width = 1

    @property
    def label(self) -> str:
        return f"{'mi' if self.z else 'mi_raw'}:{self.signal}"

    def bind(self, signals: list[str], primary: str | None) -> SignalFeature | None:
        name = self.signal or primary
        return dataclasses.replace(self, signal=name) if name in signals else None

    def missing(self, collected) -> str:
        cols = [c for c in signal_columns(self.signal, standardized=self.z) if c not in collected.samples.columns]
        return f"columns {cols} are not in the samples; collected signals: {collected.signals}" if cols else ""

    def matrix(self, collected) -> np.ndarray:
        if why := self.missing(collected):
            raise ValueError(f"feature {self.label!r}: {why}")
        values = np.nan_to_num(collected.samples[signal_columns(self.signal, standardized=self.z)].to_numpy(np.float64))
        return per_layer(values) if values.shape[1] == 1 else values


class ReadsNoSignal:
    """A feature that reads no collected signal: it binds to itself whatever was collected, and nothing is missing
    unless a subclass says what it needs."""

    signal = ""
    width = 1

    def bind(self, signals: list[str], primary: str | None) -> ReadsNoSignal:
        return self

    def missing(self, collected) -> str:
        return ""


@dataclass(frozen=True)
class AccuracyFeature(ReadsNoSignal):
    """The input architecture's converged accuracy in every layer's slot, raw or z-scored within the task."""

    z: bool = False

    @property
    def label(self) -> str:
        return "accuracy_z" if self.z else "accuracy"

    def missing(self, collected) -> str:
        return "" if "accuracy" in collected.samples.columns else "the samples have no 'accuracy' column"

    def matrix(self, collected) -> np.ndarray:
        s = collected.samples
        if not self.z:
            return per_layer(s["accuracy"].to_numpy(dtype=np.float64))
        ref = collected.reference
        z = np.zeros(len(s))
        for task, idx in s.groupby("task").groups.items():
            r = ref.loc[ref.task == task, "accuracy"].to_numpy(dtype=np.float64)
            rows = s.index.get_indexer(idx)
            z[rows] = (s.loc[idx, "accuracy"].to_numpy() - np.nanmean(r)) / max(np.nanstd(r), 1e-3)
        return per_layer(z)


@dataclass(frozen=True)
class NoiseFeature(ReadsNoSignal):
    """N(0, 1) per layer, the same for a (task, sample) whatever else was collected: the control column."""

    label = "noise"

    def matrix(self, collected) -> np.ndarray:
        s = collected.samples
        return np.stack([rng_for(0, "noise-signal", t, i).normal(0.0, 1.0, N_LAYERS)
                         for t, i in zip(s.task, s["sample"])]) if len(s) else np.zeros((0, N_LAYERS))


@dataclass(frozen=True)
class NoFeature(ReadsNoSignal):
    """Zeros: the predictor sees the architecture alone."""

    label = "none"

    def matrix(self, collected) -> np.ndarray:
        return np.zeros((len(collected.samples), N_LAYERS))
