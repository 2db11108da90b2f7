"""The SQLite results store: every expensive result keyed by its inputs, computed once.

This is the thesis's cache (Kossmann 2019, A.5) and the study's resume mechanism
(docs/ARCHITECTURE.md): one file per profile, WAL mode, writes in transactions with upserts on natural
keys, so a killed run never leaves half a row and a rerun skips what is done. Only the
driver process writes; workers return results.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing only: config imports this module's room
    from minas.core.config import StudyConfig

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

from minas.core import migrate
from minas.core.migrate import SCHEMA_VERSION

_TABLES = {
    # one row per (task, arch, seed, epochs, config): a training result
    "trainings": """
        task TEXT NOT NULL, arch TEXT NOT NULL, seed INTEGER NOT NULL, epochs INTEGER NOT NULL,
        config TEXT NOT NULL, kind TEXT NOT NULL, accuracy REAL, test_loss REAL, seconds REAL,
        checkpoint TEXT, history TEXT, created REAL, engine TEXT, device TEXT,
        PRIMARY KEY (task, arch, seed, epochs, config, kind)""",
    # one row per (task, arch, seed, method, layer, config): a signal's value, `method` naming the signal (an MI
    # estimator, the probe, a proxy; the column keeps its first name), value NULL if it failed
    "mi": """
        task TEXT NOT NULL, arch TEXT NOT NULL, seed INTEGER NOT NULL, method TEXT NOT NULL,
        layer INTEGER NOT NULL, config TEXT NOT NULL, value REAL, ok INTEGER NOT NULL, reason TEXT,
        seconds REAL, curve TEXT, created REAL,
        PRIMARY KEY (task, arch, seed, method, layer, config)""",
    # one row per finished Hyperband instance (tag says what it was for: collection, controller ...)
    "brackets": """
        tag TEXT NOT NULL, task TEXT NOT NULL, instance INTEGER NOT NULL, config TEXT NOT NULL,
        archs TEXT NOT NULL, result TEXT NOT NULL, seconds REAL, created REAL,
        PRIMARY KEY (tag, task, instance, config)""",
    # free-form finished results of later notebooks (predictor runs, controller iterations ...)
    "results": """
        kind TEXT NOT NULL, key TEXT NOT NULL, config TEXT NOT NULL, value TEXT NOT NULL, created REAL,
        PRIMARY KEY (kind, key, config)""",
}


TABLES = tuple(_TABLES)
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
FIX = ("nothing was written to it; roll back to a snapshot with `python -m minas restore --profile P`, "
       "see `python -m minas check --profile P`, or move the file away to start a fresh store")


class StoreError(RuntimeError):
    """The store file cannot be used as is (not SQLite, corrupt, another schema version, locked)."""


def check_header(path: Path) -> None:
    """Raise StoreError if `path` exists, is not empty and is not an SQLite database."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    if head and head != SQLITE_HEADER:
        raise StoreError(f"{path} is not an SQLite database (it starts with {head[:8]!r}); {FIX}")


def schema_version(con: sqlite3.Connection) -> int | None:
    """The store schema version recorded in a database (None for a fresh, empty one)."""
    has_meta = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if has_meta else None
    return None if row is None else int(row[0])


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot modify the database (checks, snapshots)."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=60)


def copy_store(src: str | Path, dest: str | Path) -> None:
    """A consistent copy of a (possibly live) store with SQLite's online backup API, as one file (no WAL)."""
    source, target = connect_read_only(src), sqlite3.connect(dest)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # a standalone file: nothing beside it to lose or replay
    finally:
        target.close()
        source.close()


class Store:
    """A results store in one SQLite file; a store written by an older minas is migrated as it opens
    (`minas.core.migrate`; steps that need the config it was written under run when `cfg` is given)."""

    def __init__(self, path: str | Path, cfg: StudyConfig | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_header(self.path)
        self._con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            # read the version before writing anything: a store of another schema stays untouched
            version = schema_version(self._con)
            if version is None and self._con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                raise StoreError(f"{self.path} is an SQLite database but not a minas store (no schema version); {FIX}")
            if version not in (None, *migrate.READABLE):
                raise StoreError(
                    f"{self.path} was written by store schema version {version}, this minas uses "
                    f"{SCHEMA_VERSION}; move the file away (or delete it) to start a fresh store"
                )
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._init_schema(version, cfg)
        except sqlite3.DatabaseError as err:
            self._con.close()
            raise StoreError(f"{self.path} cannot be read as a minas store ({err}); {FIX}") from err
        except StoreError:
            self._con.close()
            raise

    def _init_schema(self, version: int | None, cfg: StudyConfig | None) -> None:
        with self.transaction() as con:
            con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            for name, cols in _TABLES.items():
                con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
            if version is not None:
                migrate.upgrade(con, version, cfg)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing block of writes."""
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def close(self) -> None:
        self._con.close()

    # --- trainings -----------------------------------------------------------------------
    def get_training(self, task: str, arch: str, seed: int, epochs: int, config: str, kind: str = "fixed") -> dict | None:
        """The stored training result, or None."""
        cur = self._con.execute(
            "SELECT * FROM trainings WHERE task=? AND arch=? AND seed=? AND epochs=? AND config=? AND kind=?",
            (task, arch, seed, epochs, config, kind),
        )
        row = cur.fetchone()
        return None if row is None else _row(cur, row)

    def put_training(self, row: dict) -> None:
        """Upsert one training result (keys: task, arch, seed, epochs, config, kind, ...)."""
        row = dict(row, created=time.time(), history=json.dumps(row.get("history", [])))
        self._upsert("trainings", row)

    # --- signals (table mi) ---------------------------------------------------------------
    def get_signals(self, task: str, arch: str, seed: int, signal: str, config: str) -> list[dict]:
        """The stored per-layer rows of one signal value (an MI estimate, the probe, a proxy), sorted by layer
        ([] if missing); the signal's name is in column `method`."""
        cur = self._con.execute(
            "SELECT * FROM mi WHERE task=? AND arch=? AND seed=? AND method=? AND config=? ORDER BY layer",
            (task, arch, seed, signal, config),
        )
        return [_row(cur, r) for r in cur.fetchall()]

    def put_signals(self, rows: list[dict]) -> None:
        """Upsert the per-layer rows of one signal value in one transaction."""
        now = time.time()
        with self.transaction():
            for r in rows:
                self._upsert("mi", dict(r, created=now, curve=json.dumps(r.get("curve", []))), in_tx=True)

    # --- brackets and generic results ----------------------------------------------------
    # A bracket's config key ends in keys.seed_suffix(seed) (none for seed 0, as every key written before seeds were keyed).
    def get_bracket(self, tag: str, task: str, instance: int, config: str) -> dict | None:
        cur = self._con.execute(
            "SELECT * FROM brackets WHERE tag=? AND task=? AND instance=? AND config=?", (tag, task, instance, config)
        )
        row = cur.fetchone()
        if row is None:
            return None
        out = _row(cur, row)
        out["archs"], out["result"] = json.loads(out["archs"]), json.loads(out["result"])
        return out

    def put_bracket(self, tag: str, task: str, instance: int, config: str, archs: list, result: dict, seconds: float) -> None:
        self._upsert("brackets", {
            "tag": tag, "task": task, "instance": instance, "config": config, "archs": json.dumps(archs),
            "result": json.dumps(result), "seconds": seconds, "created": time.time(),
        })

    def get_result(self, kind: str, key: str, config: str):
        """A stored JSON value, or None."""
        row = self._con.execute("SELECT value FROM results WHERE kind=? AND key=? AND config=?", (kind, key, config)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_result(self, kind: str, key: str, config: str, value) -> None:
        self._upsert("results", {"kind": kind, "key": key, "config": config, "value": json.dumps(value), "created": time.time()})

    # --- reading -------------------------------------------------------------------------
    def frame(self, table: str, **where) -> pd.DataFrame:
        """A table (optionally filtered by equality on columns) as a DataFrame."""
        if table not in _TABLES:
            raise ValueError(f"unknown table {table!r}; tables: {sorted(_TABLES)}")
        clause = " AND ".join(f"{k}=?" for k in where)
        sql = f"SELECT * FROM {table}" + (f" WHERE {clause}" if where else "")
        return pd.read_sql_query(sql, self._con, params=list(where.values()))

    def count(self, table: str) -> int:
        return int(self._con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def _upsert(self, table: str, row: dict, in_tx: bool = False) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})"
        if in_tx:
            self._con.execute(sql, list(row.values()))
        else:
            with self.transaction() as con:
                con.execute(sql, list(row.values()))


def _row(cur: sqlite3.Cursor, row: tuple) -> dict:
    return {d[0]: v for d, v in zip(cur.description, row)}


def open_store(cfg: StudyConfig) -> Store:
    """The store of a profile, outputs/<profile>/store.sqlite, migrated for `cfg` if an older minas wrote it."""
    return Store(cfg.out / "store.sqlite", cfg)
