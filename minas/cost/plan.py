"""The cost of a profile's series, counted from its settings and the study's code before any work.

Counts per notebook (`minas.cost.counts`: one counter per notebook, from the design functions the notebook calls)
in the units of `minas.cost.work` (trainings, architecture-epochs, images, signal calls and their rows, Hyperband
and controller instances, posterior predictors); then hours from a throughput (`minas.cost.throughput`: seconds per
training image as a function of a network's FLOPs, per 1,000 rows of each signal, per predictor and its epochs,
per notebook start: `calibrate` measures this machine, or a JSON file measured elsewhere).
"""
from __future__ import annotations

from pathlib import Path

from minas.core.config import StudyConfig
from minas.cost.counts import count
from minas.cost.calibration import calibrate
from minas.cost.throughput import Throughput, load_throughput, uniform_seconds
from minas.cost.work import CONVERGE_EXTRA, FORWARD_SHARE, Work, task_shapes
from minas.nas import population

__all__ = ["COLUMNS", "count", "hours", "report", "task_shapes", "total_line"]

COLUMNS = ("trainings", "convergence_trainings", "arch_epochs", "images", "mi_estimates", "mi_rows", "hyperband_instances",
           "controller_instances", "hours")


def hours(works: list[Work], tp: Throughput, workers: int) -> list[dict]:
    """One row per notebook: its counts and planned hours (engine work divided over `workers`); a 'total' row last."""
    rows, missing = [], set()
    for w in works:
        train = sum(n * uniform_seconds(tp, *k) for k, n in w.images.items())
        fwd = sum(n * FORWARD_SHARE * uniform_seconds(tp, *k) for k, n in w.forward_images.items())
        missing |= {m for m in w.mi_rows if m not in tp.mi_seconds_per_1000}
        missing |= {m for m, _ in w.problem_rows if m not in tp.problem_seconds_per_1000 and m not in tp.mi_seconds_per_1000}
        mi = sum(r / 1000 * tp.mi_seconds_per_1000.get(m, 0.0) for m, r in w.mi_rows.items())
        mi += sum(tp.problem_seconds(m, kind, r) for (m, kind), r in w.problem_rows.items())
        par = max(1, workers) if w.parallel else 1
        other = (tp.startup_seconds + w.figures * tp.figure_seconds
                 + tp.predictor_cost(w.predictors, w.predictor_epochs, w.autobuild_epochs, w.autobuild_row_epochs,
                                   w.power_collections))
        rows.append({"notebook": w.notebook, "trainings": w.trainings, "convergence_trainings": w.convergence_trainings,
                     "arch_epochs": round(w.arch_epochs), "images": round(sum(w.images.values())),
                     "mi_estimates": round(w.mi_estimates), "mi_rows": round(sum(w.mi_rows.values())),
                     "hyperband_instances": w.hyperband_instances, "controller_instances": w.controller_instances,
                     "train_hours": (train + fwd) / par / 3600, "mi_hours": mi / par / 3600, "other_hours": other / 3600,
                     "hours": (train + fwd + mi) / par / 3600 + other / 3600})
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k != "notebook"}
    rows.append({"notebook": "total", **total})
    if missing:
        rows[-1]["unpriced_methods"] = sorted(missing)
    uncounted = [w.notebook for w in works if not w.counted]
    if uncounted:
        rows[-1]["uncounted"] = uncounted
    return rows


def _throughput(cfg: StudyConfig, shapes: list, path: str | Path | None) -> Throughput:
    """A throughput file's, else this machine's, calibrated on one torch thread as every job of the study (for the
    signals and known-MI problems the profile's notebooks ask for)."""
    if path:
        return load_throughput(path)
    works = count(cfg, shapes)
    import torch  # deferred: counting needs no torch

    torch.set_num_threads(1)
    return calibrate(cfg, [m for w in works for m in w.mi_rows], shapes, [m for w in works for m, _ in w.problem_rows])


def planned(cfg: StudyConfig, throughput: str | Path | None = None) -> tuple[list[dict], Throughput, list, str]:
    """(`hours` rows, the throughput, the task shapes and where they came from) of profile `cfg`."""
    shapes, origin = task_shapes(cfg)
    tp = _throughput(cfg, shapes, throughput)
    return hours(count(cfg, shapes, tp.converge_epochs), tp, cfg.engine.workers), tp, shapes, origin


def total_line(cfg: StudyConfig, cache: Path) -> str:
    """The line `minas run` prints first: the profile's planned minutes per notebook on this machine, from a
    throughput calibrated once and kept in `cache` (the output folder's throughput.json)."""
    if not cache.exists():
        shapes, _ = task_shapes(cfg)
        _throughput(cfg, shapes, None).save(cache)
    rows = planned(cfg, cache)[0]
    per = ", ".join(f"{r['notebook'][:2]} {r['hours'] * 60:.1f}" for r in rows[:-1])
    return (f"plan: about {rows[-1]['hours'] * 60:.0f} min on this machine ({per} min; "
            f"`python -m minas plan --profile {cfg.profile}` shows the counts)")


def report(cfg: StudyConfig, throughput: str | None = None, save: str | None = None) -> str:
    """`minas plan`: the table of counts and hours per notebook, and what the hours rest on."""
    rows, tp, shapes, origin = planned(cfg, throughput)
    if save:
        tp.save(save)
    head = f"{'notebook':26s}" + "".join(f"{c.replace('_', ' ')[:13]:>14s}" for c in COLUMNS)
    lines = [f"plan of profile {cfg.profile}: {len(shapes)} tasks ({origin}), {cfg.collection.seeds} collection seed(s), "
             f"{max(1, cfg.engine.workers)} worker(s) for 03 and 05", head]
    lines += [f"{r['notebook']:26s}" + "".join(f"{r[c]:14.3f}" if c == "hours" else f"{r[c]:14,d}" for c in COLUMNS)
              for r in rows]
    total = rows[-1]
    per = ", ".join(f"{p[1] and 1 / p[1]:,.0f} img/s at {p[0] / 1e6:.1f} MFLOP" for p in tp.points)
    mi = ", ".join(f"{m} {s:.2f}" for m, s in tp.mi_seconds_per_1000.items())
    mi += (f"; a training to convergence {tp.converge_epochs:.1f} epochs" if tp.converge_epochs else
           f"; a training to convergence {cfg.train.patience + CONVERGE_EXTRA:g} epochs (not measured)")
    mi += f"; a notebook's start {tp.startup_seconds:.1f} s; " + tp.predictor_note()
    lines += [f"total {total['hours']:.2f} h ({total['hours'] * 60:.0f} min): training {total['train_hours']:.2f} h, "
              f"MI and signals {total['mi_hours']:.2f} h, start-ups, figures and 04's predictors {total['other_hours']:.2f} h",
              f"throughput ({tp.source}, {tp.device}, {tp.precision}): {per}; signal seconds per 1,000 rows: {mi}"]
    if population.trains_in_groups(cfg.train.group_size):
        lines.append(f"train.group_size {cfg.train.group_size}: trainings run in populations (minas.nas.population); the "
                     "training hours above count one network at a time, so they are an upper bound (the gain of a "
                     "population on this device is not calibrated: benchmarks/population_training.py measures it)")
    if total.get("unpriced_methods"):
        lines.append(f"no throughput for {', '.join(total['unpriced_methods'])}: their hours are missing")
    if total.get("uncounted"):
        lines.append(f"no counter for {', '.join(total['uncounted'])} (minas/cost/counts/): planned at its start only")
    return "\n".join(lines)
