"""Faults a long study meets, each on a few real jobs of one tiny task: a clear message, nothing finished
lost, and a rerun that completes and equals an uninterrupted run.

Covered elsewhere and not repeated: a hard kill at a random moment of collection and a driver killed
before storing an input sample (tests/study/test_collection.py), a dying Dask worker on a toy job
(tests/core/test_engine.py), the lock, check and snapshot mechanics (tests/core/test_lock.py, test_check.py, test_snapshot.py).
"""
import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from minas.core import check, config, lock, snapshot
from minas.core.engine import Engine
from minas.core.store import Store, StoreError
from minas.study import collection, jobs

TASK = "digits8"
# one input sample, two standardization architectures, one Hyperband instance 3 -> 2 -> 1: 9 trainings
TINY = {"data.tasks": ["mnist-parity", TASK], "data.max_train_per_task": 64, "data.max_test_per_task": 32,
        "train.max_epochs": 2, "mi.signals": ["ba"], "mi.max_rows": 40, "mi.min_epochs": 1, "mi.max_epochs": 2,
        "mi.batch_size": 32, "mi.n_standardize": 2, "hyperband.n_inputs": 3, "hyperband.survivors": [2, 1],
        "hyperband.n_clean": 1, "collection.n_train_samples": 1, "collection.n_test_samples": 1}


def _cfg(out: Path):
    return config.load("smoke", output_dir=str(out), **TINY)


def _collect(cfg, workers: int = 0) -> collection.CollectionSummary:
    store = Store(cfg.out / "store.sqlite")
    try:
        with Engine(workers=workers, progress=False) as eng:
            return collection.collect(cfg, store, eng, tasks=[TASK])
    finally:
        store.close()


def _numbers(cfg) -> dict:
    """What the study reads back: the input sample's accuracy and MI, the posterior, every rung's accuracy."""
    store = Store(cfg.out / "store.sqlite")
    col = collection.load_collected(cfg, store, tasks=[TASK])
    store.close()
    return {"samples": col.samples[["arch", "accuracy"] + list(col.samples.filter(like="raw_").columns)],
            "posterior": col.posteriors[TASK], "brackets": col.brackets[["arch", "epochs", "accuracy", "survived"]]}


def _assert_same(got: dict, want: dict) -> None:
    assert list(got["samples"].arch) == list(want["samples"].arch)
    assert np.allclose(got["samples"].drop(columns="arch").to_numpy(float), want["samples"].drop(columns="arch").to_numpy(float))
    assert np.allclose(got["posterior"], want["posterior"])
    assert got["brackets"].to_dict("records") == want["brackets"].to_dict("records")


def _created(cfg) -> dict:
    con = sqlite3.connect(cfg.out / "store.sqlite")
    rows = con.execute("SELECT task, arch, epochs, kind, created FROM trainings").fetchall()
    con.close()
    return {r[:4]: r[4] for r in rows}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run every fault's rerun must equal."""
    cfg = _cfg(tmp_path_factory.mktemp("reference"))
    _collect(cfg)
    return _numbers(cfg)


@pytest.fixture
def no_notebooks(monkeypatch):
    """pipeline.run with papermill replaced by a recorder: the lock's and checks' decisions without kernels."""
    import papermill

    calls = []

    def execute(src, dst, **kw):
        calls.append(Path(src).name)
        Path(dst).write_text("{}")

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def test_corrupt_store_stops_the_run_before_any_write_and_restore_then_rerun_matches(reference, tmp_path, no_notebooks, capsys):
    from minas import pipeline
    from minas.__main__ import main

    cfg = _cfg(tmp_path)
    std, inputs = collection.input_archs(cfg, TASK)
    store = Store(cfg.out / "store.sqlite")
    with Engine(workers=0, progress=False) as eng:
        collection.run_input_samples(cfg, store, eng, [(TASK, a.id) for a in std + inputs])
        snap = snapshot.snapshot(cfg.out, "03_hyperband_collection", keep=3)  # as pipeline.run does after a notebook
        collection.run_brackets(cfg, store, eng, collection.collection_brackets(cfg, TASK))
    store.close()
    path = cfg.out / "store.sqlite"
    path.write_bytes(b"a few bytes")  # the case: the store overwritten
    where = ["--profile", "smoke", "--set", f"output_dir={cfg.out}"]
    assert main(["run", "--only", "04", *where]) == 1
    err = capsys.readouterr().err
    assert "minas: error:" in err and f"{path} is not an SQLite database" in err and snap.name in err
    with pytest.raises(StoreError, match="Nothing was written to it"):
        pipeline.run("smoke", "04", {"output_dir": str(cfg.out)}, log=lambda *_: None)
    assert no_notebooks == [] and path.read_bytes() == b"a few bytes"
    assert lock.holder(cfg.out) is None  # the refused run let its lock go
    assert main(["check", *where]) == 1
    assert main(["restore", *where]) == 0
    assert main(["check", *where]) == 0
    capsys.readouterr()
    assert _collect(cfg).input_jobs == 0  # the input samples came back with the snapshot
    _assert_same(_numbers(cfg), reference)  # the brackets lost with the store are rerun to the same numbers


def test_store_of_another_schema_is_refused_untouched(tmp_path, no_notebooks):
    from minas import pipeline

    path = tmp_path / "store.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='3' WHERE key='schema_version'")  # a later minas's store
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 3; this minas uses 2. Nothing was written"):
        pipeline.run("smoke", "04", {"output_dir": str(tmp_path)}, log=lambda *_: None)
    assert path.read_bytes() == before and no_notebooks == []
    path.rename(tmp_path / "store.v2.sqlite")  # the message's fix: move it away
    pipeline.run("smoke", "04", {"output_dir": str(tmp_path)}, log=lambda *_: None)
    assert no_notebooks == ["04_posterior_prediction.ipynb"]


FIRST_RUN = """
import sys, time, papermill
def execute(src, dst, **kw):
    print("running", flush=True)
    time.sleep(120)
papermill.execute_notebook = execute
from minas import pipeline
pipeline.run("smoke", "04", {"output_dir": sys.argv[1]}, log=lambda *_: None)
"""


def test_two_concurrent_runs_second_stops_at_once_and_a_killed_first_is_taken_over(tmp_path, no_notebooks, capsys):
    from minas import pipeline
    from minas.__main__ import main

    first = subprocess.Popen([sys.executable, "-c", FIRST_RUN, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "running"  # inside its notebook, holding the lock
        before = sorted(p.name for p in tmp_path.rglob("*"))
        t0 = time.perf_counter()
        assert main(["run", "--only", "04", "--profile", "smoke", "--set", f"output_dir={tmp_path}"]) == 1
        assert time.perf_counter() - t0 < 10
        err = capsys.readouterr().err
        assert f"is in use by another minas run (pid {first.pid} on " in err and "command: -c" in err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before and no_notebooks == []
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    said = []
    pipeline.run("smoke", "04", {"output_dir": str(tmp_path)}, log=said.append)
    assert f"took over the lock of a run that died: pid {first.pid}" in said[0]
    assert no_notebooks == ["04_posterior_prediction.ipynb"]


def train_then_die(cfg, task, arch, epochs, from_epochs):
    """jobs.train_fixed, but the worker dies right after the first continued training wrote its checkpoint."""
    result = jobs.train_fixed(cfg, task, arch, epochs, from_epochs)
    flag = cfg.out / "worker-died"
    if from_epochs and not flag.exists():
        flag.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return result


def test_worker_killed_mid_job_is_retried_to_the_same_numbers(reference, tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    monkeypatch.setattr(jobs, "train_fixed", train_then_die)  # what the driver submits; workers import it
    store = Store(cfg.out / "store.sqlite")
    with Engine(workers=1, progress=False) as eng:  # the Hyperband trainings only: the cheap jobs
        (res,) = collection.run_brackets(cfg, store, eng, collection.collection_brackets(cfg, TASK))
    store.close()
    assert (cfg.out / "worker-died").exists()
    want = reference["brackets"]
    assert res.survivors == list(want[want.survived & (want.epochs == want.epochs.max())].arch)
    assert [{k: r[k] for k in ("arch", "epochs", "accuracy", "survived")} for r in res.rows] == want.to_dict("records")


DRIVER = """
import os, signal, sys
from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
from minas.study import collection
n = 0
put = Store.put_training
def put_or_die(self, row):
    global n
    if row["kind"] == "fixed":
        n += 1
        if n == 4:  # the 4th training finished and returned: die before its row is written
            os.kill(os.getpid(), signal.SIGKILL)
    put(self, row)
Store.put_training = put_or_die
cfg = config.load("smoke", output_dir=sys.argv[1], **{tiny})
with Engine(workers=0, progress=False) as eng:
    collection.collect(cfg, Store(cfg.out / "store.sqlite"), eng, tasks=[{task!r}])
"""


def test_driver_sigkilled_between_a_training_and_its_store_write(reference, tmp_path):
    cfg = _cfg(tmp_path)
    code = DRIVER.replace("{tiny}", repr(TINY)).replace("{task!r}", repr(TASK))
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert check.check(cfg.out / "store.sqlite").ok
    before = _created(cfg)
    assert sum(k[3] == "fixed" for k in before) == 3
    _collect(cfg)
    after = _created(cfg)
    assert all(after[k] == t for k, t in before.items())  # nothing stored before the kill was redone
    _assert_same(_numbers(cfg), reference)


def test_full_disk_on_the_checkpoint_folder(reference, tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    real_save, saves = torch.save, []

    def save_until_full(obj, f, *a, **kw):
        saves.append(f)
        if len(saves) > 5:  # the disk fills up: a few bytes land, then ENOSPC
            Path(f).write_bytes(b"PK\x03\x04")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(f))
        return real_save(obj, f, *a, **kw)

    monkeypatch.setattr(torch, "save", save_until_full)
    with pytest.raises(OSError, match="No space left on device") as info:
        _collect(cfg)
    assert info.value.errno == errno.ENOSPC and str(jobs.checkpoint_dir(cfg)) in str(info.value)
    monkeypatch.undo()
    assert check.check(cfg.out / "store.sqlite").ok
    before = _created(cfg)
    assert len(before) == 5  # every training whose checkpoint was written is stored
    for p in jobs.checkpoint_dir(cfg).rglob("*.pt"):  # no torn file under a real checkpoint name
        assert jobs._load(p) is not None
    _collect(cfg)  # space is back
    assert all(_created(cfg)[k] == t for k, t in before.items())
    _assert_same(_numbers(cfg), reference)


class DriverCrash(BaseException):
    pass


def test_truncated_checkpoints_are_retrained_to_the_same_numbers(reference, tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    put, n = Store.put_training, []

    def put_then_crash(self, row):
        put(self, row)
        n.append(row["kind"])
        if n.count("fixed") == 3:  # the first rung is stored, its checkpoints wait to be continued
            raise DriverCrash

    monkeypatch.setattr(Store, "put_training", put_then_crash)
    with pytest.raises(DriverCrash):
        _collect(cfg)
    monkeypatch.undo()
    folder = jobs.checkpoint_dir(cfg) / TASK
    rung = sorted(folder.glob("*_e1_*.pt"))
    converged = sorted(folder.glob("*_e0_*.pt"))
    assert len(rung) == 3 and len(converged) == 3
    for p, keep in zip(rung + converged[:1], (0, 10, 0.5, 0.5)):  # empty, a few bytes, half
        data = p.read_bytes()
        p.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
    with Store(cfg.out / "store.sqlite").transaction() as con:  # make the input sample's MI be recomputed
        arch = converged[0].name.split("_s")[0]
        con.execute("DELETE FROM mi WHERE arch=?", (arch,))
    _collect(cfg)
    _assert_same(_numbers(cfg), reference)
