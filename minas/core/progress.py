"""Progress bars for every loop a user waits on: a widget in JupyterLab, a text line under `minas run`.

`python -m minas run` executes the notebooks headlessly, where a widget bar would be invisible; it sets
`MINAS_PROGRESS=text` for the kernels it starts, and bars then write plain text to stderr, which the
pipeline shows live under its per-notebook bar. `MINAS_PROGRESS=off` silences them. A bar's total is
fixed when it starts (work found already done counts as done), so the rate and the ETA mean something.
"""
from __future__ import annotations

import os
import sys

ENV = "MINAS_PROGRESS"  # auto (default): tqdm.auto; text: plain text on stderr; off: no bars
HEADLESS = "MINAS_HEADLESS"  # 1: set by `minas run` for the kernels it starts (papermill, no browser); read by views.widgets


def bar(total: int, desc: str, *, initial: int = 0, leave: bool = True, unit: str = "it", disable: bool = False):
    """A tqdm bar of `total` steps, `initial` of them already done, in the display this process has."""
    mode = os.environ.get(ENV, "auto")
    if mode == "text":
        from tqdm.std import tqdm

        # a line every few seconds: each refresh is a message from the kernel to the pipeline
        return tqdm(total=total, initial=initial, desc=desc, leave=leave, unit=unit, disable=disable,
                    file=sys.stderr, mininterval=3.0, ncols=100, ascii=" =")
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, leave=leave, unit=unit, disable=disable or mode == "off")
