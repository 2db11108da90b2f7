"""The glyph families: classification tasks rendered from fonts, one writing system = one independent source.

Sources: the scripts of `minas.data.fonts` (DejaVu/STIX from matplotlib: family `glyphs`; plus Debian's
fonts-noto-core: family `glyphs-noto`). Glyph images as classification data follow notMNIST (Bulatov
2011: letters A-J in many fonts) and Omniglot (Lake et al. 2015: 50 alphabets as independent sources).

A task `glyphs-<script>-<i>` takes K letters of its script as classes (K drawn in K_RANGE, the letters
drawn from the script's pool, both from the task name alone, so every seed sees the same task) and
renders its rows in *draws*: a draw is one font (cycled over every face that covers the script) with
one style (stroke width, blur, contrast, noise), drawn for all K letters, each row with its own affine
jitter (rotation, shear, scale, shift). Draws are seeded by (profile seed, task name); training rows
come from draws 0..D-1 and test rows from later draws, so no (font, draw) is in both. Each glyph keeps
its size and baseline relative to the task's other letters (o and O stay different). Rendered rows are
cached on disk under `<data.root>/glyphs/`. Meta split: whole sources are held out, each by a hash of
its name (about TEST_SHARE of them), the same in both families.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from minas.core.config import StudyConfig
from minas.core.registry import DATA_FAMILIES
from minas.core.seeding import derive_seed, rng_for
from minas.data.fonts import Script, scripts
from minas.data.task import DataError, Task, make_task

TASKS_PER_SOURCE = 2   # tasks named glyphs-<script>-0, -1 per source
K_RANGE = (5, 30)      # classes per task, drawn uniformly (capped by the script's letters)
TEST_SHARE = 0.25      # share of sources held out whole (by a hash of the source name)
FILL = 0.8             # the task's largest glyph spans this share of the canvas
ROTATE_DEG = 12.0      # per row: rotation uniform in +-this, degrees
SHEAR = 0.25           # per row: horizontal shear uniform in +-this
SCALE = (0.8, 1.05)    # per row: zoom factor range
SHIFT = 0.08           # per row: shift uniform in +-this share of the side
STROKE = (-1, 0, 0, 1, 2)  # per draw: 3x3 erosions (<0) or dilations (>0) at canvas resolution, one drawn
BLUR = (0.0, 0.9)      # per draw: Gaussian blur sigma range, output pixels
FOREGROUND = (0.55, 1.0)  # per draw: ink intensity range (share of 255)
BACKGROUND = (0.0, 0.3)   # per draw: paper intensity range
NOISE = (0.0, 0.1)     # per draw: pixel noise std range (share of 255)
CACHE_VERSION = 1      # bump when rendering changes, so cached rows are not reused


@dataclass(frozen=True)
class GlyphRows:
    """Rendered rows of one task's train or test part, with the font and draw each row came from."""

    x: np.ndarray     # (N, 1, S, S) uint8
    y: np.ndarray     # (N,) int64 in 0..K-1
    font: np.ndarray  # (N,) index into the task's fonts
    draw: np.ndarray  # (N,) draw id


def glyph_task_names(collection: str, prefix: str) -> list[str]:
    """Every task name of a collection's sources: <prefix>-<script>-<i>."""
    return [f"{prefix}-{s}-{i}" for s in scripts(collection) for i in range(TASKS_PER_SOURCE)]


def source_split(script: str) -> str:
    """Meta split of a source: "test" for about TEST_SHARE of the sources (hash of the name), else "train"."""
    return "test" if derive_seed(0, "glyphs", "meta split", script) % 1000 < TEST_SHARE * 1000 else "train"


def task_letters(collection: str, prefix: str, name: str) -> tuple[Script, tuple[int, ...]]:
    """The script of a task and its K letters (code points; class k = the k-th), from the task name alone."""
    script = scripts(collection)[name[len(prefix) + 1: name.rindex("-")]]
    rng = rng_for(0, "glyphs", "letters", name)
    k = int(rng.integers(K_RANGE[0], min(K_RANGE[1], len(script.chars)) + 1))
    return script, tuple(int(c) for c in np.sort(rng.choice(script.chars, size=k, replace=False)))


def base_glyphs(fonts: tuple[str, ...], chars: tuple[int, ...], canvas: int) -> np.ndarray:
    """Each font's drawing of each letter, (F, K, canvas, canvas) float32 in [0, 1], sizes kept relative."""
    from PIL import Image, ImageDraw, ImageFont

    out = np.zeros((len(fonts), len(chars), canvas, canvas), np.float32)
    for f, path in enumerate(fonts):
        probe = ImageFont.truetype(path, 100)
        boxes = [probe.getbbox(chr(c), anchor="ls") for c in chars]  # (left, top, right, bottom) from the baseline
        extents = np.array([max(b[2] - b[0], b[3] - b[1], 1) for b in boxes], float)
        # one scale for the task's letters (o stays smaller than O), set by its larger ones; a rare huge glyph
        # is shrunk alone rather than shrinking every letter to a few pixels
        common = 100 * FILL * canvas / np.quantile(extents, 0.8)
        sizes = [max(4, round(min(common, 100 * 0.95 * canvas / e))) for e in extents]
        faces = {s: ImageFont.truetype(path, s) for s in set(sizes)}
        boxes = [faces[s].getbbox(chr(c), anchor="ls") for s, c in zip(sizes, chars)]
        mid = np.median([(b[1] + b[3]) / 2 for b in boxes])  # the letters' common baseline offset...
        for k, (c, b, s) in enumerate(zip(chars, boxes, sizes)):
            img = Image.new("L", (canvas, canvas), 0)
            y = min(max(canvas / 2 - mid, -b[1]), canvas - b[3])  # ...unless it would push a glyph off the canvas
            ImageDraw.Draw(img).text((canvas / 2 - (b[0] + b[2]) / 2, y), chr(c), fill=255, font=faces[s], anchor="ls")
            out[f, k] = np.asarray(img, np.float32) / 255.0
    return out


def _stroke(x: torch.Tensor, steps: int) -> torch.Tensor:
    for _ in range(abs(steps)):  # 3x3 max-pool dilates ink; on the negative it erodes
        x = F.max_pool2d(x, 3, 1, 1) if steps > 0 else -F.max_pool2d(-x, 3, 1, 1)
    return x


def _blur(x: torch.Tensor, sigma: np.ndarray) -> torch.Tensor:
    """Per-row Gaussian blur of (N, 1, S, S) with sigma (N,) in pixels (5x5 kernels, one group per row)."""
    t = torch.arange(-2, 3, dtype=torch.float32)
    s = torch.from_numpy(np.maximum(sigma, 1e-3).astype(np.float32))[:, None]
    k1 = torch.exp(-t[None] ** 2 / (2 * s ** 2))
    k1 = k1 / k1.sum(1, keepdim=True)  # (N, 5)
    kernel = (k1[:, :, None] * k1[:, None, :])[:, None]  # (N, 1, 5, 5)
    n = x.shape[0]
    return F.conv2d(F.pad(x.reshape(1, n, *x.shape[2:]), (2, 2, 2, 2), mode="replicate"), kernel, groups=n).reshape(x.shape)


def render_rows(base: np.ndarray, draws: np.ndarray, n_rows: int, size: int, seed: int) -> GlyphRows:
    """n_rows rows from the given draw ids: row r is letter r mod K of draw draws[r // K] (see the docstring)."""
    n_fonts, k = base.shape[:2]
    rng = np.random.default_rng(seed)
    d = len(draws)  # per-draw style, drawn for every draw so the first rows do not depend on n_rows
    font = draws % n_fonts
    stroke = rng.choice(STROKE, size=d)
    sigma, fg, bg, noise = (rng.uniform(*r, size=d) for r in (BLUR, FOREGROUND, BACKGROUND, NOISE))
    n = min(n_rows, d * k)
    row_draw, label = np.arange(n) // k, np.arange(n) % k
    angle = np.deg2rad(rng.uniform(-ROTATE_DEG, ROTATE_DEG, d * k))[:n]
    shear, zoom = rng.uniform(-SHEAR, SHEAR, d * k)[:n], rng.uniform(*SCALE, d * k)[:n]
    shift = rng.uniform(-SHIFT, SHIFT, (d * k, 2))[:n] * 2  # affine_grid coordinates span 2
    x = torch.from_numpy(base[font[row_draw], label])[:, None]  # (n, 1, R, R)
    for steps in np.unique(stroke):
        rows = torch.from_numpy(np.flatnonzero(stroke[row_draw] == steps))
        x[rows] = _stroke(x[rows], int(steps))
    cos, sin = np.cos(angle), np.sin(angle)  # output -> input sampling map: rotation, then shear, over zoom
    theta = np.stack([np.stack([cos, -sin + shear * cos, shift[:, 0]], 1),
                      np.stack([sin, cos + shear * sin, shift[:, 1]], 1)], 1) / zoom[:, None, None]
    theta[:, :, 2] *= zoom[:, None]
    grid = F.affine_grid(torch.from_numpy(theta.astype(np.float32)), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    x = _blur(x, sigma[row_draw])
    level = bg[row_draw, None, None, None] + (fg - bg)[row_draw, None, None, None] * x.numpy()
    level = level + rng.normal(0.0, 1.0, level.shape) * noise[row_draw, None, None, None]
    pixels = np.clip(np.round(level * 255), 0, 255).astype(np.uint8)
    return GlyphRows(pixels, label.astype(np.int64), font[row_draw].astype(np.int64), draws[row_draw].astype(np.int64))


def _cache_file(cfg: StudyConfig, name: str, script: Script, letters: tuple[int, ...]) -> Path:
    fonts = [(Path(p).name, os.path.getsize(p)) for p in script.fonts]
    blob = json.dumps([CACHE_VERSION, cfg.seed, name, letters, fonts, cfg.data.image_size,
                       cfg.data.max_train_per_task, cfg.data.max_test_per_task])
    return Path(cfg.data.root).expanduser() / "glyphs" / f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}.npz"


def glyph_rows(cfg: StudyConfig, collection: str, prefix: str, name: str) -> tuple[GlyphRows, GlyphRows]:
    """(train, test) rows of a glyph task: read from the disk cache, else rendered and cached."""
    script, letters = task_letters(collection, prefix, name)
    path = _cache_file(cfg, name, script, letters)
    if path.exists():
        with np.load(path) as z:
            return tuple(GlyphRows(*(z[f"{part}_{f}"] for f in ("x", "y", "font", "draw"))) for part in ("train", "test"))
    k, size = len(letters), cfg.data.image_size
    base = base_glyphs(script.fonts, letters, min(4 * size, 96))
    n_tr, n_te = cfg.data.max_train_per_task, cfg.data.max_test_per_task
    d_tr, d_te = math.ceil(n_tr / k), math.ceil(n_te / k)
    seed = derive_seed(cfg.seed, "data", name, "draws")
    train = render_rows(base, np.arange(d_tr), n_tr, size, seed)
    test = render_rows(base, np.arange(d_tr, d_tr + d_te), n_te, size, seed + 1)
    try:  # a read-only data.root only costs the cache
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **{f"{part}_{f}": getattr(rows, f) for part, rows in (("train", train), ("test", test))
                         for f in ("x", "y", "font", "draw")})
        os.replace(tmp, path)
    except OSError:
        pass
    return train, test


class GlyphFamily:
    """A glyph family: TASKS_PER_SOURCE tasks per script of a font collection (see the module docstring)."""

    def __init__(self, name: str, collection: str, about: str):
        self.name, self.collection, self.about = name, collection, about

    def task_names(self, cfg: StudyConfig) -> list[str]:
        return _names(self.collection, self.name)

    def build(self, cfg: StudyConfig, task: str) -> Task:
        script, letters = task_letters(self.collection, self.name, task)
        train, test = glyph_rows(cfg, self.collection, self.name, task)
        return make_task(cfg, task, f"glyphs-{script.name}", f"script-{script.name}", source_split(script.name),
                         train.x, train.y, test.x, test.y)

    def check(self, cfg: StudyConfig, names: list[str]) -> None:
        scripts(self.collection)  # a missing font package raises DataError naming the fix, before any rendering
        if cfg.data.image_size < 8:
            raise DataError(f"glyph tasks need data.image_size >= 8, got {cfg.data.image_size}")


@lru_cache(maxsize=4)
def _names(collection: str, prefix: str) -> list[str]:
    return glyph_task_names(collection, prefix)


DATA_FAMILIES.register(GlyphFamily("glyphs", "matplotlib",
                                   "glyphs of ~16 scripts rendered from matplotlib's DejaVu and STIX fonts"))
DATA_FAMILIES.register(GlyphFamily("glyphs-noto", "noto",
                                   "glyphs of ~50 scripts rendered from Debian's fonts-noto-core (and DejaVu/STIX)"))
