"""What `python -m minas run` says when a notebook fails: one short block, and the fix where minas knows it.

A failing cell (an exception, a cell over `engine.cell_timeout`, a kernel that died) becomes one
`NotebookFailed`: which notebook and cell, the exception's own message, the executed notebook to open,
and for the known cases (`KNOWN`) what to do. The full traceback is kept for `--verbose`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(eq=False)
class NotebookFailed(Exception):
    """A notebook of the series failed; `text(verbose)` is the block the CLI prints."""

    notebook: str  # e.g. 03_hyperband_collection
    cell: int | None  # 1-based, counted over the cells of notebooks/<notebook>.ipynb (markdown too)
    cell_head: str  # the cell's first line of code
    ename: str
    evalue: str
    executed: Path
    fix: str | None
    traceback: str

    def __str__(self) -> str:
        return self.text(verbose=False)

    def text(self, verbose: bool = False) -> str:
        where = f" in cell {self.cell} (`{self.cell_head}`)" if self.cell else ""
        lines = [f"minas: error: notebook {self.notebook} failed{where}",
                 f"  {self.ename}: {self.evalue}" if self.evalue else f"  {self.ename}",
                 f"  executed notebook: {self.executed}"]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        if verbose and self.traceback:
            lines += ["", self.traceback]
        elif self.traceback:
            lines.append("  (the full traceback: rerun with --verbose, or open the executed notebook)")
        return "\n".join(lines)


SELF_EXPLAINED = ("StoreError", "StoreLocked")  # minas's own store errors carry their fix in the message
RESUME = "rerun the same command afterwards: finished work is kept in the store"

# (pattern over "ename: evalue", fix); the first match wins; {p} is the profile, {out} the output folder
KNOWN: list[tuple[str, str]] = [
    (r"CellTimeoutError", "the cell ran longer than engine.cell_timeout ({timeout} s): raise it with "
     "--cell-timeout SECONDS (0: no limit) or in the params file; " + RESUME),
    (r"file is not a database|not an SQLite|malformed|file is encrypted",
     "the store {out}/store.sqlite is damaged or is not a minas store: `python -m minas check --profile {p}` "
     "says what is wrong, `python -m minas restore --profile {p}` puts back the last snapshot"),
    (r"schema version", "the store {out}/store.sqlite was written by another version of minas: restore a snapshot "
     "(`python -m minas restore --profile {p}`) or write this run elsewhere (--set output_dir=FOLDER)"),
    (r"database is locked|in use by another minas run",
     "another process is writing {out}: wait for the other run (or close the notebook that has the store open), "
     "then " + RESUME),
    (r"No space left on device|database or disk is full|Errno 28\b",
     "the disk holding {out} is full: free space (`make clean-outputs PROFILE={p}` deletes checkpoints and other "
     "files that can be recomputed, never the store), then " + RESUME),
    (r"^DataError|data set .*missing|corrupt",
     "get the named file (docs/data.md, 'The full thesis data sets'; data.download: true fetches what torchvision can), "
     "then " + RESUME),
    (r"KilledWorker|worker.*(died|killed|lost)|CommClosedError",
     "a Dask worker died on the same job again and again, most often for lack of memory: run fewer workers "
     "(--set engine.workers=1) or none (--set engine.workers=0); " + RESUME),
    (r"DeadKernelError|Kernel died|MemoryError|out of memory|OutOfMemoryError",
     "the notebook's process ran out of memory (or was killed): close other programs, lower engine.workers, "
     "mi.max_rows or data.max_train_per_task, then " + RESUME),
]


def known_fix(ename: str, evalue: str, profile: str, out: Path | str, timeout: int | None = None) -> str | None:
    """The fix minas knows for an exception, or None."""
    if ename in SELF_EXPLAINED:
        return None
    text = f"{ename}: {evalue}"
    for pattern, fix in KNOWN:
        if re.search(pattern, text, flags=re.IGNORECASE | re.MULTILINE):
            return fix.format(p=profile, out=out, timeout=timeout)
    return None


_ADDED = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill adds to the executed copy


def _cell(executed: Path, index: int | None) -> tuple[int | None, str]:
    """(1-based number in the series' own notebook, first line of code) of the failed cell, else of the last cell
    that started running (a timeout, a dead kernel); papermill's `index` when the executed file is unreadable."""
    try:
        nb = nbformat.read(executed, as_version=4)
    except (OSError, ValueError):
        return (index + 1 if index is not None else None), ""
    own = [c for c in nb.cells if not _ADDED & set(c.get("metadata", {}).get("tags", []))]
    marks = [c.get("metadata", {}).get("papermill", {}) for c in own]
    failed = [i for i, m in enumerate(marks) if m.get("exception")]  # papermill marks the failed cell
    started = [i for i, m in enumerate(marks) if m.get("start_time")]
    index = failed[0] if failed else (started[-1] if started else None)
    if index is None:
        return None, ""
    head = next((l.strip() for l in own[index].source.splitlines() if l.strip() and not l.startswith("#")), "")
    return index + 1, head[:80]


def from_execution(err: BaseException, executed: Path, profile: str, out: Path, timeout: int | None) -> NotebookFailed | None:
    """A papermill/nbclient failure as a NotebookFailed; None for anything else (the caller re-raises it)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        index, ename, evalue = err.cell_index, err.ename, err.evalue
        tb = _ANSI.sub("", "\n".join(err.traceback))
    elif isinstance(err, (CellTimeoutError, DeadKernelError)):
        index, ename = None, type(err).__name__
        evalue = (f"the cell did not finish within {timeout} s" if isinstance(err, CellTimeoutError)
                  else "the kernel died (killed by the system, most often for lack of memory)")
        tb = _ANSI.sub("", str(err))
    else:
        return None
    cell, head = _cell(executed, index)
    return NotebookFailed(executed.stem, cell, head, ename, evalue.strip(), executed,
                          known_fix(ename, evalue, profile, out, timeout), tb)
