"""Old stores and params files brought up to date once, in one place: the store's schema versions and their steps.

The store is the study's cache and resume mechanism (Kossmann 2019, A.5; docs/ARCHITECTURE.md, Keys), so a
store written by an older minas is carried forward instead of recomputed. Each store records its
`schema_version` (table `meta`); opening one runs the steps from its version to `SCHEMA_VERSION`, then records
the new version, so every step runs once per store:

- every version: columns added to a table after stores were written (`ADDED_COLUMNS`), NULL in older rows;
- 1 -> 2: the keys of before `minas.core.keys` (which hashed data.root, data.download and, for saved results,
  engine.*) carried to the keys now. These old keys are hashes of a config, so this step needs the config the
  store was written under: it runs when a profile opens its store (`store.open_store(cfg)`), moving that
  config's controller iterations and its saved results' manifests (`outputs/<profile>/NN/name/manifest.json`).
  A store opened without a config (`minas check`, a bare `Store(path)`) stays at version 1 until then.
  Results stored under another config's old keys are not found by it and are recomputed when asked for.

Params files: a key renamed since (`PARAMS_RENAMED`) is read under its new name, with a deprecation message.
"""
from __future__ import annotations

import json
import sqlite3
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from minas.core import keys
from minas.core.parse import ConfigError

if TYPE_CHECKING:  # typing only: config imports this module
    from minas.core.config import StudyConfig

SCHEMA_VERSION = 2  # 1: keys of before minas.core.keys; 2: keys by minas.core.keys
READABLE = (1, 2)  # versions a store may have when it opens (older ones are migrated)
# table -> columns added after stores were written (an older store gains them, NULL in its rows): `engine` says what
# trained a result, "cnn" (one network at a time) or "population"; `device` where; neither is part of a key
ADDED_COLUMNS = {"trainings": {"engine": "TEXT", "device": "TEXT"}}
PARAMS_RENAMED = {"mi.methods": "mi.signals"}  # old name -> name now
ENGINE_THEN = ("workers", "scheduler", "checkpoint_dir", "snapshots", "cell_timeout")  # hashed by version-1 result keys


def add_columns(con: sqlite3.Connection) -> None:
    """Give every table the columns added since stores were first written (`ADDED_COLUMNS`)."""
    for name, added in ADDED_COLUMNS.items():
        have = {r[1] for r in con.execute(f"PRAGMA table_info({name})")}
        for col, kind in added.items():
            if col not in have:
                con.execute(f"ALTER TABLE {name} ADD COLUMN {col} {kind}")


def _first_keyed(cfg: StudyConfig) -> dict:
    """`cfg` as version-1 stores hashed it: every field that existed then (`keys.FIRST_KEYED`, `ENGINE_THEN`) at its
    value, paths included, under the names it had then."""
    then = {**keys.FIRST_KEYED, "engine": ENGINE_THEN}
    d = {k: v for k, v in cfg.to_dict().items() if k in then or k in then[""] or k == "output_dir"}
    for name, value in d.items():
        if isinstance(value, dict):
            d[name] = {keys.HASHED_AS.get(name, {}).get(k, k): v for k, v in value.items() if k in then[name]}
    return d


def old_controller_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """A controller iteration's key in a version-1 store (it hashed data.root and data.download too)."""
    return keys.digest(keys.controller_blob(cfg, _first_keyed(cfg), resolved))


def old_result_key(cfg: StudyConfig) -> str:
    """A saved result's key in a version-1 store (it hashed data.root, data.download and engine.* too)."""
    d = _first_keyed(cfg)
    d.pop("output_dir", None)
    if d["collection"]["seeds"] == 1:  # results saved before collection.seeds existed: left out at 1
        d["collection"].pop("seeds")
    return keys.digest(d, default=str)


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    tmp.replace(path)  # a reader sees the old file or the new one, never half


def carry_keys(con: sqlite3.Connection, cfg: StudyConfig, resolved: str | None = None) -> dict[str, int]:
    """Step 1 -> 2 for `cfg`: its controller iterations and saved results moved from their old keys to their keys
    now (a row already stored under the new key wins). Returns how many of each were moved."""
    old, new = old_controller_key(cfg, resolved), keys.controller_key(cfg, resolved)
    moved = con.execute("UPDATE OR IGNORE results SET config=? WHERE config=? AND kind LIKE 'controller-%'",
                        (new, old)).rowcount
    con.execute("DELETE FROM results WHERE config=? AND kind LIKE 'controller-%'", (old,))
    old_result, results = old_result_key(cfg), 0
    for path in sorted(Path(cfg.out).glob("*/*/manifest.json")):
        manifest = json.loads(path.read_text())
        if manifest.get("settings") == old_result:
            _write_json(path, {**manifest, "settings": keys.result_key(cfg, resolved)})
            results += 1
    return {"controller iterations": max(moved, 0), "saved results": results}


def upgrade(con: sqlite3.Connection, version: int, cfg: StudyConfig | None) -> int:
    """Run the steps from `version` to SCHEMA_VERSION inside the caller's transaction; the version reached.
    Without a config, steps that need one wait (the version stays where they start)."""
    add_columns(con)
    if version < 2:
        if cfg is None:
            return version
        carry_keys(con, cfg)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
    return SCHEMA_VERSION


# --- params files --------------------------------------------------------------------------------


def rename_params(raw: dict, where: str) -> None:
    """Move every key of `raw` (a params file's mapping) from its old name to its new one, saying so;
    both names in one file is an error."""
    for old, new in PARAMS_RENAMED.items():
        section, old_key = old.split(".")
        new_key = new.split(".")[1]
        sec = raw.get(section)
        if not isinstance(sec, dict) or old_key not in sec:
            continue
        if new_key in sec:
            raise ConfigError(f"{where}: {old} and {new} are one key ({old} is its old name): keep only {new}")
        _deprecated(old, new, where)
        sec[new_key] = sec.pop(old_key)


def rename_override(dotted: str) -> str:
    """An override's key under its name now (an old name says it is deprecated)."""
    if dotted in PARAMS_RENAMED:
        _deprecated(dotted, PARAMS_RENAMED[dotted], "override")
        return PARAMS_RENAMED[dotted]
    return dotted


def _deprecated(old: str, new: str, where: str) -> None:
    warnings.warn(f"{where}: params key {old} is now called {new}", DeprecationWarning, stacklevel=4)
    print(f"minas: {where}: params key {old} is deprecated, read as {new} (rename it)", file=sys.stderr)
