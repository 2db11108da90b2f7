"""The fashion family on tiny Fashion-MNIST files written in the real IDX(.gz) format."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_data import write_idx

from minas import data
from minas.core import config
from minas.data import IDX_IMAGES, IDX_LABELS, DataError, fashion


@pytest.fixture(autouse=True)
def no_system_copy(monkeypatch, tmp_path):
    """Tests see only the files they write: no Debian copy, fresh caches."""
    monkeypatch.setattr(fashion, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    fashion.fashion_raw.cache_clear()
    data.clear_caches()
    yield
    fashion.fashion_raw.cache_clear()
    data.clear_caches()


def write_fashion(folder, n=(200, 60), gz=True, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for prefix, count in zip(("train", "t10k"), n):
        x = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        y = (np.arange(count) % 10).astype(np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x, IDX_IMAGES)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y, IDX_LABELS)
        out += [x, y]
    return out


def cfg_for(root, **overrides):
    return config.load("smoke", **{"data.source": "embedded+fashion", "data.root": str(root),
                                   "data.max_train_per_task": 50, "data.max_test_per_task": 20, "data.tasks": [], **overrides})


def test_tasks_subsets_and_held_out_family(tmp_path):
    write_fashion(tmp_path / "fashion-mnist")
    cfg = cfg_for(tmp_path)
    data.check_data(cfg)
    tasks = {t.name: t for t in data.build_tasks(cfg) if t.source == "fashion-mnist"}
    assert set(tasks) == set(fashion.FASHION)
    assert tasks["fashion"].n_classes == 10 and tasks["fashion-tops"].n_classes == 4
    assert tasks["fashion-shirt-vs-tshirt"].n_classes == 2 and tasks["fashion-tops-vs-rest"].n_classes == 2
    assert {n for n, t in tasks.items() if t.split == "test"} == {"fashion-tops", "fashion-shirt-vs-tshirt"}
    t = tasks["fashion"]
    assert t.x_train.shape == (50, 1, cfg.data.image_size, cfg.data.image_size) and t.x_train.dtype == torch.uint8
    assert torch.bincount(t.y_train).tolist() == [5] * 10  # class-balanced cap
    # a derived task is a pure function of the config: rebuilt from scratch, the same bytes
    data.clear_caches()
    assert torch.equal(data.get_task(cfg, "fashion").x_train, t.x_train)


def test_torchvision_layout_is_read_first(tmp_path):
    write_fashion(tmp_path / "FashionMNIST" / "raw", gz=False, seed=1)
    xtr, ytr, xte, yte = fashion.fashion_raw(str(tmp_path), False)
    assert xtr.shape == (200, 1, 28, 28) and yte.shape == (60,)


def test_missing_files_name_three_ways_before_any_work(tmp_path):
    with pytest.raises(DataError) as err:
        data.check_data(cfg_for(tmp_path))
    msg = str(err.value)
    for needle in ("apt-get install dataset-fashion-mnist", "data.download: true", str(tmp_path / "fashion-mnist")):
        assert needle in msg


def test_truncated_file_names_the_file_and_the_fix(tmp_path):
    write_fashion(tmp_path / "fashion-mnist")
    gz = tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:-50])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz.*apt-get install dataset-fashion-mnist"):
        data.check_data(cfg_for(tmp_path))


def test_unknown_family_is_a_config_error():
    with pytest.raises(config.ConfigError, match="embedded\\+fashion"):
        config.load("smoke", **{"data.source": "embedded+clothes"})
