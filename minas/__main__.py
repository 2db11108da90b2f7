"""Command line: `python -m minas run --profile default [--only 01,03] [--set key=value ...]`; `plan`, `tasks`, `params`, `check`, `restore`."""
from __future__ import annotations

import argparse
import errno
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing only: the CLI imports config when a command needs it
    from minas.core.config import StudyConfig


def main(argv: list[str] | None = None) -> int:
    from minas.core import config  # the params schema only: no torch, pandas or Dask before a command needs them

    profiles = ", ".join(config.PROFILES) + " (params/<name>.yaml), or a path to a params YAML"
    parser = argparse.ArgumentParser(prog="minas", description="Run the minas notebook series with papermill.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks in order into outputs/<profile>/notebooks")
    run.add_argument("--profile", default="default", help=profiles)
    run.add_argument("--only", default="", help="comma list of notebook numbers, e.g. 01,03")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a params key, e.g. --set train.lr=1e-3 (YAML value syntax)")
    run.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                     help="fail a notebook cell that runs longer (0: no limit; default: the profile's engine.cell_timeout)")
    run.add_argument("--verbose", action="store_true", help="on failure, print the full traceback too")
    run.add_argument("--redo", action="store_true",
                     help="execute every notebook, also those finished before with the same settings and code")
    params = sub.add_parser("params", help="list every params key with its default, its value in a profile and its meaning")
    params.add_argument("--profile", default=None, help="show this profile's values beside the defaults")
    plan = sub.add_parser("plan", help="count the series' work per notebook and plan its hours on this machine")
    plan.add_argument("--throughput", default=None, metavar="JSON", help="a measured throughput file instead of calibrating here")
    plan.add_argument("--save-throughput", default=None, metavar="JSON", help="write the throughput used to this file")
    check = sub.add_parser("check", help="check the profile's store: integrity, schema version, the study's invariants")
    restore = sub.add_parser("restore", help="roll the profile's store back to a snapshot (the newest unless --snapshot)")
    restore.add_argument("--snapshot", default=None, metavar="NAME", help="a snapshot's name (see --list)")
    restore.add_argument("--list", action="store_true", help="only list the snapshots, newest first")
    tasks = sub.add_parser("tasks", help="list the profile's dataset of datasets: one row per task, then the number of sources")
    for cmd in (plan, check, restore, tasks):
        cmd.add_argument("--profile", default="default", help=profiles)
        cmd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a params key (e.g. output_dir)")
    args = parser.parse_args(argv)

    from minas.core import describe, parse

    if args.command == "params":
        try:
            rows = describe.describe(args.profile)
        except config.ConfigError as err:
            print(f"minas: error: {err}", file=sys.stderr)
            return 2
        name = args.profile or "(no profile)"
        print(f"{'key':34s} {'default':22s} {name[:22]:22s} meaning")
        for row in rows:
            mark = "*" if row.value != row.default else " "
            print(f"{row.key:34s} {row.default:22s}{mark}{row.value:22s} {row.doc}")
        return 0
    try:
        overrides = parse.parse_sets(args.set)
    except ValueError as err:
        parser.error(str(err))
    if args.command == "plan":
        from minas.cost import plan as planner

        try:
            print(planner.report(config.load(args.profile, **overrides), args.throughput, args.save_throughput))
        except (config.ConfigError, ValueError) as err:
            print(f"minas: error: {err}", file=sys.stderr)
            return 2
        return 0
    if args.command in ("check", "restore", "tasks"):
        from minas.core.store import StoreError
        from minas.data import DataError

        try:
            cfg = config.load(args.profile, **overrides)
            if args.command == "tasks":
                return _tasks(cfg)
            return _check(cfg) if args.command == "check" else _restore(cfg, args.snapshot, args.list)
        except (config.ConfigError, StoreError, DataError) as err:
            print(f"minas: error: {err}", file=sys.stderr)
            return 1
    from minas import failures, pipeline
    from minas.core.store import StoreError

    if args.cell_timeout is not None:
        overrides["engine.cell_timeout"] = args.cell_timeout
    try:
        pipeline.run(args.profile, args.only or None, overrides, progress_bars=True, redo=args.redo)
    except failures.NotebookFailed as err:
        print(err.text(args.verbose), file=sys.stderr)
        return 1
    except (config.ConfigError, ValueError) as err:
        print(f"minas: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        print(f"minas: error: {err}\n  fix: {failures.known_fix('OSError', str(err), args.profile, '<output folder>')}",
              file=sys.stderr)
        return 1
    except StoreError as err:  # not SQLite, corrupt, another schema version, locked by another run
        print(f"minas: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("minas: interrupted; finished results are in the store, rerun the same command to resume", file=sys.stderr)
        return 130
    print("[minas] done")
    for line in pipeline.where(config.load(args.profile, **overrides)):
        print(f"  {line}")
    return 0


def _check(cfg: StudyConfig) -> int:
    """`minas check`: print the store's verdict; 1 when it has problems."""
    from minas.core import check, lock, snapshot

    verdict = check.check(cfg.out / "store.sqlite")  # the study's invariants come through the STORE_CHECKS slot
    print(verdict.text())
    held = lock.holder(cfg.out)
    if held:
        print(f"  (a run holds this folder now: pid {held.get('pid')} on {held.get('host')}, started {held.get('started')})")
    snaps = snapshot.snapshots(cfg.out)
    print(f"  snapshots: {', '.join(p.name for p in snaps) if snaps else 'none'}")
    return 0 if verdict.ok else 1


def _tasks(cfg: StudyConfig) -> int:
    """`minas tasks`: every task of the profile (built, so rows and sizes are real) and the count of sources."""
    from minas import data

    data.check_data(cfg)  # a missing data set or font package stops here, naming the fix
    table = data.task_table(data.build_tasks(cfg))
    print(table.rename(columns={"split": "meta split"}).to_string(index=False))
    print(f"sources: {table['source'].nunique()}")
    return 0


def _restore(cfg: StudyConfig, name: str | None, list_only: bool) -> int:
    """`minas restore`: list the snapshots, or put one in place of the store (the old store is moved aside)."""
    from minas.core import lock, snapshot

    snaps = snapshot.snapshots(cfg.out)
    for p in snaps:
        print(f"  {p.name}  {p.stat().st_size / 1e6:.1f} MB")
    if list_only:
        return 0
    with lock.acquire(cfg.out):  # never under a running study
        snap, aside = snapshot.restore(cfg.out, name)
    print(f"restored {cfg.out / 'store.sqlite'} from {snap.name}" + (f"; the previous store is kept as {aside}" if aside else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
