"""Where a notebook puts what it found: tables, figures and its metrics.json.

Layout (STYLE.md): outputs/<profile>/{tables,figures}/ and outputs/<profile>/<notebook>/metrics.json.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minas.core.config import StudyConfig


def _clean(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, pd.DataFrame):
        return _clean(obj.to_dict(orient="records"))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def record_metrics(cfg: StudyConfig, notebook: str, metrics: dict) -> Path:
    """Write a notebook's headline numbers to outputs/<profile>/<notebook>/metrics.json."""
    path = cfg.out / notebook / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"profile": cfg.profile, "seed": cfg.seed, "notebook": notebook, "metrics": _clean(metrics)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def read_metrics(cfg: StudyConfig, notebook: str) -> dict:
    """The metrics a notebook recorded (raises FileNotFoundError naming the notebook to run)."""
    path = cfg.out / notebook / "metrics.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run notebook {notebook} first (python -m minas run --profile {cfg.profile} --only {notebook[:2]})")
    return json.loads(path.read_text())["metrics"]


def save_table(cfg: StudyConfig, df: pd.DataFrame, name: str) -> Path:
    """Save a table as outputs/<profile>/tables/<name>.csv."""
    path = cfg.out / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def save_figure(cfg: StudyConfig, fig, name: str) -> Path:
    """Save a matplotlib figure as outputs/<profile>/figures/<name>.png."""
    path = cfg.out / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path
