"""Collection: resumes after a hard kill without recomputing or duplicating, same results."""
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
from minas.study import collection

OVERRIDES = {
    "data.tasks": ["mnist-parity", "digits8"],
    "collection.n_train_samples": 2,
    "collection.n_test_samples": 2,
    "mi.n_standardize": 2,
}

SCRIPT = """
import sys
from minas.study import collection
from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
cfg = config.load("smoke", output_dir=sys.argv[1], **{overrides})
with Engine(workers=0, progress=False) as eng:
    collection.collect(cfg, Store(cfg.out / "store.sqlite"), eng)
"""


def _cfg(out):
    return config.load("smoke", output_dir=str(out), **OVERRIDES)


def _trainings(path):
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT task, arch, epochs, kind, created, accuracy FROM trainings").fetchall()
    except sqlite3.OperationalError:  # the file exists, its tables not yet (the run is opening it): nothing stored
        rows = []
    con.close()
    return rows


def test_kill_and_resume_recomputes_nothing_and_matches(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    code = SCRIPT.replace("{overrides}", repr(OVERRIDES))
    proc = subprocess.Popen([sys.executable, "-c", code, str(killed)])
    db = killed / "store.sqlite"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
        if db.exists() and len([r for r in _trainings(db) if r[3] == "fixed"]) >= 5:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    before = {r[:4]: r[4] for r in _trainings(db)}
    assert len(before) >= 5

    cfg = _cfg(killed)
    with Engine(workers=0, progress=False) as eng:
        collection.collect(cfg, Store(db), eng)
    after = _trainings(db)
    keys = [r[:4] for r in after]
    assert len(keys) == len(set(keys)), "duplicate rows after resume"
    for r in after:  # nothing finished before the kill was trained again
        if r[:4] in before:
            assert r[4] == before[r[:4]]

    cfg2 = _cfg(clean)
    with Engine(workers=0, progress=False) as eng:
        collection.collect(cfg2, Store(clean / "store.sqlite"), eng)
    a = collection.load_collected(cfg, Store(db))
    b = collection.load_collected(cfg2, Store(clean / "store.sqlite"))
    assert set(a.posteriors) == set(b.posteriors) == {"mnist-parity", "digits8"}
    for task in a.posteriors:
        assert np.allclose(a.posteriors[task], b.posteriors[task])
    assert np.allclose(a.samples.filter(like="raw_").to_numpy(), b.samples.filter(like="raw_").to_numpy())


def test_second_run_submits_no_jobs(tmp_path):
    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "store.sqlite")
    with Engine(workers=0, progress=False) as eng:
        first = collection.collect(cfg, store, eng, tasks=["digits8"])
    n = store.count("trainings")
    with Engine(workers=0, progress=False) as eng:
        second = collection.collect(cfg, store, eng, tasks=["digits8"])
        assert eng.client is None
    assert first.input_jobs > 0 and second.input_jobs == 0
    assert store.count("trainings") == n
    col = collection.load_collected(cfg, store, tasks=["digits8"])
    assert col.posteriors["digits8"].shape == (2, 4, 23)
    assert np.allclose(col.posteriors["digits8"].sum(axis=-1), 1.0)
    assert len(col.samples) == 2 and col.samples.filter(like="z_").notna().all().all()
    digits = col.tasks.set_index("name").loc["digits8"]  # the task's descriptors, for predictors that read them
    assert (digits.classes, digits.size) == (10, 8) and digits.n_train > 0
    # bracket rows: 6 -> 4 -> 2 per instance on the smoke profile
    per_rung = col.brackets.groupby(["sample", "rung"]).size().unstack()
    assert per_rung.values.tolist() == [[6, 4, 2], [6, 4, 2]]
    noise = collection.noise_levels(col, cfg.hyperband.n_clean)
    assert (noise.dirty > 0).all()
    work = collection.work_done(cfg, store)
    assert work["epochs_trained"] > 0


def test_identical_trainings_shared_between_instances(tmp_path):
    from minas.nas.space import Architecture

    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "store.sqlite")
    archs = [Architecture((10 + 5 * i, 10, 10, 10)) for i in range(6)]
    specs = [collection.BracketSpec("t", "digits8", i, archs) for i in range(3)]
    with Engine(workers=0, progress=False) as eng:
        results = collection.run_brackets(cfg, store, eng, specs)
    assert results[0].survivors == results[1].survivors == results[2].survivors
    # 6 + 4 + 2 distinct trainings, not three times as many
    assert store.count("trainings") == 12


def test_same_numbers_whichever_worker_ran_the_job(tmp_path):
    """A Dask cluster of two worker processes gives the in-process numbers exactly."""
    from minas.nas.space import sample_architectures

    archs = sample_architectures(6, np.random.default_rng(5))
    results = {}
    for workers in (0, 2):
        cfg = _cfg(tmp_path / f"w{workers}")
        spec = collection.BracketSpec("t", "digits8", 0, archs)
        with Engine(workers=workers, progress=False) as eng:
            (res,) = collection.run_brackets(cfg, Store(cfg.out / "store.sqlite"), eng, [spec])
        results[workers] = res
    assert results[0].survivors == results[2].survivors
    assert results[0].rows == results[2].rows  # every rung's accuracy identical


def test_driver_killed_before_storing_an_input_sample_loses_nothing(tmp_path):
    """The worker finished (checkpoint on disk) but the driver died before writing its rows."""
    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "store.sqlite")
    with Engine(workers=0, progress=False) as eng:
        collection.collect(cfg, store, eng, tasks=["digits8"])
    before = collection.load_collected(cfg, store, tasks=["digits8"]).samples
    with store.transaction() as con:
        con.execute("DELETE FROM mi")
        con.execute("DELETE FROM trainings WHERE kind='converge'")
    with Engine(workers=0, progress=False) as eng:
        collection.collect(cfg, store, eng, tasks=["digits8"])
    after = collection.load_collected(cfg, store, tasks=["digits8"]).samples
    assert len(after) == len(before) == 2
    assert np.allclose(after.accuracy, before.accuracy)
    assert np.allclose(after.filter(like="raw_").to_numpy(), before.filter(like="raw_").to_numpy())


def test_whole_network_signals_have_one_layer_0_column(tmp_path):
    cfg = config.load("smoke", output_dir=str(tmp_path), **{**OVERRIDES, "data.tasks": ["mnist-parity"],
                                                         "mi.signals": ["probe", "params", "synflow"]})
    store = Store(cfg.out / "store.sqlite")
    with Engine(workers=0, progress=False) as eng:
        collection.run_input_samples(cfg, store, eng, [("mnist-parity", a.id) for a in sum(collection.input_archs(cfg, "mnist-parity"), [])])
    assert collection.signal_columns("params") == ["raw_params_0"]
    assert collection.signal_columns("synflow") == [f"raw_synflow_{l}" for l in range(1, 5)]
    ref = collection.reference_signals(cfg, store, "mnist-parity", "params")
    assert ref.shape == (4, 1) and (ref > 0).all()  # 2 standardize + 2 input architectures, one count each
    with Engine(workers=0, progress=False) as eng:  # a rerun finds every signal stored: no job runs
        assert collection.run_input_samples(cfg, store, eng, [("mnist-parity", a.id) for a in sum(collection.input_archs(cfg, "mnist-parity"), [])]) == 0


def test_work_done_sums_every_layer_share_of_mi_time(tmp_path):
    cfg = config.load("smoke", output_dir=str(tmp_path))
    store = Store(tmp_path / "store.sqlite")
    store.put_training({"task": "t", "arch": "a", "seed": 0, "epochs": 0, "config": "c", "kind": "converge",
                        "accuracy": 0.5, "test_loss": 1.0, "seconds": 4.0, "checkpoint": "", "history": [{}]})
    base = {"task": "t", "arch": "a", "seed": 0, "method": "ba", "config": "m", "value": 0.1, "ok": 1, "reason": "", "curve": []}
    store.put_signals([dict(base, layer=1, seconds=1.0), dict(base, layer=2, seconds=2.0),
                  dict(base, method="params", layer=0, seconds=0.5)])
    done = collection.work_done(cfg, store)
    assert done["mi_seconds"] == 3.5 and done["train_seconds"] == 4.0
