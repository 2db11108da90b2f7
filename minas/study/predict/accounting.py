"""Honest accounting: the tests a notebook reports, read as one named family and corrected together (Holm).

Source: Holm 1979 (`minas.stats.holm`); issue 31 (item 5): of 23 comparisons, 9 signal tests and 56 correlations
in the powered run, the two p below 0.05 did not survive a correction nobody applied. A family is named before its
p-values are seen (FAMILY_04 for notebook 04; notebook 06 names its own and calls `holm_family` the same way).
"""
from __future__ import annotations

import pandas as pd

from minas.stats import holm

FAMILY_04 = ("notebook 04's tests of a predictor against another: every paired comparison of the fixed split (p of its "
             "t over source means, crossed over predictor seeds), every leave-one-source-out comparison (the same p) "
             "and every permutation-with-refit test of Gaussian + X against the fitted Gaussian")


def holm_family(parts: list[tuple[str, pd.DataFrame, str]], effect: tuple[str, ...] = ("mean_diff", "statistic"),
                alpha: float = 0.05) -> pd.DataFrame:
    """One table of a named family's tests with Holm-adjusted p: parts are (name, frame with a, b, p column name).

    Columns: part, a, b, effect (the frame's first column of `effect`), p, p_holm, holds (p_holm <= alpha), m (the
    family's size: tests with a finite p). Rows whose p is NaN stay, with NaN p_holm, outside m.
    """
    rows = []
    for name, frame, p in parts:
        if p not in frame.columns:
            raise ValueError(f"part {name!r}: no column {p!r}; it has {list(frame.columns)}")
        col = next((c for c in effect if c in frame.columns), None)
        for _, r in frame.iterrows():
            rows.append({"part": name, "a": r.get("a"), "b": r.get("b"), "effect": r[col] if col else float("nan"),
                         "p": float(r[p])})
    out = pd.DataFrame(rows, columns=["part", "a", "b", "effect", "p"])
    out["p_holm"] = holm(out.p.to_numpy())
    out["holds"] = out.p_holm <= alpha
    out["m"] = int(out.p.notna().sum())
    return out
