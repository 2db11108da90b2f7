"""A task of the dataset of datasets: the `Task` record, `DataError`, and how raw arrays become a Task.

Source: Kossmann 2019 (thesis), section 2.1.2 (the dataset of datasets of image-classification
tasks). Every source (`minas.data.embedded`, `minas.data.fashion`, `minas.data.thesis`) hands its raw train/test
arrays to `make_task`, which relabels classes to 0..K-1 and caps rows by a class-balanced
subsample seeded by `rng_for(seed, "data", name)`, so any worker process building a task gets
byte-identical tensors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from minas.core.config import StudyConfig
from minas.core.seeding import rng_for


class DataError(ValueError):
    """A data set is missing, corrupt or unknown; the message names the file and the fix."""


@dataclass(frozen=True)
class TaskShape:
    """What the cost of a task depends on, known without its files (`minas.cost` plans with it)."""

    name: str
    split: str  # meta split: "train" or "test"
    n_train: int
    n_test: int
    channels: int
    size: int  # pixels per side
    source: str = ""  # the independent image source (`Task.source`)


@dataclass(frozen=True, eq=False)
class Task:
    """One image-classification data set of the dataset of datasets."""

    name: str
    family: str
    source: str
    x_train: torch.Tensor  # (N, C, H, W) uint8
    y_train: torch.Tensor  # (N,) int64 in 0..K-1
    x_test: torch.Tensor  # (M, C, H, W) uint8
    y_test: torch.Tensor  # (M,) int64
    n_classes: int
    split: str  # meta split: "train" or "test"

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.x_train.shape[2])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bilinear resize of uint8 images (N, C, H, W) to (N, C, size, size)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    y = F.interpolate(x.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8)


def balanced_indices(y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row indices of a class-balanced subsample of at most `cap` rows."""
    classes, counts = np.unique(y, return_counts=True)
    if counts.sum() <= cap:
        return np.arange(len(y))
    quota = np.zeros_like(counts)
    left = cap
    while left > 0:  # water-filling: even shares, classes that run out leave theirs to others
        open_ = np.flatnonzero(quota < counts)
        share = np.minimum(counts[open_] - quota[open_], max(left // len(open_), 1))
        share[np.cumsum(share) > left] = 0
        quota[open_] += share
        left -= int(share.sum())
    picks = [rng.choice(np.flatnonzero(y == c), size=q, replace=False) for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(picks))


def make_task(cfg: StudyConfig, name: str, family: str, source: str, split: str,
              xtr, ytr, xte, yte) -> Task:
    """Relabel to 0..K-1, cap rows class-balanced (seeded by the task name), wrap as a Task."""
    ytr, yte = np.asarray(ytr, dtype=np.int64), np.asarray(yte, dtype=np.int64)
    classes = np.unique(ytr)
    if not np.isin(yte, classes).all():
        raise DataError(f"task {name}: test labels {sorted(set(yte) - set(classes))} never occur in training")
    rng = rng_for(cfg.seed, "data", name)
    itr = balanced_indices(ytr, cfg.data.max_train_per_task, rng)
    ite = balanced_indices(yte, cfg.data.max_test_per_task, rng)

    def take(x, idx):  # x: an array, or a loader called with the kept rows only (Tiny ImageNet)
        return torch.as_tensor(x(idx) if callable(x) else np.asarray(x)[idx]).to(torch.uint8).contiguous()

    return Task(name, family, source, take(xtr, itr), torch.from_numpy(np.searchsorted(classes, ytr[itr])),
                take(xte, ite), torch.from_numpy(np.searchsorted(classes, yte[ite])), len(classes), split)
