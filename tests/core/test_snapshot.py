"""Snapshots (minas.core.snapshot): consistent copies after each notebook, restore, and the refusal to run on a broken store."""
import os
import sqlite3
from pathlib import Path

import pytest

from minas.core import check, snapshot
from minas.core.store import Store, StoreError


def _fill(store: Store, n: int = 50) -> None:
    for i in range(n):
        store.put_training({"task": "t", "arch": f"a{i}", "seed": 0, "epochs": 1, "config": "c", "kind": "fixed",
                            "accuracy": i / n, "test_loss": 1.0, "seconds": 0.1, "checkpoint": "", "history": [{"e": i}]})


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


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


def _written(path: Path, n: int = 400) -> None:
    """A closed store at `path` holding n trainings, all of it in the main file."""
    s = Store(path)
    _fill(s, n)
    s.close()
    _checkpointed(path)


def test_a_corrupt_store_is_found_without_writing_and_the_message_names_the_snapshots(tmp_path):
    path = tmp_path / "store.sqlite"
    _written(path)
    snap = snapshot.snapshot(tmp_path, "03_collection", keep=2)
    _corrupt(path)
    before = _bytes(path)
    with pytest.raises(StoreError, match=rf"corrupt.*Nothing was written.*restore --profile smoke.*{snap.name}"):
        snapshot.ensure_usable(path, "smoke")
    assert _bytes(path) == before
    verdict = check.check(path)
    assert not verdict.ok and "corrupt" in verdict.text()


def test_snapshots_keep_the_newest_and_restore_rolls_back_keeping_the_replaced_store(tmp_path):
    path = tmp_path / "store.sqlite"
    s = Store(path)
    names = []
    for i in range(4):
        s.put_result("r", str(i), "c", i)
        names.append(snapshot.snapshot(tmp_path, f"0{i}_nb", keep=2).name)
    assert [p.name for p in snapshot.snapshots(tmp_path)] == names[:1:-1]  # the newest two, newest first
    s.put_result("r", "late", "c", 99)
    s.close()
    assert snapshot.snapshot(tmp_path, "x", keep=0) is None  # 0: no snapshots
    with pytest.raises(StoreError, match="no snapshot 'nope'; available"):
        snapshot.restore(tmp_path, "nope")
    snap, aside = snapshot.restore(tmp_path, names[2])
    assert snap.name == names[2]
    assert Store(path).count("results") == 3
    old = sqlite3.connect(aside)  # the replaced store still holds everything it held (its WAL moved with it)
    assert old.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 5
    old.close()
    snap, _ = snapshot.restore(tmp_path)  # no name: the newest
    assert snap.name == names[3] and Store(path).count("results") == 4


def test_a_snapshot_of_a_corrupt_store_fails_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "store.sqlite"
    _written(path)
    good = snapshot.snapshot(tmp_path, "01", keep=1)
    _corrupt(path)
    with pytest.raises(StoreError, match="failed its check after 02"):
        snapshot.snapshot(tmp_path, "02", keep=1)
    assert snapshot.snapshots(tmp_path) == [good]
    assert not list((tmp_path / snapshot.SNAPSHOT_DIR).glob(".*"))  # no half copy left behind
    snapshot.restore(tmp_path)
    assert check.check(path).ok and Store(path).count("trainings") == 400
