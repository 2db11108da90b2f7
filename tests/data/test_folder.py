"""The `folder` family: the user's own tasks from a directory tree, and every kind of bad input stopped before work."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minas import data
from minas.__main__ import main
from minas.core import config
from minas.data import DataError, folder
from minas.data.folder_example import write_example_tree

PROFILE = Path(__file__).resolve().parents[2] / "params" / "folder_example.yaml"


@pytest.fixture(autouse=True)
def fresh_caches():
    data.clear_caches()
    yield
    data.clear_caches()


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    return write_example_tree(tmp_path_factory.mktemp("tree") / "tree", per_class=6)


def cfg_for(root: Path, **overrides) -> config.StudyConfig:
    return config.load(str(PROFILE), **{"data.root": str(root), "output_dir": str(root.parent / "out"), **overrides})


def tiny_cfg(root: Path, **overrides) -> config.StudyConfig:
    return cfg_for(root, **{"data.n_test_tasks": 1, **overrides})


def tiny_tree(root: Path, classes=("a", "b"), per_class=3, size=5) -> Path:
    """root/t1 and root/t2, each with `classes` of grey PNGs (pixel value = class index * 40 + image index)."""
    for task in ("t1", "t2"):
        for k, cls in enumerate(classes):
            (root / task / cls).mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(np.full((size, size), k * 40 + i, np.uint8), "L").save(root / task / cls / f"{i}.png")
    return root


def test_example_tree_gives_tasks_sources_and_meta_split(example):
    cfg = cfg_for(example)
    data.check_data(cfg)
    tasks = {t.name: t for t in data.build_tasks(cfg)}
    assert sorted(tasks) == sorted(folder_names := [p.name for p in example.iterdir() if p.is_dir()])
    assert len(folder_names) == 7
    assert tasks["digits-parity"].source == "digits-coarse" and tasks["digits-parity"].n_classes == 2
    assert tasks["digits-colour"].in_channels == 3 and tasks["digits"].in_channels == 1
    assert {t.image_size for t in tasks.values()} == {cfg.data.image_size}
    # whole sources held out, last names first, while they fit in n_test_tasks = 2
    assert {n for n, t in tasks.items() if t.split == "test"} == {"digits-rot90", "digits-inverted"}
    # digits-rot90 keeps the train/ and test/ folders it was given: 70% of 6 -> 4 train, 2 test per class
    assert (tasks["digits-rot90"].n_train, tasks["digits-rot90"].n_test) == (40, 20)
    # a seeded split: round(6 * 0.3) = 2 of each class to test
    assert (tasks["digits"].n_train, tasks["digits"].n_test) == (40, 20)


def test_pixels_are_the_files_resized(tmp_path):
    root = tiny_tree(tmp_path / "t", per_class=3, size=12)
    cfg = tiny_cfg(root, **{"data.image_size": 12})
    task = data.get_task(cfg, "t1")
    assert task.x_train.shape[1:] == (1, 12, 12)
    # each image is one flat value k * 40 + i; a resize to its own size keeps it
    values = sorted(int(task.x_train[j, 0, 0, 0]) + 1000 * int(task.y_train[j]) for j in range(task.n_train))
    values += sorted(int(task.x_test[j, 0, 0, 0]) + 1000 * int(task.y_test[j]) for j in range(task.n_test))
    assert sorted(values) == [0, 1, 2, 1040, 1041, 1042]
    again = data.get_task(cfg, "t1")
    assert again is task  # cached per process
    data.clear_caches()
    assert data.get_task(cfg, "t1").x_train.equal(task.x_train)  # seeded: the same split when rebuilt


def test_sources_csv_groups_tasks_and_a_split_column_overrides(tmp_path):
    root = tiny_tree(tmp_path / "t")
    (root / "sources.csv").write_text("task,source,split\nt1,s,train\nt2,s,test\n")
    tasks = {t.name: t for t in data.build_tasks(tiny_cfg(root))}
    assert {t.source for t in tasks.values()} == {"s"} and (tasks["t1"].split, tasks["t2"].split) == ("train", "test")


def _one_class(root):
    shutil.rmtree(root / "t1" / "b")
    return root / "t1"


def _empty_class(root):
    shutil.rmtree(root / "t1" / "b")
    (root / "t1" / "b").mkdir()
    return root / "t1" / "b"


def _zero_byte(root):
    (root / "t2" / "a" / "0.png").write_bytes(b"")
    return root / "t2" / "a" / "0.png"


def _unreadable(root):
    (root / "t2" / "b" / "1.png").write_bytes(b"this is not a PNG file")
    return root / "t2" / "b" / "1.png"


def _too_few(root):
    for f in ("1.png", "2.png"):
        (root / "t1" / "a" / f).unlink()
    return root / "t1" / "a"


def _stray_file_for_a_task(root):
    (root / "notes.png").write_bytes(b"x")
    return root / "notes.png"


def _image_outside_a_class(root):
    shutil.copy(root / "t1" / "a" / "0.png", root / "t1" / "loose.png")
    return root / "t1" / "loose.png"


def _duplicate_task_names(root):
    shutil.copytree(root / "t1", root / "T1")
    return root / "t1"


def _duplicate_in_sources(root):
    (root / "sources.csv").write_text("task,source\nt1,s\nt1,r\n")
    return root / "sources.csv"


def _train_without_test(root):
    shutil.copytree(root / "t1", root / "t1-train-only" / "train")
    return root / "t1-train-only"


BAD = {"one class": (_one_class, "at least 2"), "empty class folder": (_empty_class, "empty class folder"),
       "zero-byte image": (_zero_byte, "zero-byte"), "unreadable image": (_unreadable, "unreadable image"),
       "too few images for the split": (_too_few, "needs at least 2"),
       "a file where a task folder belongs": (_stray_file_for_a_task, "task folder belongs"),
       "an image outside a class folder": (_image_outside_a_class, "not a directory tree"),
       "duplicate task names": (_duplicate_task_names, "duplicate task name"),
       "duplicate task in sources.csv": (_duplicate_in_sources, "duplicate task name"),
       "train/ without test/": (_train_without_test, "not the other")}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_stops_before_work_naming_the_path(tmp_path, case):
    spoil, says = BAD[case]
    root = tiny_tree(tmp_path / "t")
    path = spoil(root)
    with pytest.raises(DataError) as err:
        data.check_data(tiny_cfg(root))
    text = str(err.value)
    assert str(path) in text and says in text and "\n" not in text


def test_a_run_on_bad_input_stops_in_one_line_and_writes_no_store(tmp_path, capsys, monkeypatch):
    root = tiny_tree(tmp_path / "t")
    _zero_byte(root)
    out = tmp_path / "out"
    monkeypatch.setenv("MINAS_PLAN", "off")
    assert main(["run", "--profile", str(PROFILE), "--set", f"data.root={root}", "--set", f"output_dir={out}",
                 "--set", "data.n_test_tasks=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "zero-byte" in err and str(root / "t2" / "a" / "0.png") in err
    assert not (out / "store.sqlite").exists() and not (out / "notebooks").exists()


def test_a_task_name_another_family_has_is_refused(tmp_path):
    root = tiny_tree(tmp_path / "t")
    (root / "t1").rename(root / "mnist")
    with pytest.raises(DataError, match="duplicate task name, family embedded"):
        data.check_data(tiny_cfg(root, **{"data.source": "embedded+folder", "data.tasks": ["mnist-parity", "t2"]}))


def test_minas_tasks_lists_the_tree_with_its_sources(example, capsys):
    assert main(["tasks", "--profile", str(PROFILE), "--set", f"data.root={example}"]) == 0
    text = capsys.readouterr().out
    assert "digits-parity" in text and "digits-coarse" in text and text.strip().endswith("sources: 5")


def test_a_missing_root_is_one_line_naming_it(tmp_path, capsys):
    assert main(["tasks", "--profile", str(PROFILE), "--set", f"data.root={tmp_path / 'nowhere'}"]) == 1
    err = capsys.readouterr().err.strip()
    assert str(tmp_path / "nowhere") in err and err.count("\n") == 0


@pytest.mark.notebooks
def test_the_series_runs_end_to_end_on_a_folder_tree(tmp_path):
    """`python -m minas run --profile params/folder_example.yaml` on the example tree: 0.13 h planned on an idle
    machine, 38 min 46 s measured on 2 cores loaded by other work (docs/measurements/cpu-2026-12-07/folder_example/)."""
    import json
    import os
    import subprocess
    import sys

    from minas import pipeline

    root, out = write_example_tree(tmp_path / "tree"), tmp_path / "out"
    env = {**os.environ, "MINAS_PLAN": "off"}
    done = subprocess.run([sys.executable, "-m", "minas", "run", "--profile", str(PROFILE), "--set", f"data.root={root}",
                           "--set", f"output_dir={out}"], env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = {p.stem: json.loads((out / p.stem / "metrics.json").read_text())["metrics"] for p in pipeline.notebooks()}
    assert metrics["01_data_prep"]["n_tasks"] == 7 and metrics["01_data_prep"]["n_test_tasks"] == 2
    assert metrics["04_posterior_prediction"]["n_test_pairs"] > 0
    report = (out / "report.html").read_text()
    assert report.index("<th>95% CI</th>") < report.index("id='figures'")  # the answer's table leads the report
    assert len(metrics["06_analysis"]["answer"]) == len({r["finding"] for r in metrics["06_analysis"]["answer_table"]})
