"""The search space of the study: 4 conv layers, each with 10, 15, ..., 120 filters.

Source: Kossmann 2019 (thesis), section 2.2. An architecture is a 4-tuple of filter
counts; its one-hot encoding has 4 x 23 = 92 entries; its stable id is "115-90-70-10".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPTIONS: tuple[int, ...] = tuple(range(10, 121, 5))  # filter counts per layer (23 options)
N_LAYERS = 4  # conv layers per CNN (thesis L = 4)
N_OPTIONS = len(OPTIONS)
ONE_HOT_SIZE = N_LAYERS * N_OPTIONS  # 92


@dataclass(frozen=True, order=True)
class Architecture:
    """A CNN of the search space, given by its filter count per layer."""

    filters: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.filters) != N_LAYERS:
            raise ValueError(
                f"an architecture has {N_LAYERS} layers, got {len(self.filters)}: {self.filters}"
            )
        for f in self.filters:
            if f not in OPTIONS:
                raise ValueError(
                    f"filter count {f!r} is not in the search space; allowed: 10, 15, ..., 120 (steps of 5)"
                )
        object.__setattr__(self, "filters", tuple(int(f) for f in self.filters))

    @property
    def id(self) -> str:
        """Stable id, e.g. '115-90-70-10'."""
        return "-".join(str(f) for f in self.filters)

    @property
    def indices(self) -> tuple[int, ...]:
        """Option index (0..22) per layer."""
        return tuple(OPTIONS.index(f) for f in self.filters)

    def one_hot(self) -> np.ndarray:
        """The 92-dim one-hot encoding (layer-major), float32."""
        out = np.zeros((N_LAYERS, N_OPTIONS), dtype=np.float32)
        out[np.arange(N_LAYERS), self.indices] = 1.0
        return out.reshape(-1)

    def total_filters(self) -> int:
        """Sum of filters, the complexity term of the Hyperband score."""
        return sum(self.filters)

    def __str__(self) -> str:
        return self.id


def parse_architecture(text: str) -> Architecture:
    """Architecture from its id string '115-90-70-10'."""
    try:
        filters = tuple(int(p) for p in str(text).split("-"))
    except ValueError as err:
        raise ValueError(f"cannot parse architecture id {text!r}; expected e.g. '115-90-70-10'") from err
    return Architecture(filters)


def from_indices(indices) -> Architecture:
    """Architecture from option indices (0..22) per layer."""
    return Architecture(tuple(OPTIONS[int(i)] for i in indices))


def uniform_prior() -> np.ndarray:
    """The uniform prior, shape (4, 23), rows summing to 1."""
    return np.full((N_LAYERS, N_OPTIONS), 1.0 / N_OPTIONS)


def check_prior(prior: np.ndarray) -> np.ndarray:
    """Validate a (4, 23) prior of non-negative rows summing to 1; returns it as float64."""
    p = np.asarray(prior, dtype=np.float64)
    if p.shape != (N_LAYERS, N_OPTIONS):
        raise ValueError(f"a prior has shape ({N_LAYERS}, {N_OPTIONS}), got {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("each layer of a prior must be non-negative and sum to 1")
    return p


def sample_architectures(n: int, rng: np.random.Generator, prior: np.ndarray | None = None) -> list[Architecture]:
    """Draw n architectures, layer options independent, uniformly or from a (4, 23) prior."""
    p = uniform_prior() if prior is None else check_prior(prior)
    idx = np.stack([rng.choice(N_OPTIONS, size=n, p=p[layer] / p[layer].sum()) for layer in range(N_LAYERS)], axis=1)
    return [from_indices(row) for row in idx]  # idx: (n, 4)


def sample_architecture(rng: np.random.Generator, prior: np.ndarray | None = None) -> Architecture:
    """Draw one architecture uniformly or from a (4, 23) prior."""
    return sample_architectures(1, rng, prior)[0]
