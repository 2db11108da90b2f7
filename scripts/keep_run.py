"""Copy what a finished run's numbers rest on into docs/measurements/, so README can quote it and a reader can check it.

    python scripts/keep_run.py --profile powered --to docs/measurements/cpu-2026-12-02/powered [--figures 04_,06_]

Copies, from outputs/<profile>/ (or --set output_dir=...): every notebook's metrics.json as
<notebook>_metrics.json, provenance.json, timings.json, throughput.json (what `minas run`'s plan line used),
every table under tables/ and the figures whose names start with one of --figures. Nothing is recomputed; a
missing notebook's metrics is named, never skipped silently.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minas import pipeline  # after the path line: runs from a checkout without an install
from minas.core import config, parse


def keep(out: Path, dest: Path, figures: tuple[str, ...]) -> list[Path]:
    """Copy the run's records from `out` to `dest`; returns the files written. Raises naming missing metrics."""
    missing = [nb.stem for nb in pipeline.notebooks() if not (out / nb.stem / "metrics.json").is_file()]
    if missing:
        raise FileNotFoundError(f"{out} has no metrics for {', '.join(missing)}: finish the run first")
    dest.mkdir(parents=True, exist_ok=True)
    pairs = [(out / nb.stem / "metrics.json", dest / f"{nb.stem}_metrics.json") for nb in pipeline.notebooks()]
    pairs += [(out / name, dest / name) for name in ("provenance.json", "timings.json", "throughput.json")
              if (out / name).is_file()]
    pairs += [(p, dest / "tables" / p.name) for p in sorted((out / "tables").glob("*.csv"))]
    pairs += [(p, dest / "figures" / p.name) for p in sorted((out / "figures").glob("*.png"))
              if figures and p.name.startswith(figures)]
    for src, to in pairs:
        to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, to)
    return [to for _, to in pairs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", required=True, help="the profile whose outputs to keep")
    ap.add_argument("--to", required=True, type=Path, help="a folder under docs/measurements/")
    ap.add_argument("--figures", default="", help="comma list of figure name prefixes to copy too, e.g. 04_,06_")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="e.g. output_dir=/elsewhere")
    args = ap.parse_args(argv)
    cfg = config.load(args.profile, **parse.parse_sets(args.set))
    try:
        written = keep(cfg.out, args.to, tuple(p for p in args.figures.split(",") if p))
    except FileNotFoundError as err:
        print(f"keep_run: {err}", file=sys.stderr)
        return 1
    print(f"{len(written)} files -> {args.to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
