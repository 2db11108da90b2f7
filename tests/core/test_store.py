"""The results store: idempotent upserts, atomic transactions, schema version."""
import sqlite3

import pytest

from minas.core.store import SCHEMA_VERSION, Store, StoreError


def _row(**kw):
    base = {"task": "t", "arch": "10-10-10-10", "seed": 0, "epochs": 4, "config": "c", "kind": "fixed",
            "accuracy": 0.5, "test_loss": 1.0, "seconds": 0.1, "checkpoint": "", "history": [{"epoch": 1}]}
    return dict(base, **kw)


def test_training_roundtrip_and_upsert(tmp_path):
    s = Store(tmp_path / "s.sqlite")
    s.put_training(_row())
    s.put_training(_row(accuracy=0.7))  # same key: replaced, not duplicated
    assert s.count("trainings") == 1
    got = s.get_training("t", "10-10-10-10", 0, 4, "c")
    assert got["accuracy"] == 0.7
    assert s.get_training("t", "10-10-10-10", 0, 8, "c") is None


def test_mi_rows_written_together(tmp_path):
    s = Store(tmp_path / "s.sqlite")
    rows = [{"task": "t", "arch": "a", "seed": 0, "method": "m", "layer": l, "config": "c",
             "value": 0.1 * l, "ok": 1, "reason": "", "seconds": 1.0, "curve": [0.1]} for l in range(1, 5)]
    s.put_signals(rows)
    assert [r["value"] for r in s.get_signals("t", "a", 0, "m", "c")] == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_failed_transaction_leaves_nothing(tmp_path):
    s = Store(tmp_path / "s.sqlite")
    good = {"task": "t", "arch": "a", "seed": 0, "method": "m", "layer": 1, "config": "c",
            "value": 0.1, "ok": 1, "reason": "", "seconds": 1.0}
    bad = dict(good, layer=2, value=None, ok=None)  # ok is NOT NULL: the insert fails
    with pytest.raises(sqlite3.IntegrityError):
        s.put_signals([good, bad])
    assert s.count("mi") == 0


def test_reopen_keeps_data_and_other_connection_sees_it(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).put_result("k", "1", "c", {"x": [1, 2]})
    assert Store(path).get_result("k", "1", "c") == {"x": [1, 2]}


def test_schema_version_mismatch_is_clear(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version .* move the file away"):
        Store(path)


def test_frame_rejects_unknown_table(tmp_path):
    with pytest.raises(ValueError, match="unknown table"):
        Store(tmp_path / "s.sqlite").frame("nope")


def test_a_store_written_before_the_engine_columns_gains_them_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    con.execute("""CREATE TABLE trainings (task TEXT NOT NULL, arch TEXT NOT NULL, seed INTEGER NOT NULL,
                   epochs INTEGER NOT NULL, config TEXT NOT NULL, kind TEXT NOT NULL, accuracy REAL, test_loss REAL,
                   seconds REAL, checkpoint TEXT, history TEXT, created REAL,
                   PRIMARY KEY (task, arch, seed, epochs, config, kind))""")
    con.execute("INSERT INTO trainings VALUES ('t', '10-10-10-10', 0, 2, 'c', 'fixed', 0.5, 1.0, 1.0, '', '[]', 0)")
    con.commit()
    con.close()
    s = Store(path)
    old = s.get_training("t", "10-10-10-10", 0, 2, "c")
    assert old["accuracy"] == 0.5 and old["engine"] is None and old["device"] is None
    s.put_training({"task": "t", "arch": "20-20-20-20", "seed": 0, "epochs": 2, "config": "c", "kind": "fixed",
                    "accuracy": 0.6, "engine": "population", "device": "cpu"})
    new = Store(path).get_training("t", "20-20-20-20", 0, 2, "c")
    assert (new["engine"], new["device"]) == ("population", "cpu")
