"""Checking a results store: `verify` before a run writes, `check` for `minas check`.

docs/ARCHITECTURE.md (results store): a torn store costs hours, so a run reads the store before it writes
anything (`verify`: not SQLite, corrupt, another schema) and `minas check` adds SQLite's integrity_check
and the study's own invariants. Those invariants are the study's rules (a bracket's trainings, the
posteriors, the controller's priors): the study room supplies them through the STORE_CHECKS slot
(`minas.core.registry`), so this module knows SQLite and the schema, never a study rule.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from minas.core.migrate import READABLE, SCHEMA_VERSION
from minas.core.registry import STORE_CHECKS
from minas.core.store import (
    TABLES,
    StoreError,
    check_header,
    connect_read_only,
    schema_version,
)


def verify(store_path: str | Path, thorough: bool = False) -> list[str]:
    """Problems that make a store unusable (empty list: fine or absent); reads only, writes nothing."""
    path = Path(store_path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    try:
        check_header(path)
    except StoreError as err:
        return [str(err).split(";")[0]]
    try:
        con = connect_read_only(path)
    except sqlite3.Error as err:
        return [f"{path} cannot be opened: {err}"]
    try:
        pragma = "integrity_check" if thorough else "quick_check"
        found = [r[0] for r in con.execute(f"PRAGMA {pragma}(20)").fetchall()]
        if found != ["ok"]:
            said = "; ".join(" ".join(f.split()) for f in found[:3])
            return [f"{path} is corrupt ({pragma}: {said})"]
        version = schema_version(con)
        if version not in READABLE:  # older versions are migrated when their profile opens them (minas.core.migrate)
            what = "no minas schema version" if version is None else f"store schema version {version}"
            return [f"{path} has {what}; this minas uses {SCHEMA_VERSION}"]
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = sorted(set(TABLES) - have)
        return [f"{path} lacks the tables {missing}"] if missing else []
    except sqlite3.DatabaseError as err:
        return [f"{path} is corrupt ({err})"]
    finally:
        con.close()


@dataclass
class Verdict:
    """What `check` found: problems (the store needs attention) and counts (what it holds)."""

    path: Path
    problems: list[str]
    counts: dict

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        held = ", ".join(f"{n} {k}" for k, n in self.counts.items())
        head = f"{self.path}: {'OK' if self.ok else 'PROBLEMS'}" + (f" ({held})" if held else "")
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


def check(store_path: str | Path) -> Verdict:
    """integrity_check, schema version, row counts, and every registered store check (STORE_CHECKS)."""
    path = Path(store_path)
    if not path.exists():
        return Verdict(path, [f"{path} does not exist (nothing has been stored yet)"], {})
    problems = verify(path, thorough=True)
    if problems:
        return Verdict(path, problems, {})
    con = connect_read_only(path)
    try:
        counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        for _, rule in STORE_CHECKS.items():
            problems += rule.problems(con)
    finally:
        con.close()
    return Verdict(path, problems, counts)
