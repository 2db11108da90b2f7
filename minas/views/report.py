"""Where a notebook puts what it found, and where a later notebook reads it back.

Layout (docs/running.md, 'Outputs'): outputs/<profile>/{tables,figures}/, outputs/<profile>/<notebook>/metrics.json,
and outputs/<profile>/<notebook>/<name>/ for a whole typed result (`save_result` / `load_result`:
a dataclass of DataFrames, arrays, dicts of arrays, nested dataclasses and JSON values), so that
notebook 06 reads notebook 04's Experiment 1 instead of retraining it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minas.core import keys
from minas.core.config import StudyConfig

# CSV floats read back bit for bit: pandas 3 parses exactly by default (and deprecates the option), 1.x/2.x need it
_EXACT_FLOATS = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


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


def portable(value: Any, out: Path) -> Any:
    """`value` (JSON-like: dicts, lists, strings, paths) with every path inside the output folder `out` written
    relative to it ('report.html', '.' for `out` itself) and the user's home in any other absolute path written '~':
    what a run records names no folder of the machine it ran on. Other values are returned as they are."""
    if isinstance(value, dict):
        return {k: portable(v, out) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v, out) for v in value]
    if not isinstance(value, Path) and not (isinstance(value, str) and "\n" not in value and os.path.isabs(value)):
        return value
    path, root, home = (Path(os.path.abspath(p)) for p in (value, out, Path.home()))
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix() or "."
    if path.is_relative_to(home) and home != Path("/"):
        return "~/" + path.relative_to(home).as_posix()
    return str(value)


def record_metrics(cfg: StudyConfig, notebook: str, metrics: dict) -> Path:
    """Write a notebook's headline numbers to outputs/<profile>/<notebook>/metrics.json (paths relative to outputs/<profile>)."""
    path = cfg.out / notebook / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"profile": cfg.profile, "seed": cfg.seed, "notebook": notebook, "metrics": portable(_clean(metrics), cfg.out)}
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


def mi_band_note(cfg: StudyConfig) -> str:
    """One sentence to print beside an MI figure or table: which quantity the study's MI signal is, and its error
    band as notebook 02 validated it (method, rows per estimate, whether the 0.10-nat target was met)."""
    try:
        m = read_metrics(cfg, "02_mine_validation")
    except FileNotFoundError:
        return "MI error band: not validated in this run (notebook 02 has not run for this profile)."
    point = m.get("mi_operating_point") or {}
    quantity = ("a lower-bound estimate of Shannon MI" if m.get("mi_signal") == "mi"
                else "information usable by its critic (its spread between architectures is within Shannon MI's error band)")
    verdict = "meets" if point.get("meets_target") else "misses"
    return (f"MI values from {m.get('mi_method', '?')} are read as {quantity}; notebook 02 measured an error band of "
            f"+/- {float(m.get('mi_error_band', float('nan'))):.3f} nats at {m.get('mi_rows', '?')} rows per estimate on "
            f"known-MI problems at the study's layer shapes ({verdict} the {float(point.get('target', 0.10)):.2f}-nat target).")


def save_table(cfg: StudyConfig, df: pd.DataFrame, name: str) -> Path:
    """Save a table as outputs/<profile>/tables/<name>.csv."""
    path = cfg.out / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def read_table(cfg: StudyConfig, name: str) -> pd.DataFrame | None:
    """A table an earlier notebook saved with `save_table` (None when that notebook has not run)."""
    path = cfg.out / "tables" / f"{name}.csv"
    return pd.read_csv(path) if path.exists() else None


def save_figure(cfg: StudyConfig, fig, name: str) -> Path:
    """Save a matplotlib figure as outputs/<profile>/figures/<name>.png."""
    path = cfg.out / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def _missing(cfg: StudyConfig, notebook: str, what: str) -> FileNotFoundError:
    return FileNotFoundError(f"{what}: run notebook {notebook} first "
                             f"(python -m minas run --profile {cfg.profile} --only {notebook[:2]})")


def _dump(obj: Any, folder: Path, arrays: dict, prefix: str = "") -> dict:
    """Manifest of a dataclass's fields; frames go to CSV, arrays into `arrays` (one .npz), the rest to JSON."""
    manifest = {}
    for f in dataclasses.fields(obj):
        v, key = getattr(obj, f.name), prefix + f.name
        if isinstance(v, pd.DataFrame):
            v.to_csv(folder / f"{key}.csv", index=False)
            # text columns without a missing value read back as text, so "" stays "" (CSV cannot tell "" from missing)
            strings = [str(c) for c in v.columns if pd.api.types.is_string_dtype(v[c]) and not v[c].isna().any()]
            numeric = {str(c): str(v[c].dtype) for c in v.columns if pd.api.types.is_numeric_dtype(v[c])}
            manifest[f.name] = {"kind": "frame", "file": f"{key}.csv", "strings": strings, "numeric": numeric}
        elif isinstance(v, np.ndarray):
            arrays[key] = v.astype(str) if v.dtype == object else v
            manifest[f.name] = {"kind": "array", "key": key, "object": bool(v.dtype == object)}
        elif isinstance(v, dict) and v and all(isinstance(a, np.ndarray) for a in v.values()):
            names = list(v)
            for i, name in enumerate(names):
                arrays[f"{key}.{i}"] = np.asarray(v[name])
            manifest[f.name] = {"kind": "arrays", "key": key, "names": names}
        elif dataclasses.is_dataclass(v):
            manifest[f.name] = {"kind": "dataclass", "fields": _dump(v, folder, arrays, key + ".")}
        else:
            manifest[f.name] = {"kind": "json", "value": _clean(v)}
    return manifest


def _build(cls, manifest: dict, folder: Path, arrays) -> Any:
    hints = typing.get_type_hints(cls)
    values = {}
    for name, m in manifest.items():
        if m["kind"] == "frame":
            df = pd.read_csv(folder / m["file"], **_EXACT_FLOATS, dtype={c: str for c in m["strings"]})
            values[name] = df.fillna({c: "" for c in m["strings"]}).astype(m["numeric"])
        elif m["kind"] == "array":
            a = arrays[m["key"]]
            values[name] = a.astype(object) if m["object"] else a
        elif m["kind"] == "arrays":
            values[name] = {n: arrays[f"{m['key']}.{i}"] for i, n in enumerate(m["names"])}
        elif m["kind"] == "dataclass":
            values[name] = _build(hints[name], m["fields"], folder, arrays)
        else:
            values[name] = m["value"]
    return cls(**values)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_result(cfg: StudyConfig, notebook: str, name: str, result: Any, call: str = "", seconds: float | None = None) -> Path:
    """Write a dataclass result to outputs/<profile>/<notebook>/<name>/ (CSV tables, one .npz, manifest.json).

    `call` and `seconds` are recorded for `minas.views.memo` (which call made it, and what it cost). The manifest,
    with a checksum of every file, is removed first and written last: a folder with a manifest holds a whole result.
    """
    folder = cfg.out / notebook / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").unlink(missing_ok=True)
    arrays: dict = {}
    manifest = {"class": type(result).__qualname__, "module": type(result).__module__, "settings": keys.result_key(cfg),
                "fields": _dump(result, folder, arrays)}
    np.savez(folder / "arrays.npz", **arrays)
    files = sorted({"arrays.npz", *_files(manifest["fields"])})
    manifest |= {"call": call, "seconds": seconds, "sha256": {f: _sha256(folder / f) for f in files}}
    _write_manifest(folder, manifest)  # written last: a manifest means the result is complete
    return folder


def _files(fields: dict) -> list[str]:
    """The CSV files a manifest's fields name, nested dataclasses included."""
    out = []
    for m in fields.values():
        out += [m["file"]] if m["kind"] == "frame" else _files(m["fields"]) if m["kind"] == "dataclass" else []
    return out


def _write_manifest(folder: Path, manifest: dict) -> None:
    tmp = folder / "manifest.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(folder / "manifest.json")  # a reader sees the old manifest or the new one, never half


def load_result(cfg: StudyConfig, notebook: str, name: str, cls: type) -> Any:
    """The `cls` result a notebook saved with save_result; a clear error naming the notebook when missing, stale or
    altered since it was saved (a file whose checksum differs from the manifest's)."""
    folder = cfg.out / notebook / name
    path = folder / "manifest.json"
    if not path.exists():
        raise _missing(cfg, notebook, f"{path} is missing (notebook {notebook} saves its {name} there)")
    manifest = json.loads(path.read_text())
    if manifest["class"] != cls.__qualname__:
        raise TypeError(f"{folder} holds a {manifest['class']}, not a {cls.__qualname__}")
    if manifest["settings"] != keys.result_key(cfg):  # older keys: carried by minas.core.migrate as the store opens
        raise _missing(cfg, notebook, f"{folder} was saved under other settings than profile {cfg.profile!r} has now")
    altered = [f for f, digest in manifest.get("sha256", {}).items() if not (folder / f).exists() or _sha256(folder / f) != digest]
    if altered:
        raise _missing(cfg, notebook, f"{folder}: {', '.join(altered)} changed or missing since the result was saved")
    with np.load(folder / "arrays.npz") as arrays:
        return _build(cls, manifest["fields"], folder, {k: arrays[k] for k in arrays.files})


def provenance(cfg: StudyConfig) -> dict:
    """What the run recorded about itself (outputs/<profile>/provenance.json and timings.json), flattened for a reader."""
    prov = json.loads((cfg.out / "provenance.json").read_text()) if (cfg.out / "provenance.json").exists() else {}
    timings = json.loads((cfg.out / "timings.json").read_text()) if (cfg.out / "timings.json").exists() else {}
    commit = prov.get("commit") or "unknown"
    out = {"commit": commit + (" (with uncommitted changes)" if prov.get("dirty") else ""),
           "profile": cfg.profile, "seed": str(cfg.seed), "started": prov.get("time", "unknown"),
           "device": prov.get("device", "unknown"), "python": prov.get("python", "unknown"),
           "versions": ", ".join(f"{k} {v}" for k, v in (prov.get("versions") or {}).items() if v)}
    out["seeds"] = (f"base seed {cfg.seed}; collection {cfg.collection.seeds} seed(s); predictors {cfg.predict.seeds} seeds, controller "
                    f"{cfg.controller.iterations} iterations, {cfg.controller.eval_instances} evaluation run(s) per data set")
    d, t = cfg.data, cfg.train
    precision = prov.get("train_precision", t.precision)
    out["training"] = (f"up to {d.max_train_per_task} rows per task at {d.image_size} px, batch {t.batch_size}, lr {t.lr} "
                       f"({t.schedule}), arithmetic {precision}" + (" (train.precision auto)" if t.precision == "auto" else ""))
    out["timings"] = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) or "not recorded"
    return out
