"""The dataset of datasets: image-classification tasks as uint8 tensors, plus their meta split.

Source: Kossmann 2019 (thesis), section 2.1.2. The thesis used 27 tasks (MNIST, Fashion-MNIST,
EMNIST letters, Kuzushiji-MNIST, Kuzushiji-49, CIFAR-10, CIFAR-100 and 20 ten-class subsets of
Tiny ImageNet) and held out 7 of them for testing.

This module is the public API (`build_tasks`, `get_task`, `check_data`, `task_table`, `Task`,
`DataError`) and the per-process cache. Two sources, chosen by `data.source`:
- "thesis": those 27 tasks read from `data.root` (`minas.thesis_data`, IDX files via
  `minas.idx`). `data.n_test_tasks` does not apply.
- "embedded": 14 tasks derived from data that ships with pip packages (`minas.embedded_data`);
  whole families are held out, `data.n_test_tasks` tasks in all.

Every task is a pure function of (cfg.data, cfg.seed, task name) (`minas.task.make_task`), so
any worker process building a task gets byte-identical tensors. Tasks are cached per process;
treat the tensors as read-only.
"""
from __future__ import annotations

import dataclasses
import json
from functools import lru_cache

import pandas as pd

from minas.config import DataConfig, StudyConfig
from minas.embedded_data import (EMBEDDED, EMBEDDED_TEST_FRACTION, HOLDOUT_ORDER, NOISE_SIGMA, embedded_pool,
                                 embedded_raw, embedded_split, embedded_task)
from minas.idx import IDX_IMAGES, IDX_LABELS, read_idx
from minas.task import DataError, Task
from minas.thesis_data import (DEBIAN_FASHION_MNIST, K49_URL, THESIS, THESIS_TEST, TINY_URL, thesis_problems,
                               thesis_task)

__all__ = [
    "Task", "DataError", "build_tasks", "get_task", "check_data", "task_table",
    "EMBEDDED", "THESIS", "THESIS_TEST", "HOLDOUT_ORDER", "EMBEDDED_TEST_FRACTION", "NOISE_SIGMA",
    "IDX_IMAGES", "IDX_LABELS", "read_idx", "DEBIAN_FASHION_MNIST", "K49_URL", "TINY_URL",
]
_embedded_pool = embedded_pool  # the per-process pool cache, cleared by tests as data._embedded_pool


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
    return embedded_task(cfg, name) if cfg.data.source == "embedded" else thesis_task(cfg, name)


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
        embedded_split(cfg.data.n_test_tasks)
        for source in sorted({EMBEDDED[n][1] for n in names}):
            embedded_raw(source)
        return
    problems = thesis_problems(cfg, names)
    if problems:
        raise DataError("thesis data not ready under data.root:\n- " + "\n- ".join(problems))


def task_table(tasks: list[Task]) -> pd.DataFrame:
    """One row per task: name, family, source, classes, channels, size, n_train, n_test, split."""
    return pd.DataFrame([dict(name=t.name, family=t.family, source=t.source, classes=t.n_classes,
                              channels=t.in_channels, size=t.image_size, n_train=t.n_train,
                              n_test=t.n_test, split=t.split) for t in tasks])
