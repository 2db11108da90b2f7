"""Reuse of a notebook's expensive results on rerun: `cached(cfg, notebook, name, fn, *args, **kwargs)`.

The store holds the collection's trainings and signals; every other expensive result of a notebook (notebook
01's architecture signal, 02's known-MI suites and real layers, 04's predictors, 06's reliability trainings and
power curves) is, like them, a pure function of the settings and of its call, so it is computed once, saved and
read back on rerun: the thesis's cache (Kossmann 2019, A.5) for what lives outside the store. `cached` saves
with `report.save_result` (outputs/<profile>/<notebook>/<name>/) under `keys.result_key(cfg)` and a hash of the
call (`call_key`: the function's name and every argument), right after the call returns, so a run killed
anywhere loses only the call in flight. A changed setting or argument recomputes; a saved result that cannot be
read back whole (a file missing, truncated or altered) is recomputed with a warning. What a first run returns is
what it saved, read back, so a rerun sees exactly the numbers the first run saw.
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from minas.core import keys
from minas.core.config import StudyConfig
from minas.core.store import Store
from minas.views import report

P = ParamSpec("P")
T = TypeVar("T")


@dataclasses.dataclass
class Frame:
    """A DataFrame result, wrapped so that `report.save_result` (which writes dataclasses) can save it; columns of
    lists (e.g. a critic's training curve) travel as JSON text and are decoded back (`Frame.of`, `Frame.value`)."""

    frame: pd.DataFrame
    lists: list  # names of the columns that hold lists

    @classmethod
    def of(cls, df: pd.DataFrame) -> "Frame":
        """`df` with its list-valued columns as JSON text."""
        lists = [str(c) for c in df.columns if df[c].dtype == object and df[c].map(_is_list).any()]
        return cls(df.assign(**{c: df[c].map(_to_json) for c in lists}), lists)

    def value(self) -> pd.DataFrame:
        return self.frame.assign(**{c: self.frame[c].map(json.loads) for c in self.lists})


def _is_list(v: Any) -> bool:
    return isinstance(v, (list, tuple, np.ndarray))


def _to_json(v: Any) -> str:
    return json.dumps(np.asarray(v).tolist() if isinstance(v, np.ndarray) else v, default=_plain)


def _plain(v: Any) -> Any:
    """numpy scalars and arrays as Python values, for json.dumps."""
    if isinstance(v, (np.generic, np.ndarray)):
        return v.tolist()
    raise TypeError(f"{type(v).__qualname__} in a list column cannot be saved as JSON")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _frame_print(df: pd.DataFrame | pd.Series) -> str:
    """Content hash of a frame: values, index, column names and dtypes."""
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    try:
        values = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes().hex()
    except TypeError:  # unhashable cells (lists, dicts): their text form
        values = frame.to_csv()
    return _digest(json.dumps([values, [str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]))


def key_form(value: Any) -> Any:
    """A JSON-able form of a call's argument that changes whenever the argument's content does."""
    if isinstance(value, StudyConfig):
        return {"settings": keys.result_key(value)}
    if isinstance(value, Store):  # what a computation reads from it is keyed by the settings, which the key holds
        return "store"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return key_form(value.item())
    if isinstance(value, enum.Enum):
        return [type(value).__qualname__, key_form(value.value)]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [key_form(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(json.dumps(key_form(v), sort_keys=True) for v in value)
    if isinstance(value, dict):
        return [[key_form(k), key_form(v)] for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return {"frame": _frame_print(value)}
    if type(value).__module__ == "torch" and hasattr(value, "numpy"):  # a tensor, without importing torch here
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        data = value.astype(str) if value.dtype == object else np.ascontiguousarray(value)
        return {"array": _digest(data.tobytes().hex()), "shape": list(value.shape), "dtype": str(value.dtype)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"class": type(value).__qualname__,
                **{f.name: key_form(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    raise TypeError(f"cached cannot key an argument of type {type(value).__qualname__}: pass the values it is built "
                    "from (settings, numbers, names, frames, arrays, dataclasses) instead")


def call_key(fn: Callable, args: tuple, kwargs: dict) -> str:
    """Hash of a call: the function's module and name, its positional and its keyword arguments."""
    blob = [f"{fn.__module__}.{fn.__qualname__}", key_form(list(args)), key_form(dict(kwargs))]
    return _digest(json.dumps(blob, sort_keys=True))


def _result_class(manifest: dict) -> type:
    """The class a manifest names (one of minas's; save_result records its module and name)."""
    module = manifest.get("module", "")
    if not module.startswith("minas."):
        raise TypeError(f"the manifest names class {manifest.get('class')!r} of module {module!r}, not one of minas's")
    cls: Any = importlib.import_module(module)
    for part in manifest["class"].split("."):
        cls = getattr(cls, part)
    return cls


def _saved(cfg: StudyConfig, notebook: str, name: str, call: str) -> tuple[bool, Any]:
    """(True, the saved result) when one was saved under these settings and this call and reads back whole."""
    path = cfg.out / notebook / name / "manifest.json"
    if not path.exists():
        return False, None
    try:
        manifest = json.loads(path.read_text())
        if manifest.get("settings") != keys.result_key(cfg) or manifest.get("call") != call:
            return False, None  # other settings or arguments: recompute (and overwrite)
        result = report.load_result(cfg, notebook, name, _result_class(manifest))
    except Exception as exc:  # noqa: BLE001 -- whatever is unreadable is recomputed, never trusted
        warnings.warn(f"{path.parent} cannot be read back ({type(exc).__name__}: {exc}); recomputing it", stacklevel=3)
        return False, None
    seconds = manifest.get("seconds")
    print(f"{notebook}/{name}: reused what an earlier run saved"
          + (f" ({seconds:.0f} s of work not redone)" if isinstance(seconds, (int, float)) else ""))
    return True, result


def cached(cfg: StudyConfig, notebook: str, name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)`, read from outputs/<profile>/<notebook>/<name>/ when this call under these settings was
    saved there, else computed and saved (a DataFrame or a dataclass `report.save_result` writes)."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"cached: {name!r} is not a folder name (no '/', not starting with '.')")
    call = call_key(fn, args, kwargs)
    found, result = _saved(cfg, notebook, name, call)
    if found:
        return result.value() if isinstance(result, Frame) else result
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    if isinstance(value, pd.DataFrame):
        if not isinstance(value.index, pd.RangeIndex) or value.index.start != 0 or value.index.step != 1:
            raise TypeError(f"{fn.__qualname__} returned a frame with an index; cached saves frames with a plain "
                            "0..n-1 index: return frame.reset_index() from it")
        saved, cls = Frame.of(value), Frame
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        saved, cls = value, type(value)
    else:
        raise TypeError(f"cached saves a DataFrame or a dataclass; {fn.__qualname__} returned a {type(value).__qualname__}")
    report.save_result(cfg, notebook, name, saved, call=call, seconds=seconds)
    result = report.load_result(cfg, notebook, name, cls)  # what a rerun will read, so both runs see the same numbers
    return result.value() if cls is Frame else result


@dataclasses.dataclass(frozen=True)
class Cache:
    """`cached` bound to one notebook's settings and folder: `keep = Cache(cfg, "02_mine_validation")`, then
    `keep("shape_runs", validation.run_problems, problems, methods, rows)`."""

    cfg: StudyConfig
    notebook: str

    def __call__(self, name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cached(self.cfg, self.notebook, name, fn, *args, **kwargs)
