"""Checking a store (minas.core.check): `verify` reads only; `check` adds the slot's study rules, knowing none itself."""
import sqlite3

import pytest

from minas.core import check
from minas.core.registry import Registry
from minas.core.store import Store, StoreError


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"not a database, just a few bytes")
    with pytest.raises(StoreError, match="is not an SQLite database.*nothing was written"):
        Store(path)
    assert path.read_bytes() == b"not a database, just a few bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]
    assert "is not an SQLite database" in check.verify(path)[0]


def test_a_store_of_another_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 99, this minas uses 2"):
        Store(path)
    assert path.read_bytes() == before
    assert check.verify(path) == [f"{path} has store schema version 99; this minas uses 2"]


def test_check_reports_what_the_store_checks_slot_finds_and_nothing_else(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    Store(path).put_result("r", "0", "c", {"x": 1})
    seen = []

    class Rule:
        name, about = "test-rule", "finds one problem per result row"

        def problems(self, con: sqlite3.Connection) -> list[str]:
            seen.append(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
            return [f"{seen[-1]} result(s) found by the test rule"]

    slot = Registry("store check", ())  # an empty slot: core has no rule of its own
    monkeypatch.setattr(check, "STORE_CHECKS", slot)
    assert check.check(path).ok and check.check(path).counts == {"trainings": 0, "mi": 0, "brackets": 0, "results": 1}
    slot.register(Rule())
    verdict = check.check(path)
    assert not verdict.ok and verdict.problems == ["1 result(s) found by the test rule"] and seen == [1]
    assert "PROBLEMS (0 trainings, 0 mi, 0 brackets, 1 results)" in verdict.text()
    assert check.check(tmp_path / "absent.sqlite").problems[0].endswith("does not exist (nothing has been stored yet)")
