"""Tables as a reader wants them in a notebook (issue 33, item 5): the few columns that carry the finding, numbers to 3
significant digits, each interval as one "[low, high]" column, no empty column, and what every row repeats (a unit)
said once above the table. The full table is still saved to tables/ (`report.save_table`); this is only its view.
"""
from __future__ import annotations

import pandas as pd

from minas.views.findings import num

DIGITS = 3
INTERVALS = (("ci_low", "ci_high", "95% CI"),)  # (low column, high column, the merged column's name)


def _text(v, digits: int) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e6 else num(v, digits)


def readable(df: pd.DataFrame, columns: list[str] | None = None, intervals=INTERVALS, digits: int = DIGITS,
             rename: dict | None = None) -> tuple[pd.DataFrame, str]:
    """(the table to show, a note of what every row shares, '' if nothing): see the module docstring.

    columns: the columns to keep, in order (interval bounds may be named; default all); intervals: (low, high, name)
    triples merged into one column where the table has both; rename: column -> header shown.
    """
    t = df.copy()
    for low, high, name in intervals:
        if low in t and high in t:
            merged = [f"[{_text(a, digits)}, {_text(b, digits)}]" if pd.notna(a) and pd.notna(b) else ""
                      for a, b in zip(t[low], t[high])]
            t.insert(list(t.columns).index(low), name, merged)
            t = t.drop(columns=[low, high])
            if columns is not None:
                columns = [name if c == low else c for c in columns if c != high]
    if columns is not None:
        t = t[[c for c in columns if c in t]]
    t = t.apply(lambda col: col.map(lambda v: _text(v, digits)))
    t = t.loc[:, [(t[c] != "").any() for c in t.columns]]  # no empty columns (e.g. a train std of one-seed rows)
    shared = [c for c in t.columns if len(t) > 1 and t[c].nunique() == 1 and not c.startswith(("n_", "95%"))
              and t[c].iloc[0] and not t[c].iloc[0][0].isdigit() and not t[c].iloc[0].startswith(("-", "+"))]
    note = "; ".join(f"{c}: {t[c].iloc[0]}" for c in shared)
    t = t.drop(columns=shared)
    return t.rename(columns=rename or {}).reset_index(drop=True), note


def show(df: pd.DataFrame, **options) -> None:
    """Display `readable(df, **options)` in a notebook: the shared note (if any) above the table."""
    from IPython.display import Markdown, display

    view, note = readable(df, **options)
    if note:
        display(Markdown(f"*{note}*"))
    display(view)
