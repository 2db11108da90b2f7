"""The store's guard: the per-folder lock, the read-only check, snapshots and restore, `minas check`."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minas.core import guard
from minas.core.store import Store, StoreError

# guard.acquire's protocol without importing minas (seconds here): flock the file, then write who holds it
HOLD = """
import fcntl, json, os, socket, sys, time
fd = os.open(os.path.join(sys.argv[1], "minas.lock"), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0)
os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now",
                         "command": "holder-for-test"}).encode())
print("held", flush=True)
time.sleep(120)
"""


def _hold(folder: Path) -> subprocess.Popen:
    """Another process holding the folder's lock (returns once it holds it)."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _fill(store: Store, n: int = 50) -> None:
    for i in range(n):
        store.put_training({"task": "t", "arch": f"a{i}", "seed": 0, "epochs": 1, "config": "c", "kind": "fixed",
                            "accuracy": i / n, "test_loss": 1.0, "seconds": 0.1, "checkpoint": "", "history": [{"e": i}]})


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def test_second_holder_is_refused_with_the_holders_name_and_a_dead_holder_is_taken_over(tmp_path):
    proc = _hold(tmp_path)
    try:
        t0 = time.perf_counter()
        with pytest.raises(guard.StoreLocked, match=rf"pid {proc.pid} on .*command: holder-for-test"):
            guard.acquire(tmp_path)
        assert time.perf_counter() - t0 < 1.0  # at once, no waiting
        assert guard.holder(tmp_path)["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with guard.acquire(tmp_path, command="me") as lock:  # the killed holder's lock is stale: taken over
        assert lock.stale["pid"] == proc.pid and lock.stale["command"] == "holder-for-test"
        assert guard.holder(tmp_path)["command"] == "me"
    assert guard.holder(tmp_path) is None
    assert (tmp_path / guard.LOCK_NAME).read_text() == ""  # a clean release leaves no holder behind
    with guard.acquire(tmp_path) as again:
        assert again.stale is None


def test_lock_is_per_folder_and_refuses_a_second_acquire_in_the_same_process(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    with guard.acquire(a), guard.acquire(b):
        with pytest.raises(guard.StoreLocked, match=f"pid {os.getpid()}"):
            guard.acquire(a)
    guard.acquire(a).release()


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"not a database, just a few bytes")
    with pytest.raises(StoreError, match="is not an SQLite database.*nothing was written"):
        Store(path)
    assert path.read_bytes() == b"not a database, just a few bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]
    assert "is not an SQLite database" in guard.verify(path)[0]


def test_a_store_of_another_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = _bytes(path)
    with pytest.raises(StoreError, match="schema version 99, this minas uses 1"):
        Store(path)
    assert _bytes(path) == before
    assert guard.verify(path) == [f"{path} has store schema version 99; this minas uses 1"]


def _corrupt(path: Path) -> None:
    """Overwrite the middle of the file (table pages, not the header) with garbage."""
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) >= 4 * page
    data[2 * page: 3 * page] = os.urandom(page)
    path.write_bytes(bytes(data))


def _checkpointed(path: Path) -> None:
    """Fold the WAL into the main file so that the file alone holds everything."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def test_a_corrupt_store_is_found_without_writing_and_the_message_names_the_snapshots(tmp_path):
    path = tmp_path / "store.sqlite"
    s = Store(path)
    _fill(s, 400)
    s.close()
    _checkpointed(path)
    snap = guard.snapshot(tmp_path, "03_collection", keep=2)
    _corrupt(path)
    before = _bytes(path)
    with pytest.raises(StoreError, match=rf"corrupt.*Nothing was written.*restore --profile smoke.*{snap.name}"):
        guard.ensure_usable(path, "smoke")
    assert _bytes(path) == before
    verdict = guard.check(path)
    assert not verdict.ok and "corrupt" in verdict.text()


def test_snapshots_keep_the_newest_and_restore_rolls_back_keeping_the_replaced_store(tmp_path):
    path = tmp_path / "store.sqlite"
    s = Store(path)
    names = []
    for i in range(4):
        s.put_result("r", str(i), "c", i)
        names.append(guard.snapshot(tmp_path, f"0{i}_nb", keep=2).name)
    assert [p.name for p in guard.snapshots(tmp_path)] == names[:1:-1]  # the newest two, newest first
    s.put_result("r", "late", "c", 99)
    s.close()
    assert guard.snapshot(tmp_path, "x", keep=0) is None  # 0: no snapshots
    with pytest.raises(StoreError, match="no snapshot 'nope'; available"):
        guard.restore(tmp_path, "nope")
    snap, aside = guard.restore(tmp_path, names[2])
    assert snap.name == names[2]
    assert Store(path).count("results") == 3
    old = sqlite3.connect(aside)  # the replaced store still holds everything it held (its WAL moved with it)
    assert old.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 5
    old.close()
    snap, _ = guard.restore(tmp_path)  # no name: the newest
    assert snap.name == names[3] and Store(path).count("results") == 4


def test_a_snapshot_of_a_corrupt_store_fails_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "store.sqlite"
    s = Store(path)
    _fill(s, 400)
    s.close()
    _checkpointed(path)
    good = guard.snapshot(tmp_path, "01", keep=1)
    _corrupt(path)
    with pytest.raises(StoreError, match="failed its check after 02"):
        guard.snapshot(tmp_path, "02", keep=1)
    assert guard.snapshots(tmp_path) == [good]
    assert not list((tmp_path / guard.SNAPSHOT_DIR).glob(".*"))  # no half copy left behind
    guard.restore(tmp_path)
    assert guard.check(path).ok and Store(path).count("trainings") == 400


def _consistent_store(path: Path) -> Store:
    """Two trainings of one bracket, the bracket, and an MI row with its converged training."""
    from minas.nas.space import Architecture

    a, b = Architecture((10, 10, 10, 10)).id, Architecture((20, 10, 10, 10)).id
    s = Store(path)
    for arch, acc in ((a, 0.5), (b, 0.7)):
        s.put_training({"task": "t", "arch": arch, "seed": 0, "epochs": 1, "config": "c", "kind": "fixed", "accuracy": acc})
    s.put_training({"task": "t", "arch": a, "seed": 0, "epochs": 0, "config": "c", "kind": "converge", "accuracy": 0.6})
    s.put_mi([{"task": "t", "arch": a, "seed": 0, "method": "ba", "layer": 1, "config": "m", "value": 0.3, "ok": 1}])
    rows = [{"rung": 0, "arch": a, "epochs": 1, "accuracy": 0.5}, {"rung": 0, "arch": b, "epochs": 1, "accuracy": 0.7}]
    s.put_bracket("collection", "t", 0, "h", [a, b], {"rows": rows, "survivors": [b], "scores": [0.69]}, 1.0)
    s.put_result("controller-x", "0", "k", {"priors": [[[0.5, 0.5]] * 4]})
    return s


def test_check_finds_each_broken_invariant(tmp_path):
    from minas.nas.hyperband import posterior

    path = tmp_path / "store.sqlite"
    s = _consistent_store(path)
    verdict = guard.check(path, posterior=posterior)
    assert verdict.ok, verdict.text()
    assert verdict.counts == {"trainings": 3, "mi": 1, "brackets": 1, "results": 1}
    with s.transaction() as con:
        con.execute("DELETE FROM trainings WHERE kind='fixed' AND accuracy=0.7")
        con.execute("DELETE FROM trainings WHERE kind='converge'")
        con.execute("UPDATE brackets SET result=json_set(result, '$.scores', json('[null]'))")
    s.put_result("controller-x", "1", "k", {"priors": [[[0.5, 0.6]] * 4]})
    text = guard.check(path, posterior=posterior).text()
    assert "PROBLEMS" in text
    assert "1 bracket(s) lack stored trainings: collection/t/0" in text
    assert "1 MI estimate(s) without their converged training" in text
    assert "posterior that does not sum to 1" in text
    assert "1 stored prior(s) do not sum to 1 per layer: controller-x/1" in text
    assert guard.check(tmp_path / "absent.sqlite").problems[0].endswith("does not exist (nothing has been stored yet)")


def test_cli_check_and_restore(tmp_path, capsys):
    from minas.__main__ import main

    _consistent_store(tmp_path / "store.sqlite").close()
    where = ["--profile", "smoke", "--set", f"output_dir={tmp_path}"]
    assert main(["restore", *where]) == 1
    assert "holds no snapshot" in capsys.readouterr().err
    snap = guard.snapshot(tmp_path, "03_hyperband_collection", keep=3)
    assert main(["check", *where]) == 0
    out = capsys.readouterr().out
    assert "OK (3 trainings, 1 mi, 1 brackets, 1 results)" in out and snap.name in out
    Store(tmp_path / "store.sqlite").put_mi(
        [{"task": "t", "arch": "orphan", "seed": 0, "method": "ba", "layer": 1, "config": "m", "value": 0.3, "ok": 1}])
    assert main(["check", *where]) == 1
    assert "MI estimate(s) without their converged training" in capsys.readouterr().out
    assert main(["restore", "--list", *where]) == 0
    assert snap.name in capsys.readouterr().out
    proc = _hold(tmp_path)
    try:
        assert main(["restore", *where]) == 1  # never under a live run
        assert f"pid {proc.pid}" in capsys.readouterr().err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert main(["restore", "--snapshot", snap.stem, *where]) == 0
    assert "restored" in capsys.readouterr().out
    assert main(["check", *where]) == 0
    assert json.loads((tmp_path / guard.LOCK_NAME).read_text() or "null") is None
