"""Running the notebook series headlessly with papermill, per profile, with provenance.

`python -m minas run --profile default [--only 01,03]` executes notebooks/NN_*.ipynb in
order into outputs/<profile>/notebooks/. Expensive results live in the store, so rerunning
after an interruption resumes where it stopped. A notebook that finished with the same notebook,
settings and code (`fingerprint`) and nothing before it rerun is not executed again (`redo` forces it;
`--only` always executes what it names).
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from minas import failures, kernels
from minas.core import config, lock, series, snapshot
from minas.views import report

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = series.NOTEBOOKS


def notebooks() -> list[Path]:
    """The series, in order: notebooks/NN_name.ipynb (`minas.core.series`)."""
    return series.notebooks(NOTEBOOKS)


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
    """Git commit, package versions, device, seed and resolved training precision of a run."""
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
    import torch  # deferred: the CLI answers `--help` and config errors without loading torch

    from minas.nas.device import pick_device, resolve_precision  # deferred with torch

    device = "cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() and cfg.device != "cpu" else "cpu"
    precision = resolve_precision(cfg.train.precision, pick_device(cfg.device))
    return {
        "train_precision": precision,  # train.precision as resolved on this machine (auto -> bf16 or fp32)
        "commit": commit, "dirty": dirty, "python": sys.version.split()[0], "platform": platform.platform(),
        "versions": versions, "packages": packages(), "device": device, "seed": cfg.seed, "profile": cfg.profile,
        "config": cfg.to_dict(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def packages() -> list[str]:
    """Every installed distribution as `name==version`, sorted (what `pip freeze` lists)."""
    found = {(d.metadata["Name"] or "?").lower(): d.version for d in metadata.distributions()}
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def notebook_parameters(profile: str, cfg: config.StudyConfig, overrides: dict) -> dict:
    """What papermill injects: the profile (a params file as an absolute path) and the overrides as validated,
    with every path absolute, so notebooks running from notebooks/ see the folders the command line meant."""
    name = profile if str(profile) in config.PROFILES else str(config.profile_path(profile))
    values = {key: config.get_value(cfg, key) for key in overrides}
    values.update({key: config.get_value(cfg, key) for key in config.PATH_KEYS if config.get_value(cfg, key)})
    return {"profile": name, "overrides": values}


def where(cfg: config.StudyConfig) -> list[str]:
    """Lines saying where a run's results are (and the Dask dashboard when a cluster is configured)."""
    out = shown(cfg.out)
    lines = [f"results:   {out} (store.sqlite, tables/, figures/, <notebook>/metrics.json)",
             f"notebooks: {out / 'notebooks'}"]
    if (out / "report.html").exists():
        lines.append(f"report:    {out / 'report.html'}")
    link = dashboard_link(cfg)
    if link:
        lines.append(f"dashboard: {link}")
    return lines


def shown(path: Path) -> Path:
    """`path` as a log line names it: relative to the current folder when inside it, so a log names no machine's folders."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def dashboard_link(cfg: config.StudyConfig) -> str | None:
    """The Dask dashboard of the configured scheduler (engine.scheduler), if it answers; None without one."""
    if not cfg.engine.scheduler:
        return None
    try:
        from distributed import Client

        with Client(cfg.engine.scheduler, timeout=5) as client:
            return client.dashboard_link
    except (OSError, TimeoutError, ImportError):
        return None


PLAN_ENV = "MINAS_PLAN"  # off: `minas run` skips the plan line (the tests' many stand-in runs)


DONE_FILE = "finished.json"  # outputs/<profile>/notebooks/: notebook stem -> fingerprint of its last finished run


def code_digest() -> str:
    """sha256 over the minas package's Python sources (paths and contents, in path order)."""
    h = hashlib.sha256()
    pkg = ROOT / "minas"
    for path in sorted(pkg.rglob("*.py")):
        h.update(str(path.relative_to(pkg)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def fingerprint(nb: Path, params: dict, code: str) -> str:
    """What a notebook's finished run depends on besides the store: its own file, the injected parameters (the
    profile's settings and every override) and the package's code (`code_digest`)."""
    blob = json.dumps({"notebook": hashlib.sha256(nb.read_bytes()).hexdigest(), "params": params, "code": code},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _finished(out: Path) -> dict:
    try:
        return json.loads((out / DONE_FILE).read_text())
    except (OSError, ValueError):  # none yet, or unreadable: every notebook counts as not finished
        return {}


def _plan_line(cfg: config.StudyConfig) -> str:
    """The plan's total (minas.cost.plan.total_line); a plan that cannot be made is said, never a reason to stop."""
    from minas.cost import plan  # deferred with torch

    try:
        return plan.total_line(cfg, cfg.out / "throughput.json")
    except Exception as err:  # noqa: BLE001 (informative only: whatever the plan lacks, the run goes on)
        return f"plan: not available ({type(err).__name__}: {err})"


def run(profile: str = "default", only: str | None = None, overrides: dict | None = None, log=print,
        cell_timeout: int | None = None, progress_bars: bool = False, redo: bool = False) -> list[Path]:
    """Execute the selected notebooks in order; returns the executed notebook paths.

    Without `only`, a notebook is skipped when its last run finished with today's fingerprint and no notebook
    before it ran in this call (its outputs are then what it would write again); `redo` executes every one.

    `cell_timeout`: seconds per cell (None: the profile's engine.cell_timeout; 0: no limit); a stuck or dead
    kernel then fails the run. `progress_bars`: a bar per notebook (its cells) with the live bars of the
    notebook's long loops under it. A failing notebook raises `failures.NotebookFailed`.
    """
    import papermill as pm

    overrides = dict(overrides or {})
    cfg = config.load(profile, **overrides)  # validate everything before any work
    books = select(only)
    params = notebook_parameters(profile, cfg, overrides)
    timeout = cfg.engine.cell_timeout if cell_timeout is None else cell_timeout
    # one run per output folder: a second one stops here and names the holder; a dead run's lock is taken over
    with lock.acquire(cfg.out) as held:
        if held.stale:
            log(f"[minas] took over the lock of a run that died: pid {held.stale.get('pid')} on "
                f"{held.stale.get('host')}, started {held.stale.get('started')}")
        snapshot.ensure_usable(cfg.out / "store.sqlite", profile)  # a corrupt store stops the run before anything writes
        from minas import data  # deferred: builds on torch, which a config error never needs

        data.check_data(cfg)  # a missing or corrupt data file fails here, not in notebook 03
        if os.environ.get(PLAN_ENV, "on") != "off":
            log(f"[minas] {_plan_line(cfg)}")
        out = cfg.out / "notebooks"
        out.mkdir(parents=True, exist_ok=True)
        prov = report.portable(provenance(cfg), cfg.out)  # no folder of this machine in what the run records
        done, timings = [], {}
        timings_path = cfg.out / "timings.json"
        if timings_path.exists():
            timings = json.loads(timings_path.read_text())
        finished, code, reuse, started = _finished(out), code_digest(), not (only or redo), False
        for i, nb in enumerate(books, 1):
            mark = fingerprint(nb, params, code)
            if reuse and finished.get(nb.stem) == mark and (out / nb.name).is_file():
                log(f"[minas] {nb.name} ({i}/{len(books)}) is up to date: finished before with this notebook, these "
                    "settings and this code (`--redo` runs it again)")
                continue
            if not started:  # the first notebook this call executes: the run's provenance is this call's
                (cfg.out / "provenance.json").write_text(json.dumps(prov, indent=2, default=str))
            reuse, started = False, True  # a notebook ran: everything after it may read new results
            finished = {k: v for k, v in finished.items() if k < nb.stem}  # it, and all after it, may change now
            (out / DONE_FILE).write_text(json.dumps(finished, indent=1))
            log(f"[minas] {nb.name} ({i}/{len(books)}, profile {cfg.profile}) ...")
            t0 = time.perf_counter()
            stream = kernels.KernelStream() if progress_bars else None
            bar = {"desc": f"{nb.stem} ({i}/{len(books)})", "unit": "cell", "leave": False} if progress_bars else False
            try:
                with kernels.live_bars(progress_bars) as live, kernels.kernel_env(live):
                    pm.execute_notebook(
                        str(nb), str(out / nb.name), parameters=params, cwd=str(NOTEBOOKS), kernel_name="python3",
                        progress_bar=bar, log_output=False, stderr_file=stream, execution_timeout=timeout or None,
                    )
            except Exception as err:
                failed = failures.from_execution(err, out / nb.name, str(profile), cfg.out, timeout or None)
                if failed is None:
                    raise
                raise failed from err
            finally:
                if stream is not None:
                    stream.close()
            timings[nb.stem] = round(time.perf_counter() - t0, 1)
            timings_path.write_text(json.dumps(timings, indent=2))
            finished[nb.stem] = mark
            (out / DONE_FILE).write_text(json.dumps(finished, indent=1))
            log(f"[minas] {nb.name} done in {timings[nb.stem]:.0f} s")
            snapshot.snapshot(cfg.out, nb.stem, cfg.engine.snapshots, profile=profile)  # a consistent copy to roll back to
            done.append(out / nb.name)
        return done
