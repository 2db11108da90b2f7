"""The fashion family: tasks derived from Fashion-MNIST, a second real data family beside the digits.

Source: Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), 70,000 28x28 grey images of 10 clothing
classes in the IDX format of MNIST. Read from, in this order: torchvision's layout under
`data.root` (`FashionMNIST/raw`), the original `.gz` files in `<data.root>/fashion-mnist`,
Debian's package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`); or fetched by
torchvision when `data.download` is on. Images are resized to `data.image_size`.

Derived tasks are grouped in sub-families so that whole families can be held out; the hard
upper-body garments (T-shirt, pullover, coat, shirt), which even trained networks confuse, form
the held-out family `fashion-tops`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from minas.core.config import StudyConfig
from minas.core.registry import DATA_FAMILIES
from minas.core.seeding import rng_for
from minas.data.idx import idx_files, read_idx
from minas.data.task import DataError, Task, TaskShape, make_task, resize

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
# classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot
TOPS, SHOES = [0, 2, 4, 6], [5, 7, 9]
HOW_TO_GET = ("get Fashion-MNIST one of three ways: (1) apt-get install dataset-fashion-mnist (Debian/Ubuntu, "
              f"files in {DEBIAN_FASHION_MNIST}); (2) set data.download: true on a machine with internet "
              "(torchvision fetches it into data.root); (3) copy train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
              "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into <data.root>/fashion-mnist")


def _keep(classes: list[int]) -> Callable:
    return lambda x, y: (x[np.isin(y, classes)], y[np.isin(y, classes)])


_ID = lambda x: x  # noqa: E731
# name -> (sub-family, image transform x -> x, row/label map (x, y) -> (x, y) or None)
FASHION: dict[str, tuple[str, Callable, Callable | None]] = {
    "fashion": ("fashion", _ID, None),
    "fashion-rot90": ("fashion-rot", lambda x: np.rot90(x, 1, (2, 3)), None),
    "fashion-inverted": ("fashion-inverted", lambda x: 255 - x, None),
    "fashion-shoes": ("fashion-subset", _ID, _keep(SHOES)),
    "fashion-no-tops": ("fashion-subset", _ID, _keep([c for c in range(10) if c not in TOPS])),
    "fashion-tops-vs-rest": ("fashion-coarse", _ID, lambda x, y: (x, np.isin(y, TOPS).astype(np.int64))),
    "fashion-tops": ("fashion-tops", _ID, _keep(TOPS)),
    "fashion-shirt-vs-tshirt": ("fashion-tops", _ID, _keep([0, 6])),
}
FASHION_TEST_FAMILIES = ("fashion-tops",)  # held out whole: the hard garments
PUBLISHED = (60000, 10000)  # Fashion-MNIST's training and test images (Xiao et al. 2017)


def fashion_files(root: Path) -> list[tuple[Path, int]] | None:
    """The 4 IDX files (with magic numbers) of the first complete copy found, or None."""
    candidates = [idx_files(root / "FashionMNIST" / "raw", ("train", "t10k"))]
    for folder in (root / "fashion-mnist", DEBIAN_FASHION_MNIST):
        candidates.append([(p.with_name(p.name + ".gz"), m) for p, m in idx_files(folder, ("train", "t10k"))])
    for files in candidates:
        if all(p.exists() for p, _ in files):
            return files
    return None


def _download(root: Path) -> list[tuple[Path, int]]:
    import torchvision.datasets as tvd

    try:
        tvd.FashionMNIST(str(root), train=True, download=True)
        tvd.FashionMNIST(str(root), train=False, download=True)
    except Exception as err:  # torchvision raises URLError/RuntimeError/OSError without a network
        raise DataError(f"Fashion-MNIST: torchvision could not download into {root} ({err}); {HOW_TO_GET}") from err
    return idx_files(root / "FashionMNIST" / "raw", ("train", "t10k"))


@lru_cache(maxsize=2)
def fashion_raw(root: str, download: bool) -> tuple[np.ndarray, ...]:
    """(x_train (60000, 1, 28, 28), y_train, x_test, y_test) as uint8 / int64; DataError naming the fix."""
    files = fashion_files(Path(root))
    if files is None:
        if not download:
            raise DataError(f"Fashion-MNIST not found under {Path(root) / 'FashionMNIST' / 'raw'}, "
                            f"{Path(root) / 'fashion-mnist'} or {DEBIAN_FASHION_MNIST}; {HOW_TO_GET}")
        files = _download(Path(root))
    try:
        xtr, ytr, xte, yte = (read_idx(p, m) for p, m in files)
    except DataError as err:
        raise DataError(f"{err}. {HOW_TO_GET}") from err
    return xtr[:, None], ytr.astype(np.int64), xte[:, None], yte.astype(np.int64)


def fashion_task(cfg: StudyConfig, name: str) -> Task:
    """One fashion task: the source rows mapped, transformed and resized, then capped by make_task."""
    family, transform, rows = FASHION[name]
    xtr, ytr, xte, yte = fashion_raw(str(Path(cfg.data.root).expanduser()), cfg.data.download)
    if rows is not None:
        (xtr, ytr), (xte, yte) = rows(xtr, ytr), rows(xte, yte)
    # cap before resizing: make_task keeps a class-balanced subsample, so resize only the kept rows
    rng = rng_for(cfg.seed, "data", name, "prefilter")
    keep_tr = _prefilter(ytr, cfg.data.max_train_per_task, rng)
    keep_te = _prefilter(yte, cfg.data.max_test_per_task, rng)
    xtr, ytr, xte, yte = xtr[keep_tr], ytr[keep_tr], xte[keep_te], yte[keep_te]
    size = cfg.data.image_size
    xtr = resize(torch.from_numpy(np.ascontiguousarray(transform(xtr))), size).numpy()
    xte = resize(torch.from_numpy(np.ascontiguousarray(transform(xte))), size).numpy()
    split = "test" if family in FASHION_TEST_FAMILIES else "train"
    return make_task(cfg, name, family, "fashion-mnist", split, xtr, ytr, xte, yte)


def _prefilter(y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """A class-stratified random subset of at most 2 x cap rows (sorted), so resizing stays cheap."""
    if len(y) <= 2 * cap:
        return np.arange(len(y))
    share = 2 * cap / len(y)
    picks = [rng.choice(np.flatnonzero(y == c), size=max(1, int(np.ceil(share * (y == c).sum()))), replace=False)
             for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


class FashionFamily:
    """The `fashion` source: 8 tasks derived from Fashion-MNIST, the `fashion-tops` family held out."""

    name = "fashion"
    about = "8 tasks derived from Fashion-MNIST (Xiao et al. 2017); the hard upper-body garments held out"

    def task_names(self, cfg: StudyConfig) -> list[str]:
        return list(FASHION)

    def build(self, cfg: StudyConfig, task: str) -> Task:
        return fashion_task(cfg, task)

    def shape(self, cfg: StudyConfig, task: str) -> TaskShape:
        """The task's size without its files: Fashion-MNIST's published size capped by the profile (an upper bound
        for the tasks that keep some classes)."""
        split = "test" if FASHION[task][0] in FASHION_TEST_FAMILIES else "train"
        return TaskShape(task, split, min(PUBLISHED[0], cfg.data.max_train_per_task),
                         min(PUBLISHED[1], cfg.data.max_test_per_task), 1, cfg.data.image_size, "fashion-mnist")

    def check(self, cfg: StudyConfig, names: list[str]) -> None:
        fashion_raw(str(Path(cfg.data.root).expanduser()), cfg.data.download)


DATA_FAMILIES.register(FashionFamily())
