"""Many tests read together: Holm's step-down correction of a named family of p-values.

Source: Holm 1979 ("A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6:65-70), with
adjusted p-values as in Wright 1992 (Biometrics 48:1005-1013): sort the m p-values, multiply the i-th smallest by
m - i + 1, carry the running maximum forward and cap at 1. A hypothesis is rejected at family-wise level alpha
exactly when its adjusted p is <= alpha; no assumption about how the tests depend on each other.
"""
from __future__ import annotations

import numpy as np


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values in the input's order; NaN stays NaN and is not counted in the family size m."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError(f"p-values lie in [0, 1]; got {p[ok][(p[ok] < 0) | (p[ok] > 1)].tolist()}")
    order = ok[np.argsort(p[ok], kind="stable")]
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(stepped, 1.0)
    return out
