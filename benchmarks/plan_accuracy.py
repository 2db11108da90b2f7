"""The plan's accuracy: `minas plan`'s minutes per notebook against a measured run's, as ratios.

Prints, per notebook and in total, the planned minutes (calibrated on this machine now, or from
--throughput FILE), the measured minutes and measured / planned. The measured minutes come from a
finished run's timings.json (--timings, e.g. outputs/default/timings.json) or, without it, from a
clean run of the series on the profile in a temporary folder (smoke: about 5 min on 2 cores).
Usage: python benchmarks/plan_accuracy.py [--profile smoke] [--timings PATH] [--throughput FILE]
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from minas.core import config
from minas.cost import plan


def planned_minutes(cfg, throughput_file: str | None) -> dict[str, float]:
    """Notebook stem -> planned minutes, as `minas run` prints them first (calibrated here unless a file is given)."""
    rows = plan.planned(cfg, throughput_file)[0]
    return {r["notebook"]: r["hours"] * 60 for r in rows[:-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--timings", help="a finished run's timings.json (seconds per notebook); else a clean run now")
    ap.add_argument("--throughput", help="a throughput file (minas plan --save-throughput) instead of calibrating")
    args = ap.parse_args()
    tmp = None
    try:
        if args.timings:
            cfg = config.load(args.profile)
            measured = json.loads(Path(args.timings).read_text())
        else:
            from minas import pipeline

            tmp = Path(tempfile.mkdtemp(prefix="minas-plan-"))
            cfg = config.load(args.profile, output_dir=str(tmp))
            pipeline.run(args.profile, overrides={"output_dir": str(tmp)})
            measured = json.loads((cfg.out / "timings.json").read_text())
        planned = planned_minutes(cfg, args.throughput)
        print(f"{'notebook':26s}{'planned min':>12s}{'measured min':>14s}{'measured/planned':>18s}")
        for nb, p in planned.items():
            m = measured.get(nb)
            shown = f"{m / 60:14.1f}{m / 60 / p:18.2f}" if m is not None and p > 0 else f"{'-':>14s}{'-':>18s}"
            print(f"{nb:26s}{p:12.1f}{shown}")
        total_p, total_m = sum(planned.values()), sum(measured.get(nb, 0.0) for nb in planned) / 60
        print(f"{'total':26s}{total_p:12.1f}{total_m:14.1f}{total_m / total_p:18.2f}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
