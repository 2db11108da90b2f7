"""Running the notebook series headlessly with papermill, per profile, with provenance.

`python -m minas run --profile default [--only 01,03]` executes notebooks/NN_*.ipynb in
order into outputs/<profile>/notebooks/. Expensive results live in the store, so rerunning
after an interruption resumes where it stopped.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from minas.core import config, guard

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebooks() -> list[Path]:
    """The series, in order: notebooks/NN_name.ipynb."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def select(only: str | None) -> list[Path]:
    """Notebooks whose number is in a comma list like '01,03' (all when empty)."""
    books = notebooks()
    if not only:
        return books
    wanted = {w.strip().zfill(2) for w in only.split(",") if w.strip()}
    known = {p.name[:2] for p in books}
    bad = sorted(wanted - known)
    if bad:
        raise ValueError(f"--only {only!r}: no notebook numbered {bad}; the series has {sorted(known)}")
    return [p for p in books if p.name[:2] in wanted]


def provenance(cfg: config.StudyConfig) -> dict:
    """Git commit, package versions, device and seed of a run."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", None
    versions = {}
    for pkg in ("torch", "torchvision", "numpy", "pandas", "dask", "distributed", "papermill", "scikit-learn", "mlxtend"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    import torch

    device = "cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() and cfg.device != "cpu" else "cpu"
    return {
        "commit": commit, "dirty": dirty, "python": sys.version.split()[0], "platform": platform.platform(),
        "versions": versions, "device": device, "seed": cfg.seed, "profile": cfg.profile, "config": cfg.to_dict(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def run(profile: str = "default", only: str | None = None, overrides: dict | None = None, log=print,
        cell_timeout: int | None = None) -> list[Path]:
    """Execute the selected notebooks in order; returns the executed notebook paths.

    `cell_timeout` (seconds per cell, None: no limit) turns a stuck kernel into an error.
    """
    import papermill as pm

    overrides = dict(overrides or {})
    cfg = config.load(profile, **overrides)  # validate everything before any work
    books = select(only)
    # one run per output folder: a second one stops here and names the holder; a dead run's lock is taken over
    with guard.acquire(cfg.out) as lock:
        if lock.stale:
            log(f"[minas] took over the lock of a run that died: pid {lock.stale.get('pid')} on "
                f"{lock.stale.get('host')}, started {lock.stale.get('started')}")
        guard.ensure_usable(cfg.out / "store.sqlite", profile)  # a corrupt store stops the run before anything writes
        from minas import data

        data.check_data(cfg)  # a missing or corrupt data file fails here, not in notebook 03
        out = cfg.out / "notebooks"
        out.mkdir(parents=True, exist_ok=True)
        (cfg.out / "provenance.json").write_text(json.dumps(provenance(cfg), indent=2, default=str))
        done, timings = [], {}
        timings_path = cfg.out / "timings.json"
        if timings_path.exists():
            timings = json.loads(timings_path.read_text())
        for nb in books:
            log(f"[minas] {nb.name} (profile {cfg.profile}) ...")
            t0 = time.perf_counter()
            pm.execute_notebook(
                str(nb), str(out / nb.name), parameters={"profile": profile, "overrides": overrides},
                cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False, log_output=False,
                execution_timeout=cell_timeout,
            )
            timings[nb.stem] = round(time.perf_counter() - t0, 1)
            timings_path.write_text(json.dumps(timings, indent=2))
            log(f"[minas] {nb.name} done in {timings[nb.stem]:.0f} s")
            guard.snapshot(cfg.out, nb.stem, cfg.engine.snapshots, profile=profile)  # a consistent copy to roll back to
            done.append(out / nb.name)
        return done
