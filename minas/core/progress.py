"""Progress bars for every loop a user waits on: a widget in JupyterLab, a few lines in an executed notebook,
a live text line under `minas run`.

A kernel that `python -m minas run` starts is headless (`MINAS_HEADLESS=1`): whatever it writes is stored in the
executed notebook, so a bar there leaves a few lines for its reader (`Steps`: when it starts, at each tenth of its
total, when it ends), and only the outermost loop does (a loop inside another leaves none). The live bar the CLI
shows goes elsewhere: `minas run` names a file in `MINAS_PROGRESS_LIVE`, kernels write their text bars there, and
the pipeline follows that file under its own bar. `MINAS_PROGRESS=text` gives text bars on stderr outside
notebooks, `off` silences every bar. A bar's total is fixed when it starts (work found already done counts as
done), so the rate and the ETA mean something. Bars are tqdm's (github.com/tqdm/tqdm).
"""
from __future__ import annotations

import os
import sys
import time
import weakref

ENV = "MINAS_PROGRESS"  # auto (default): tqdm.auto; text: plain text on stderr; off: no bars
HEADLESS = "MINAS_HEADLESS"  # 1: set by `minas run` for the kernels it starts (papermill, no browser); read by views.widgets
LIVE = "MINAS_PROGRESS_LIVE"  # a file path: headless kernels write live text bars there for `minas run --progress`
_OPEN: "weakref.WeakSet[Steps]" = weakref.WeakSet()  # Steps bars not closed yet, in this process


class Steps:
    """A bar for the reader of an executed notebook: a line when the loop starts, one per tenth of its total (at most
    nine), one when it ends, written to stderr; a nested loop, or one with nothing to do, writes none. With `live`
    (a tqdm bar), every update also moves that bar."""

    def __init__(self, total: int, desc: str, *, initial: int = 0, unit: str = "it", live=None, file=None, frame=None):
        self.desc, self.unit, self.n, self.live = desc, unit, initial, live
        self._total, self._file, self._t0, self.closed = total, file, time.perf_counter(), False
        self._frame = frame or sys._getframe(1)  # the loop's code: a bar is nested while that frame is on the stack
        self.quiet = _inside_a_loop(self._frame) or not total
        _OPEN.add(self)
        self._tenth = self._tenths()
        done = f", {initial} already done" if initial else ""
        self._say(f"start, {total} {unit}{done}")

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:  # Engine.run adds the jobs a finished job asks for
        self._total = value
        if self.live is not None:
            self.live.total = value

    def _tenths(self) -> int:
        """Tenths of the total done: 0..9, and 10 once all is done (the end line says that)."""
        return (int(10 * self.n / self._total) if self.n < self._total else 10) if self._total else 0

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(f"{self.desc}: {text}", file=self._file or sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        """n more steps done; a line when that passes a tenth of the total."""
        self.n += n
        if self.live is not None:
            self.live.update(n)
        tenth, before = self._tenths(), self._tenth
        self._tenth = max(tenth, before)
        if before < tenth < 10:
            self._say(f"{10 * tenth}%, {self.n}/{self._total} {self.unit}, {time.perf_counter() - self._t0:.0f} s")

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Shown on the live bar only."""
        if self.live is not None:
            self.live.set_postfix_str(s, refresh=refresh)

    def close(self) -> None:
        """The end line (once), and the live bar closed."""
        if self.closed:
            return
        self.closed, self._frame = True, None
        _OPEN.discard(self)
        self._say(f"done, {self.n}/{self._total} {self.unit} in {time.perf_counter() - self._t0:.0f} s")
        if self.live is not None:
            self.live.close()
            self.live.fp.close()

    def __enter__(self) -> "Steps":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _inside_a_loop(frame) -> bool:
    """Whether an open bar's loop encloses `frame`: its frame is on the stack. A loop that died with an exception
    (its bar never closed) is off the stack, so it silences no later loop."""
    stack = set()
    while frame is not None:
        stack.add(id(frame))
        frame = frame.f_back
    return any(b._frame is not None and id(b._frame) in stack for b in list(_OPEN))


def bar(total: int, desc: str, *, initial: int = 0, leave: bool = True, unit: str = "it", disable: bool = False):
    """A bar of `total` steps, `initial` of them already done, in the display this process has (module docstring)."""
    mode = os.environ.get(ENV, "auto")
    if os.environ.get(HEADLESS) == "1" and mode != "off" and not disable:
        live = None
        if os.environ.get(LIVE):
            from tqdm.std import tqdm

            live = tqdm(total=total, initial=initial, desc=desc, leave=leave, unit=unit, mininterval=1.0, ncols=100,
                        ascii=" =", file=open(os.environ[LIVE], "a", encoding="utf-8"))
        return Steps(total, desc, initial=initial, unit=unit, live=live, frame=sys._getframe(1))
    if mode == "text":
        from tqdm.std import tqdm

        # a line every few seconds: each refresh is a message from the kernel to the pipeline
        return tqdm(total=total, initial=initial, desc=desc, leave=leave, unit=unit, disable=disable,
                    file=sys.stderr, mininterval=3.0, ncols=100, ascii=" =")
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, leave=leave, unit=unit, disable=disable or mode == "off")
