"""Snapshots of a results store to roll back to, and the check that refuses to run on a broken store.

docs/ARCHITECTURE.md (results store): after each finished notebook `snapshot` makes a consistent copy with
SQLite's online backup API (copying the file while it is open can catch a half-written page) and keeps
the newest `keep`; `restore` puts one back (the CLI's `minas restore`); `ensure_usable` stops a run
before it writes to a store that fails `verify`, naming the snapshot to roll back to.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from minas.core.check import verify
from minas.core.store import StoreError, copy_store

SNAPSHOT_DIR = "snapshots"


def ensure_usable(store_path: str | Path, profile: str = "<profile>") -> None:
    """Raise StoreError (writing nothing) if the store exists and is not usable."""
    problems = verify(store_path)
    if problems:
        raise StoreError("; ".join(problems) + ". Nothing was written to it. " + _fix(Path(store_path).parent, profile))


def _fix(folder: Path, profile: str = "<profile>") -> str:
    names = [p.name for p in snapshots(folder)]
    if names:
        return (f"Roll back to the newest snapshot with `python -m minas restore --profile {profile}` "
                f"(snapshots: {', '.join(names)}), or move the file away to start a fresh store.")
    return "There is no snapshot to restore; move the file away to start a fresh store."


def snapshots(folder: str | Path) -> list[Path]:
    """The snapshots of an output folder, newest first."""
    return sorted((Path(folder) / SNAPSHOT_DIR).glob("*.sqlite"), reverse=True)


def snapshot(folder: str | Path, label: str, keep: int, store_name: str = "store.sqlite",
             profile: str = "<profile>") -> Path | None:
    """Copy the folder's store into snapshots/<time>-<label>.sqlite and keep the newest `keep`.

    A copy that fails its check is deleted and raises StoreError, and the older snapshots stay:
    a corrupt store never pushes a good snapshot out.
    """
    folder = Path(folder)
    src = folder / store_name
    if keep <= 0 or not src.exists():
        return None
    out = folder / SNAPSHOT_DIR
    out.mkdir(exist_ok=True)
    now = time.time()  # names sort by time: <YYYYmmdd-HHMMSS.mmm>-<label>.sqlite
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    dest = out / f"{stamp}-{label}.sqlite"
    tmp = out / f".{dest.name}.tmp"
    try:
        copy_store(src, tmp)
        problems = verify(tmp)
    except BaseException:
        _remove(tmp)
        raise
    if problems:
        _remove(tmp)
        raise StoreError(f"{src} failed its check after {label}: {'; '.join(problems)}. Kept the older "
                         f"snapshots; {_fix(folder, profile)}")
    os.replace(tmp, dest)
    for old in snapshots(folder)[keep:]:
        _remove(old)
    return dest


def _remove(db: Path) -> None:
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
        p.unlink(missing_ok=True)


def find_snapshot(folder: str | Path, name: str | None = None) -> Path:
    """A snapshot by file name (with or without .sqlite) or path; the newest when name is None."""
    found = snapshots(folder)
    if not found:
        raise StoreError(f"{Path(folder) / SNAPSHOT_DIR} holds no snapshot to restore (one is taken after each finished notebook)")
    if name is None:
        return found[0]
    for p in found:
        if name in (p.name, p.stem, str(p)):
            return p
    if Path(name).is_file():
        return Path(name)
    raise StoreError(f"no snapshot {name!r}; available (newest first): {', '.join(p.name for p in found)}")


def restore(folder: str | Path, name: str | None = None, store_name: str = "store.sqlite") -> tuple[Path, Path | None]:
    """Replace the store by a snapshot (the caller holds the folder's lock); returns (snapshot, moved-aside store).

    The current store is never deleted: it moves to `store.sqlite.replaced-<time>` (with its WAL, so
    the moved copy still holds everything it held).
    """
    folder = Path(folder)
    snap = find_snapshot(folder, name)
    problems = verify(snap, thorough=True)
    if problems:
        raise StoreError(f"snapshot {snap.name} is not usable: {'; '.join(problems)}; choose another with --snapshot")
    store = folder / store_name
    tmp = folder / f".{store_name}.restoring"
    copy_store(snap, tmp)
    aside = None
    if store.exists():
        aside = folder / f"{store_name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}"
        os.replace(store, aside)
    wal, shm = (folder / f"{store_name}-{s}" for s in ("wal", "shm"))
    if wal.exists():  # a WAL left beside the restored file would be replayed into it
        if aside is not None:
            os.replace(wal, Path(f"{aside}-wal"))
        else:
            wal.unlink()
    shm.unlink(missing_ok=True)
    os.replace(tmp, store)
    return snap, aside
