"""The dataset of datasets: image-classification tasks as uint8 tensors, plus their meta split.

Source: Kossmann 2019 (thesis), section 2.1.2. The thesis used 27 tasks (MNIST, Fashion-MNIST,
EMNIST letters, Kuzushiji-MNIST, Kuzushiji-49, CIFAR-10, CIFAR-100 and 20 ten-class subsets of
Tiny ImageNet) and held out 7 of them for testing.

This module builds, checks and caches tasks (`build_tasks`, `get_task`, `check_data`, `task_table`)
through the data-family slot (`minas.core.registry.DATA_FAMILIES`); `data.source` names the family,
or several joined by "+" (e.g. "embedded+fashion"):
- "thesis": those 27 tasks read from `data.root` (`minas.data.thesis`, IDX files via
  `minas.data.idx`). `data.n_test_tasks` does not apply.
- "embedded": 14 tasks derived from data that ships with pip packages (`minas.data.embedded`);
  whole families are held out, `data.n_test_tasks` tasks in all.
- "fashion": 8 tasks derived from Fashion-MNIST (`minas.data.fashion`); the `fashion-tops`
  family is held out.
- "glyphs" / "glyphs-noto": 2 tasks per writing system rendered from matplotlib's DejaVu/STIX fonts
  (16 sources) or also Debian's fonts-noto-core (~50 sources) (`minas.data.glyphs`); whole sources
  are held out.

Every task is a pure function of (cfg.data, cfg.seed, task name) (`minas.data.task.make_task`), so
any worker process building a task gets byte-identical tensors. Tasks are cached per process;
treat the tensors as read-only.
"""
from __future__ import annotations

import dataclasses
import json
from functools import lru_cache

import pandas as pd

from minas.core.config import DataConfig, StudyConfig
from minas.core.registry import DATA_FAMILIES
from minas.data.embedded import embedded_pool
from minas.data.task import DataError, Task



def families(cfg: StudyConfig) -> list:
    """The data families named by data.source ("embedded", "thesis", or several joined by "+")."""
    return [DATA_FAMILIES.get(name) for name in cfg.data.source.split("+")]


def _owner(cfg: StudyConfig, name: str):
    return next(f for f in families(cfg) if name in f.task_names(cfg))


def _known(cfg: StudyConfig) -> list[str]:
    return [n for f in families(cfg) for n in f.task_names(cfg)]


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
    return _owner(cfg, name).build(cfg, name)


def clear_caches() -> None:
    """Forget the tasks and image pools this process built (after the files behind them changed)."""
    _cached_task.cache_clear()
    embedded_pool.cache_clear()


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
    for fam in families(cfg):
        fam.check(cfg, [n for n in names if n in fam.task_names(cfg)])


def task_table(tasks: list[Task]) -> pd.DataFrame:
    """One row per task: name, family, source, classes, channels, size, n_train, n_test, split."""
    return pd.DataFrame([dict(name=t.name, family=t.family, source=t.source, classes=t.n_classes,
                              channels=t.in_channels, size=t.image_size, n_train=t.n_train,
                              n_test=t.n_test, split=t.split) for t in tasks])
