"""One run at a time per output folder: a lock file held with flock(2).

docs/ARCHITECTURE.md (results store): the store is both the cache and the resume mechanism, so two runs
writing one store cost hours. The lock is `minas.lock` in the output folder, held with flock(2): the
kernel drops a flock when its holder dies, so the lock of a killed run is stale by construction and the
next run takes it over; the file names the holder (pid, host, start time, command) for the message.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from minas.core.store import StoreError

LOCK_NAME = "minas.lock"


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
