"""Guarding a profile's results store: one run at a time, a check before writing, snapshots to roll back to.

docs/ARCHITECTURE.md (results store): the store is both the cache and the resume mechanism, so a torn or
doubly written store costs hours. Four guards:
- a lock per output folder (`minas.lock`, held with flock(2)): the kernel drops a flock when its
  holder dies, so the lock of a killed run is stale by construction and the next run takes it
  over; the file names the holder (pid, host, start time, command) for the message;
- `verify`: a read-only check before a run writes anything (not SQLite, corrupt, other schema);
- `snapshot`: a consistent copy after each finished notebook, made with SQLite's online backup
  API (copying the file while it is open can catch a half-written page), newest `keep` kept;
- `check` (integrity_check plus the study's own invariants) and `restore`, for the CLI.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from minas.core.store import (
    SCHEMA_VERSION,
    TABLES,
    StoreError,
    check_header,
    connect_read_only,
    copy_store,
    schema_version,
    suffix_seed,
)

LOCK_NAME = "minas.lock"
SNAPSHOT_DIR = "snapshots"


class StoreLocked(StoreError):
    """Another live run holds the output folder's lock."""

    def __init__(self, folder: Path, holder: dict | None):
        self.folder, self.holder = folder, holder or {}
        h = self.holder
        who = (f"pid {h.get('pid', '?')} on {h.get('host', '?')}, started {h.get('started', '?')}, "
               f"command: {h.get('command', '?')}") if h else "a process that has not written its name yet"
        super().__init__(
            f"{folder} is in use by another minas run ({who}). Wait for it to finish or stop it "
            f"(kill {h.get('pid', '<pid>')}); the lock of a run that died is taken over automatically."
        )


@dataclass
class Lock:
    """A held lock on an output folder; `stale` is the dead holder it was taken over from, if any."""

    path: Path
    holder: dict
    stale: dict | None = None
    _fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        """Empty the file (a clean end leaves no holder behind) and drop the lock."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> "Lock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def _read_holder(fd: int) -> dict | None:
    raw = os.pread(fd, 4096, 0)
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return {"command": f"unreadable lock file ({raw[:40]!r})"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(folder: str | Path, command: str | None = None) -> Lock:
    """Lock an output folder for this process; raise StoreLocked naming the holder if it is taken."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by kernels or workers (PEP 446)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise StoreLocked(folder, holder) from None
    except OSError as err:
        if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            os.close(fd)
            raise
        # a filesystem without flock: fall back to asking whether the recorded pid is alive (same host only)
        holder = _read_holder(fd)
        if holder and (holder.get("host") != socket.gethostname() or _alive(int(holder.get("pid", 0)))):
            os.close(fd)
            raise StoreLocked(folder, holder) from None
    stale = _read_holder(fd)  # left by a run that died: a clean release empties the file
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
          "command": command or " ".join([Path(sys.argv[0]).name] + sys.argv[1:])}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    os.fsync(fd)
    return Lock(path, me, stale, fd)


def holder(folder: str | Path) -> dict | None:
    """Who holds a folder's lock now (None if nobody alive does)."""
    path = Path(folder) / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return _read_holder(fd)
    finally:
        os.close(fd)


# --- checks ------------------------------------------------------------------------------
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
        if version != SCHEMA_VERSION:
            what = "no minas schema version" if version is None else f"store schema version {version}"
            return [f"{path} has {what}; this minas uses {SCHEMA_VERSION}"]
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = sorted(set(TABLES) - have)
        return [f"{path} lacks the tables {missing}"] if missing else []
    except sqlite3.DatabaseError as err:
        return [f"{path} is corrupt ({err})"]
    finally:
        con.close()


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


def check(store_path: str | Path, posterior: Callable | None = None) -> Verdict:
    """integrity_check, schema version, and the study's invariants: every bracket's trainings are
    stored with the accuracies the bracket used, no MI row lacks its training, posteriors sum to 1.

    `posterior(survivors, scores)` (minas.nas.hyperband.posterior, passed in: core imports no other
    room) rebuilds each bracket's posterior; without it only the scores are checked for being finite.
    """
    path = Path(store_path)
    if not path.exists():
        return Verdict(path, [f"{path} does not exist (nothing has been stored yet)"], {})
    problems = verify(path, thorough=True)
    if problems:
        return Verdict(path, problems, {})
    con = connect_read_only(path)
    try:
        counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        problems += _bracket_problems(con, posterior)
        orphans = con.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT task, arch, seed FROM mi) m WHERE NOT EXISTS "
            "(SELECT 1 FROM trainings t WHERE t.task=m.task AND t.arch=m.arch AND t.seed=m.seed AND t.kind='converge')"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} MI estimate(s) without their converged training")
        problems += _prior_problems(con)
    finally:
        con.close()
    return Verdict(path, problems, counts)


def _bracket_problems(con: sqlite3.Connection, posterior: Callable | None) -> list[str]:
    trained, seeded = {}, {}
    for task, arch, seed, epochs, acc in con.execute("SELECT task, arch, seed, epochs, accuracy FROM trainings WHERE kind='fixed'"):
        trained.setdefault((task, arch, epochs), []).append(acc)
        seeded.setdefault((task, arch, epochs, seed), []).append(acc)
    missing, differ, bad_post = [], [], []
    for tag, task, instance, config, result in con.execute("SELECT tag, task, instance, config, result FROM brackets"):
        res, seed = json.loads(result), suffix_seed(config)
        name = f"{tag}/{task}/{instance}" + (f" (seed {seed})" if seed is not None else "")
        for r in res.get("rows", []):
            # a key naming its seed is checked against that seed's trainings; an older key against any seed's
            accs = trained.get((task, r["arch"], r["epochs"])) if seed is None else seeded.get((task, r["arch"], r["epochs"], seed))
            if accs is None:
                missing.append(name)
                break
            if not any(a is not None and abs(a - r["accuracy"]) < 1e-9 for a in accs):
                differ.append(name)
                break
        scores = np.asarray(res.get("scores", []), dtype=np.float64)
        if len(scores) != len(res.get("survivors", [])) or not np.isfinite(scores).all():
            bad_post.append(name)
        elif posterior is not None:
            p = np.asarray(posterior(res["survivors"], list(scores)))
            if not np.allclose(p.sum(axis=-1), 1.0, atol=1e-6):
                bad_post.append(name)
    out = []
    for what, names in (("lack stored trainings", missing), ("disagree with their stored trainings' accuracy", differ),
                        ("have a posterior that does not sum to 1 per layer", bad_post)):
        if names:
            out.append(f"{len(names)} bracket(s) {what}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}")
    return out


def _prior_problems(con: sqlite3.Connection) -> list[str]:
    """Stored controller priors ((M, 4, 23), rounded to 6 decimals) must sum to 1 per layer."""
    bad = []
    for kind, key, value in con.execute("SELECT kind, key, value FROM results WHERE value LIKE '%\"priors\"%'"):
        priors = json.loads(value).get("priors")
        if priors is not None and not np.allclose(np.asarray(priors, dtype=np.float64).sum(axis=-1), 1.0, atol=1e-4):
            bad.append(f"{kind}/{key}")
    return [f"{len(bad)} stored prior(s) do not sum to 1 per layer: {', '.join(bad[:3])}"] if bad else []


# --- snapshots ---------------------------------------------------------------------------
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
