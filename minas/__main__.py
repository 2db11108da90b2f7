"""Command line: `python -m minas run --profile default [--only 01,03] [--set key=value ...]`."""
from __future__ import annotations

import argparse
import sys

import yaml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minas", description="Run the minas notebook series with papermill.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks in order into outputs/<profile>/notebooks")
    run.add_argument("--profile", default="default", help="smoke, default, full, or a path to a params YAML")
    run.add_argument("--only", default="", help="comma list of notebook numbers, e.g. 01,03")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a params key, e.g. --set train.lr=0.1 (YAML value syntax)")
    sub.add_parser("params", help="list every params key with its default and meaning")
    args = parser.parse_args(argv)

    from minas.core import config

    if args.command == "params":
        for key, default, doc in config.describe():
            print(f"{key:34s} {default:22s} {doc}")
        return 0
    overrides = {}
    for item in args.set:
        if "=" not in item:
            parser.error(f"--set {item!r}: expected KEY=VALUE, e.g. train.lr=0.1")
        key, value = item.split("=", 1)
        overrides[key.strip()] = yaml.safe_load(value)
    from minas import pipeline

    try:
        pipeline.run(args.profile, args.only or None, overrides)
    except (config.ConfigError, ValueError) as err:
        print(f"minas: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minas: interrupted; finished results are in the store, rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
