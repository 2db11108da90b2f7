"""The notebook series: every notebooks/NN_name.ipynb, in the order of its number.

A notebook joins the series by being dropped into notebooks/ under that name (STYLE.md, Notebooks): the
pipeline runs it, the tests check it and the plan counts it from this list; nothing else names the series.
"""
from __future__ import annotations

from pathlib import Path

from minas.core.config import ROOT

NOTEBOOKS = ROOT / "notebooks"
PATTERN = "[0-9][0-9]_*.ipynb"  # NN_name.ipynb: two digits give the order


def notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The series' notebook files in `folder`, in order."""
    return sorted(folder.glob(PATTERN))


def notebook_names(folder: Path = NOTEBOOKS) -> list[str]:
    """The series' notebook names (e.g. '01_data_prep'), in order: what output folders and timings are called."""
    return [p.stem for p in notebooks(folder)]
