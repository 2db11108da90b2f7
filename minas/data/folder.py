"""The `folder` family: the user's own image-classification tasks, read from a directory tree.

Layout (torchvision's `ImageFolder`, one level up: Marcel & Rodriguez 2010, torchvision.datasets.ImageFolder):

    <data.root>/<task>/<class>/<image>.png|.jpg|.jpeg          seeded split (TEST_FRACTION of each class to test)
    <data.root>/<task>/train/<class>/...  and  .../test/<class>/...   the split the folders give
    <data.root>/sources.csv   optional: columns task,source[,split]; without it each task is its own source

A source is what the study treats as independent (Kossmann 2019, section 2.1.2: the dataset of datasets;
cross-validation holds out whole sources). The meta split holds out whole sources: the `split` column when
sources.csv has one, else sources in reverse name order, each taken while the held-out tasks still fit in
`data.n_test_tasks`. Images are converted to grey (1 channel) unless some image of the task has colour
(then RGB, 3 channels), and resized to `data.image_size` square (PIL bilinear, antialiased when shrinking).

Bad input stops `check` before any work with one line naming the path (`DataError`): a file where a task or
class folder belongs, a task with one class, an empty class folder, a zero-byte or unreadable image, a class
with fewer images than the split needs, train/ and test/ with different classes, duplicate task names.
Results are keyed by task name, not by the files: give each tree its own `output_dir`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minas.core.config import StudyConfig
from minas.core.registry import DATA_FAMILIES
from minas.core.seeding import rng_for
from minas.data.task import DataError, Task, make_task

SOURCES_FILE = "sources.csv"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TEST_FRACTION = 0.3  # seeded split: share of each class's images kept for testing (as the embedded family)
MIN_PER_CLASS = 2    # seeded split: at least one image to train on and one to test on
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
LAYOUT = "<data.root>/<task>/<class>/<image> or <data.root>/<task>/train|test/<class>/<image> (docs/data.md)"


@dataclass(frozen=True)
class FolderTask:
    """One task of the tree: its classes' image files, per part ("all" for a seeded split, else "train"/"test")."""

    name: str
    path: Path
    parts: dict[str, dict[str, list[Path]]]  # part -> class name -> image files (sorted)

    @property
    def classes(self) -> list[str]:
        return sorted(next(iter(self.parts.values())))


def _visible(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if not p.name.startswith("."))


def _root(cfg: StudyConfig) -> Path:
    root = Path(cfg.data.root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such folder; data.source folder reads data.root as {LAYOUT}")
    return root


def task_folders(root: Path) -> list[Path]:
    """The task folders under root; a stray file (other than sources.csv) or two names alike raise DataError."""
    found, seen = [], {}
    for p in _visible(root):
        if p.is_dir():
            twin = seen.setdefault(p.name.lower(), p)
            if twin is not p:
                raise DataError(f"{p}: duplicate task name ({twin.name} and {p.name} differ only in case); rename one")
            found.append(p)
        elif p.name != SOURCES_FILE:
            raise DataError(f"{p}: a file where a task folder belongs; the tree is {LAYOUT}")
    if not found:
        raise DataError(f"{root}: no task folders; data.source folder reads {LAYOUT}")
    return found


def _classes(folder: Path, need: int) -> dict[str, list[Path]]:
    """class -> image files of one class tree (a task folder, or its train/ or test/)."""
    out: dict[str, list[Path]] = {}
    for cls in _visible(folder):
        if not cls.is_dir():
            raise DataError(f"{cls}: a file where a class folder belongs (not a directory tree); the tree is {LAYOUT}")
        files = _visible(cls)
        for f in files:
            if f.is_dir() or f.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"{f}: not a PNG or JPEG image; a class folder holds images only")
            if f.stat().st_size == 0:
                raise DataError(f"{f}: zero-byte image; replace or delete it")
        if not files:
            raise DataError(f"{cls}: empty class folder; add images or delete it")
        if len(files) < need:
            raise DataError(f"{cls}: {len(files)} image(s), the seeded split needs at least {need} per class "
                            "(one to train, one to test); add images or give the task train/ and test/ folders")
        out[cls.name] = files
    if len(out) < 2:
        raise DataError(f"{folder}: {len(out)} class folder(s); a classification task needs at least 2")
    return out


def scan_task(path: Path) -> FolderTask:
    """Check one task folder's tree (no image is opened) and list its images."""
    subs = {p.name for p in _visible(path)}
    if {"train", "test"} & subs:
        if not {"train", "test"} <= subs:
            raise DataError(f"{path}: has {'train' if 'train' in subs else 'test'}/ but not the other; give both or neither")
        if subs - {"train", "test"}:
            raise DataError(f"{path / sorted(subs - {'train', 'test'})[0]}: beside train/ and test/ a task holds nothing")
        parts = {part: _classes(path / part, 1) for part in ("train", "test")}
        if set(parts["train"]) != set(parts["test"]):
            odd = sorted(set(parts["train"]) ^ set(parts["test"]))[0]
            raise DataError(f"{path}: class {odd!r} is in only one of train/ and test/; both need the same classes")
        return FolderTask(path.name, path, parts)
    return FolderTask(path.name, path, {"all": _classes(path, MIN_PER_CLASS)})


def read_sources(root: Path, names: list[str]) -> dict[str, tuple[str, str]]:
    """task -> (source, split or "") from sources.csv; each task its own source without the file."""
    path = root / SOURCES_FILE
    if not path.exists():
        return {n: (n, "") for n in names}
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"task", "source"} <= set(rows[0]):
        raise DataError(f"{path}: needs a header line with columns task,source (optionally split)")
    out: dict[str, tuple[str, str]] = {}
    for i, row in enumerate(rows, start=2):
        task, source, split = row["task"].strip(), row["source"].strip(), (row.get("split") or "").strip()
        if task in out:
            raise DataError(f"{path}, line {i}: duplicate task name {task!r}")
        if task not in names:
            raise DataError(f"{path}, line {i}: task {task!r} has no folder in {root}")
        if not source or split not in ("", "train", "test"):
            raise DataError(f"{path}, line {i}: source must be non-empty and split one of train, test or empty")
        out[task] = (source, split)
    return {n: out.get(n, (n, "")) for n in names}


def meta_split(sources: dict[str, tuple[str, str]], n_test: int, where: Path) -> dict[str, str]:
    """task -> "train"/"test": the split column where given, else whole sources held out (see the module docstring)."""
    if any(split for _, split in sources.values()):
        split = {t: s or "train" for t, (_, s) in sources.items()}
    else:
        held: list[str] = []
        for src in sorted({s for s, _ in sources.values()}, reverse=True):
            members = [t for t, (s, _) in sources.items() if s == src]
            if len(held) + len(members) <= n_test:
                held += members
        split = {t: "test" if t in held else "train" for t in sources}
    if set(split.values()) != {"train", "test"}:
        raise DataError(f"{where}: the meta split needs training and held-out tasks, got only {sorted(set(split.values()))}; "
                        "set data.n_test_tasks to fewer tasks than the tree has (and at least the smallest source's), "
                        "or give sources.csv a split column")
    return split


def load_images(files: list[Path], size: int, colour: bool) -> np.ndarray:
    """(N, C, size, size) uint8 of the files: grey or RGB, resized; an unreadable file raises DataError naming it."""
    from PIL import Image, UnidentifiedImageError

    out = np.zeros((len(files), 3 if colour else 1, size, size), np.uint8)
    for i, f in enumerate(files):
        try:
            with Image.open(f) as im:
                im = im.convert("RGB" if colour else "L").resize((size, size), Image.BILINEAR)
                pixels = np.asarray(im, np.uint8)
        except (OSError, UnidentifiedImageError, ValueError) as err:
            raise DataError(f"{f}: unreadable image ({err}); replace or delete it") from err
        out[i] = pixels.transpose(2, 0, 1) if colour else pixels[None]
    return out


def has_colour(files: list[Path]) -> bool:
    """Whether any file is a colour image (read from the headers only); unreadable files raise DataError."""
    from PIL import Image, UnidentifiedImageError

    colour = False
    for f in files:
        try:
            with Image.open(f) as im:
                colour = colour or im.mode not in GREY_MODES
                im.verify()  # checks the file's structure (PNG chunks and CRCs) without decoding
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as err:
            raise DataError(f"{f}: unreadable image ({err}); replace or delete it") from err
    return colour


def split_rows(task: FolderTask, seed: int) -> tuple[list[Path], list[int], list[Path], list[int]]:
    """(train files, labels, test files, labels): the folders' split, or TEST_FRACTION of each class seeded by name."""
    xtr, ytr, xte, yte = [], [], [], []
    for k, cls in enumerate(task.classes):
        if "all" in task.parts:
            files = task.parts["all"][cls]
            order = rng_for(seed, "data", task.name, "split", cls).permutation(len(files))
            n_test = min(max(1, round(len(files) * TEST_FRACTION)), len(files) - 1)
            test, train = [files[i] for i in sorted(order[:n_test])], [files[i] for i in sorted(order[n_test:])]
        else:
            train, test = task.parts["train"][cls], task.parts["test"][cls]
        xtr, ytr = xtr + train, ytr + [k] * len(train)
        xte, yte = xte + test, yte + [k] * len(test)
    return xtr, ytr, xte, yte


def folder_task(cfg: StudyConfig, name: str) -> Task:
    """One task of the tree: only the rows make_task keeps (class-balanced cap) are decoded."""
    root = _root(cfg)
    task = scan_task(root / name)
    sources = read_sources(root, [p.name for p in task_folders(root)])
    split = meta_split(sources, cfg.data.n_test_tasks, root)[name]
    xtr, ytr, xte, yte = split_rows(task, cfg.seed)
    colour = has_colour(xtr + xte)
    size = cfg.data.image_size

    def loader(files: list[Path]):
        return lambda idx: load_images([files[i] for i in idx], size, colour)

    source = sources[name][0]
    return make_task(cfg, name, source, source, split, loader(xtr), np.array(ytr), loader(xte), np.array(yte))


class FolderFamily:
    """The `folder` source: the user's own tasks under data.root (see the module docstring)."""

    name = "folder"
    about = "your own tasks: <data.root>/<task>/<class>/<images>, sources from sources.csv"

    def task_names(self, cfg: StudyConfig) -> list[str]:
        return [p.name for p in task_folders(_root(cfg))]

    def build(self, cfg: StudyConfig, task: str) -> Task:
        return folder_task(cfg, task)

    def check(self, cfg: StudyConfig, names: list[str]) -> None:
        root = _root(cfg)
        every = [p.name for p in task_folders(root)]
        meta_split(read_sources(root, every), cfg.data.n_test_tasks, root)
        others = [f for f in cfg.data.source.split("+") if f != self.name]
        for fam in others:
            clash = sorted(set(every) & set(DATA_FAMILIES.get(fam).task_names(cfg)))
            if clash:
                raise DataError(f"{root / clash[0]}: duplicate task name, family {fam} has a task {clash[0]!r}; rename the folder")
        for name in names:
            task = scan_task(root / name)
            has_colour([f for part in task.parts.values() for files in part.values() for f in files])


DATA_FAMILIES.register(FolderFamily())
