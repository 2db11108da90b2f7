"""The notebooks' kernels under `minas run`: their environment and their live progress bars in the terminal.

Headless kernels (papermill) write their bars to a file (`minas.core.progress.LIVE`); `live_bars` follows it and
shows each bar live on one status line under the notebook's own bar, so bars stay in the terminal and out of the
executed notebook (docs/ARCHITECTURE.md, progress). `kernel_env` sets what the kernels read at start.
"""
from __future__ import annotations

import codecs
import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from minas.core import progress


class KernelStream:
    """Where a kernel's stderr goes under `minas run --progress`: a bar's text (after a carriage return) shows
    live on one status line under the notebook's bar; finished bars and other lines are printed above it."""

    def __init__(self):
        self.line, self.is_bar, self.status = "", False, None

    def write(self, text: str) -> None:
        for part in re.split(r"(\r|\n)", text):
            if part == "\r":
                self._show()
                self.line, self.is_bar = "", True
            elif part == "\n":
                if self.line.strip():  # a finished bar or a line: above the live ones, on stderr as they are
                    _tqdm().write(self.line.rstrip(), file=sys.stderr)
                if self.is_bar:
                    self._show("")
                self.line, self.is_bar = "", False
            else:
                self.line += part
        if self.is_bar:
            self._show()

    def _show(self, text: str | None = None) -> None:
        text = self.line.strip() if text is None else text
        if self.status is None and text:
            self.status = _tqdm()(total=0, bar_format="  {desc}", leave=False)
        if self.status is not None:
            self.status.set_description_str(text, refresh=True)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.status is not None:
            self.status.close()
            self.status = None


class LiveTail:
    """Follows the file headless kernels write their live bars to (`progress.LIVE`) and shows it, as a `KernelStream`,
    under the notebook's bar: the bars stay live in the terminal and out of the executed notebook."""

    def __init__(self, path: Path, stream: "KernelStream", every: float = 0.3):
        self.path, self.stream, self.every, self.pos = path, stream, every, 0
        self.decode = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="minas-live-bars", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.stop.wait(self.every):
            self.pump()

    def pump(self) -> None:
        """Show what the kernels wrote since the last call."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.pos += len(chunk)
        text = self.decode.decode(chunk)
        if text:
            self.stream.write(text)

    def close(self) -> None:
        """Stop following, show the rest, close the status line."""
        self.stop.set()
        self.thread.join()
        self.pump()
        self.stream.close()


@contextmanager
def live_bars(show: bool):
    """While `show`: a file for the kernels' live bars (its path in `progress.LIVE`), followed by a `LiveTail`."""
    if not show:
        yield None
        return
    fd, name = tempfile.mkstemp(prefix="minas-live-bars-", suffix=".txt")
    os.close(fd)
    tail = LiveTail(Path(name), KernelStream())
    try:
        yield Path(name)
    finally:
        tail.close()
        Path(name).unlink(missing_ok=True)


def _tqdm():
    from tqdm.auto import tqdm

    return tqdm


@contextmanager
def kernel_env(live: Path | None):
    """Environment of the kernels started inside: `MINAS_HEADLESS=1`, so their bars leave a few lines in the executed
    notebook (minas.core.progress.Steps) and the widgets show their figures as plain outputs
    (minas.views.widgets._show); with `live`, the file their live bars go to (`progress.LIVE`)."""
    values = {progress.HEADLESS: "1", progress.LIVE: str(live) if live else None}
    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
