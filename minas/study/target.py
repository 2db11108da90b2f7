"""How much the architecture matters: the intraclass correlation (ICC) of test accuracy and hs.

The study asks whether a per-layer signal tells which architecture suits a task. That has an
answer only where the task's accuracy differs between architectures by more than between
training seeds of one architecture. `architecture_signal` trains `n_archs` random architectures
x `n_seeds` training seeds on one task (the task's rows fixed by the profile seed, so the data
draw does not vary) through a list of budgets (e.g. Hyperband's rungs, training continued), and
`icc_table` reports per budget:
- `icc1`: one-way random effects ICC(1) (Shrout & Fleiss 1979): the share of variance between
  architectures, treating seeds as exchangeable within an architecture.
- `icc3`: two-way consistency ICC(3,1) (McGraw & Wong 1996, ICC(C,1)). While the batch order
  derives from the seed alone (`crossed=True`), seed s shuffles every architecture's batches
  the same way: seeds are crossed with architectures, and a seed that is unlucky for all
  architectures is a shared shift. ICC(3,1) removes that shift; it is the honest statistic of
  a crossed design. With `crossed=False` each (architecture, seed) pair gets its own batch
  order and init, and ICC(1) is the right one.
Both come with exact F-based 95% intervals (same references).

A seed whose training diverges (non-finite loss) is counted at chance accuracy (1 / classes), not dropped:
whether a seed diverges depends on the architecture, so dropping those architectures would bias the ICC
toward the stable ones. `icc_table` reports how many cells were diverged (`n_diverged`). With
`hyperband.lam_mode: balanced` hs uses the task's own lambda (`hyperband.balanced_lambda` over the
architectures' mean accuracies at that budget), which weighs accuracy and size equally.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from minas import data
from minas.core.config import load
from minas.core.progress import bar as progress_bar
from minas.core.seeding import derive_seed, rng_for
from minas.nas import cnn, hyperband, population
from minas.nas.device import pick_device
from minas.nas.space import sample_architectures
from minas.study.jobs import signal_values


@dataclass(frozen=True)
class ICC:
    """An intraclass correlation with its 95% interval, and the design behind it."""

    value: float
    ci_low: float
    ci_high: float
    n_targets: int  # architectures
    k: int          # seeds per architecture


def _matrix(frame: pd.DataFrame, value: str) -> np.ndarray:
    """(n_archs, n_seeds) matrix of one value; architectures missing a seed are dropped."""
    m = frame.pivot_table(index="arch", columns="seed", values=value, aggfunc="first").dropna()
    if m.shape[0] < 2 or m.shape[1] < 2:
        raise ValueError(f"an ICC needs >= 2 architectures with >= 2 seeds each, got {m.shape}")
    return m.to_numpy(np.float64)


def _bounds(f_obs: float, df1: float, df2: float, k: int, alpha: float) -> tuple[float, float]:
    f_lo = f_obs / stats.f.ppf(1 - alpha / 2, df1, df2)
    f_hi = f_obs * stats.f.ppf(1 - alpha / 2, df2, df1)
    return (f_lo - 1) / (f_lo + k - 1), (f_hi - 1) / (f_hi + k - 1)


def icc_oneway(x: np.ndarray, alpha: float = 0.05) -> ICC:
    """ICC(1) of an (n targets, k repeats) matrix: (MSB - MSW) / (MSB + (k - 1) MSW)."""
    n, k = x.shape
    msb = k * x.mean(1).var(ddof=1)
    msw = ((x - x.mean(1, keepdims=True)) ** 2).sum() / (n * (k - 1))
    if msw == 0:
        return ICC(1.0 if msb > 0 else float("nan"), float("nan"), float("nan"), n, k)
    lo, hi = _bounds(msb / msw, n - 1, n * (k - 1), k, alpha)
    return ICC(float((msb - msw) / (msb + (k - 1) * msw)), float(lo), float(hi), n, k)


def icc_consistency(x: np.ndarray, alpha: float = 0.05) -> ICC:
    """ICC(3,1) of an (n targets, k crossed raters) matrix: (MSR - MSE) / (MSR + (k - 1) MSE)."""
    n, k = x.shape
    grand = x.mean()
    msr = k * ((x.mean(1) - grand) ** 2).sum() / (n - 1)
    resid = x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + grand
    mse = (resid ** 2).sum() / ((n - 1) * (k - 1))
    if mse == 0:
        return ICC(1.0 if msr > 0 else float("nan"), float("nan"), float("nan"), n, k)
    lo, hi = _bounds(msr / mse, n - 1, (n - 1) * (k - 1), k, alpha)
    return ICC(float((msr - mse) / (msr + (k - 1) * mse)), float(lo), float(hi), n, k)


def architecture_signal(cfg, task_name: str, n_archs: int = 8, n_seeds: int = 3, budgets: tuple[int, ...] = (4,),
                        crossed: bool = True, progress: bool = True) -> pd.DataFrame:
    """Train n_archs random architectures x n_seeds seeds on one task through cumulative epoch budgets.

    Returns one row per (arch, seed, epochs): accuracy on the task's test rows, hs = accuracy -
    lam * sum(filters), the seconds of CPU/GPU time that budget's training took, and the loss.
    Architectures come from `rng_for(cfg.seed, "target", task)`; the training seed is the
    seed index itself when `crossed` (batch order shared across architectures), else derived
    from (seed, arch). A non-finite training loss marks the row and every later budget of that
    (arch, seed) `diverged`, with chance accuracy 1 / classes (what a network that predicts one class
    scores on balanced test rows), so the cell stays in the ICC instead of dropping its architecture.
    """
    task = data.get_task(cfg, task_name)
    archs = sample_architectures(n_archs, rng_for(cfg.seed, "target", task_name))
    device = pick_device(cfg.device)
    budgets = tuple(sorted(set(budgets)))
    rows = []
    bar = progress_bar(n_archs * n_seeds * len(budgets), f"{task_name}: archs x seeds x budgets", unit="training",
                       disable=not progress)
    grouped = population.trains_in_groups(cfg.train.group_size)
    if grouped:
        rows = _signal_in_populations(cfg, task, archs, n_seeds, budgets, crossed, device, bar)
    for arch in () if grouped else archs:
        for s in range(n_seeds):
            seed = s if crossed else derive_seed(s, "target", arch.id) % 2**31
            state = None
            for epochs in budgets:
                t0 = time.process_time()
                res = cnn.train(task, arch, epochs, seed, cfg.train, device, resume=state)
                rows.append(_signal_row(cfg, task, arch, s, epochs, res, time.process_time() - t0))
                bar.update(1)
                if rows[-1]["diverged"]:  # later budgets of a diverged training stay diverged: chance accuracy, no more training
                    rows += [dict(rows[-1], epochs=e, cpu_seconds=0.0) for e in budgets[budgets.index(epochs) + 1:]]
                    bar.update(len(budgets) - budgets.index(epochs) - 1)
                    break
                state = res.state
    bar.close()
    frame = pd.DataFrame(rows)
    return balanced_hs(frame) if cfg.hyperband.lam_mode == "balanced" else frame


def _signal_row(cfg, task, arch, s: int, epochs: int, res, cpu_seconds: float) -> dict:
    diverged = not np.all(np.isfinite([h["train_loss"] for h in res.history]))
    acc = 1.0 / task.n_classes if diverged else res.accuracy
    return {"task": task.name, "arch": arch.id, "seed": s, "epochs": epochs, "accuracy": acc,
            "hs": acc - cfg.hyperband.lam * sum(arch.filters), "sum_filters": sum(arch.filters),
            "test_loss": res.test_loss, "cpu_seconds": cpu_seconds, "diverged": diverged}


def _signal_in_populations(cfg, task, archs, n_seeds: int, budgets: tuple[int, ...], crossed: bool, device, bar) -> list[dict]:
    """`architecture_signal`'s trainings with train.group_size other than 1: at each budget, every (arch, seed)
    still training continues in populations (`population.groups_for`), each network with its own seed; a
    network's cpu_seconds is its group's divided by the group's size. Rows in the order of the one-at-a-time loop."""
    cells = [(arch, s, s if crossed else derive_seed(s, "target", arch.id) % 2**31) for arch in archs for s in range(n_seeds)]
    states: list = [None] * len(cells)
    done: list[list[dict]] = [[] for _ in cells]
    alive = list(range(len(cells)))
    for epochs in budgets:
        for g in population.groups_for([cells[i][0] for i in alive], cfg.train.group_size, device):
            idx = [alive[j] for j in g]
            t0 = time.process_time()
            results = population.train(task, [cells[i][0] for i in idx], epochs, [cells[i][2] for i in idx], cfg.train,
                                       device, resumes=[states[i] for i in idx])
            cpu = (time.process_time() - t0) / len(idx)
            for i, res in zip(idx, results):
                done[i].append(_signal_row(cfg, task, cells[i][0], cells[i][1], epochs, res, cpu))
                states[i] = res.state
            bar.update(len(idx))
        for i in list(alive):
            if done[i][-1]["diverged"]:  # later budgets stay diverged: chance accuracy, no more training
                later = budgets[budgets.index(epochs) + 1:]
                done[i] += [dict(done[i][-1], epochs=e, cpu_seconds=0.0) for e in later]
                bar.update(len(later))
                alive.remove(i)
    return [r for rows in done for r in rows]


def balanced_hs(frame: pd.DataFrame) -> pd.DataFrame:
    """hs recomputed per (task, epochs) with the lambda that weighs accuracy and size equally there
    (`hyperband.balanced_lambda` over the architectures' seed-mean accuracies); the lambda in column `lam`."""
    out = []
    for _, g in frame.groupby(["task", "epochs"], sort=False):
        per_arch = g.groupby("arch").agg(accuracy=("accuracy", "mean"), sum_filters=("sum_filters", "first"))
        lam = hyperband.balanced_lambda(per_arch.accuracy, per_arch.sum_filters)
        out.append(g.assign(hs=g.accuracy - lam * g.sum_filters, lam=lam))
    return pd.concat(out).sort_index()


def _icc_columns(x: np.ndarray) -> dict:
    """Spread between and within architectures, ICC(1) and ICC(3,1) with their CIs, of an (archs, seeds) matrix."""
    one, two = icc_oneway(x), icc_consistency(x)
    return {"sd_between_archs": x.mean(1).std(ddof=1), "sd_within_arch": np.sqrt(x.var(1, ddof=1).mean()),
            "icc1": one.value, "icc1_low": one.ci_low, "icc1_high": one.ci_high,
            "icc3": two.value, "icc3_low": two.ci_low, "icc3_high": two.ci_high,
            "n_archs": one.n_targets, "n_seeds": one.k}


def icc_table(frame: pd.DataFrame, values: tuple[str, ...] = ("accuracy", "hs")) -> pd.DataFrame:
    """Per (task, epochs, value): ICC(1) and ICC(3,1) with 95% CIs, sd between and within architectures, cost, and
    n_diverged (cells counted at chance accuracy)."""
    out = []
    for (task, epochs), g in frame.groupby(["task", "epochs"]):  # diverged cells count at chance accuracy
        for v in values:
            x = _matrix(g, v)
            out.append({"task": task, "epochs": epochs, "value": v, "mean": x.mean(), **_icc_columns(x),
                        "n_diverged": int(g.diverged.sum()),
                        "rho_filters": stats.spearmanr(g.groupby("arch")[v].mean(),
                                                       g.groupby("arch").sum_filters.first()).statistic,
                        "cpu_seconds": g.cpu_seconds.sum()})
    return pd.DataFrame(out)


def regime_sweep(cfg, tasks: list[str], regimes: dict[str, dict], n_archs: int = 8, n_seeds: int = 3,
                 budgets: tuple[int, ...] = (2, 4, 8), progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`architecture_signal` for every (regime, task); a regime is a dict of params overrides.

    Returns (runs, icc): every training row, and `icc_table` per (regime, task, epochs, value).
    """

    runs, tables = [], []
    for name, overrides in regimes.items():
        rcfg = load(cfg.profile, **{"output_dir": cfg.output_dir, **overrides}) if overrides else cfg
        for task in tasks:
            frame = architecture_signal(rcfg, task, n_archs, n_seeds, budgets, progress=progress).assign(regime=name)
            runs.append(frame)
            tables.append(icc_table(frame).assign(regime=name))
    return pd.concat(runs, ignore_index=True), pd.concat(tables, ignore_index=True)


def signal_reliability(cfg, task_name: str, methods: list[str], n_archs: int = 8, n_seeds: int = 3,
                       progress: bool = True) -> pd.DataFrame:
    """Test-retest of every signal: n_archs architectures x n_seeds seeds, each trained to convergence.

    The task's rows and the rows a signal reads are fixed by the profile seed; seed s sets the
    training (init and batch order) and the signal's own randomness (critic init, batches). Returns
    one row per (arch, seed, method, layer) with the value, plus the accuracy and hs of the training.
    `icc_by_signal` turns it into an ICC per (signal, layer): a signal whose ICC is near 0 cannot
    tell architectures apart, whatever its relation to accuracy.
    """

    task = data.get_task(cfg, task_name)
    archs = sample_architectures(n_archs, rng_for(cfg.seed, "target", task_name))
    device = pick_device(cfg.device)
    rows = []
    bar = progress_bar(len(archs) * n_seeds, f"{task_name}: signal reliability", unit="training", disable=not progress)
    cells = [(arch, s) for arch in archs for s in range(n_seeds)]
    trained: dict[int, tuple] = {}  # cell -> (result, model), trained in populations when train.group_size is not 1
    if population.trains_in_groups(cfg.train.group_size):
        for g in population.groups_for([a for a, _ in cells], cfg.train.group_size, device):
            got = population.train_to_convergence(task, [cells[i][0] for i in g], [cells[i][1] for i in g], cfg.train, device)
            trained.update(zip(g, got))
    for i, (arch, s) in enumerate(cells):
        res, model = trained.pop(i) if i in trained else cnn.train_to_convergence(task, arch, s, cfg.train, device)
        hs = res.accuracy - cfg.hyperband.lam * sum(arch.filters)  # fixed lambda (balanced_hs can redo it)
        for name, values in signal_values(cfg, task, arch, model, methods, s, device).items():
            rows += [{"task": task_name, "arch": arch.id, "seed": s, "method": name, "layer": v.layer,
                      "value": v.value if v.ok else np.nan, "accuracy": res.accuracy, "hs": hs} for v in values]
        rows += [{"task": task_name, "arch": arch.id, "seed": s, "method": t, "layer": 0, "value": v,
                  "accuracy": res.accuracy, "hs": hs} for t, v in (("target: accuracy", res.accuracy), ("target: hs", hs))]
        bar.update(1)
    bar.close()
    return pd.DataFrame(rows)


def icc_by_signal(frame: pd.DataFrame) -> pd.DataFrame:
    """ICC(1) and ICC(3,1) with 95% CIs per (task, method, layer) of `signal_reliability` rows."""
    out = []
    for (task, method, layer), g in frame.groupby(["task", "method", "layer"]):
        try:
            x = _matrix(g, "value")
        except ValueError:
            continue  # failed estimates left fewer than 2 x 2 finite values
        out.append({"task": task, "method": method, "layer": layer, **_icc_columns(x)})
    return pd.DataFrame(out)
