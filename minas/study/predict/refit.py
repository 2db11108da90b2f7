"""Gaussian + X against the input-free Gaussian, tested with the fit's own noise: shuffle X across training sources, refit.

Source: issue 31 (item 3); the permutation-with-refit principle in `minas.stats.refit` (Ojala & Garriga 2010) applied
to the low-variance "Gaussian + X" of `predictors.SignalGaussian` (Kossmann 2019 sec. 3.1 baselines). Statistic: the
mean over held-out sources (pairs averaged per task, then per source) of MSE(Gaussian + X) - MSE(fitted Gaussian),
exactly the `mean_diff` of notebook 04's "Gaussian + X vs Fitted Gaussian" comparison. Null: every training source
is given the signal of another training source of the same shape (same tasks x samples), the 20-parameter fit is
redone and the same held-out pairs rescored, so the fit's noise, which every held-out source shares, is in the null
(a t-interval over held-out sources treats that one fit as fixed: its size grew to 0.23 at 144 held-out sources).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from minas.nas.space import N_LAYERS, N_OPTIONS, ONE_HOT_SIZE
from minas.stats import RefitTest, cluster_means, holm, refit_permutation_test
from minas.study.predict.predictors import build_pairs, fit_gaussian, fit_signal_gaussian, task_sources
from minas.study.predict.slot import lineup, usable


def gaussian_refit_test(collected, feature, k: int, sources: dict | None = None, n_perm: int = 99, seed: int = 0,
                        max_pairs_per_task: int = 0, max_clean: int = 0, grouped: bool = False) -> RefitTest:
    """Permutation-with-refit test of "Gaussian + `feature` beats the input-free fitted Gaussian" (alternative: less).

    feature: a bound predictor feature (`predict.features`, e.g. a lineup predictor's `.feature`); pairs as notebook
    04 builds them (`build_pairs`, its k, cap and seed); sources: task -> image source (without it every task is its
    own); grouped: the predictor's fit (`fits.GaussianFit.grouped`). Training sources are shuffled within groups of
    the same shape.
    """
    tr = build_pairs(collected, feature, "train", k, max_pairs_per_task, seed, max_clean)
    te = build_pairs(collected, feature, "test", k, 0, seed, max_clean)
    if len(tr) == 0 or len(te) == 0:
        raise ValueError(f"no train or test pairs (train {len(tr)}, test {len(te)}): each task needs >= {k} posteriors")
    source = lambda t: str((sources or {}).get(t, t))  # noqa: E731
    base = fit_gaussian(tr.y.mean(axis=0).reshape(N_LAYERS, N_OPTIONS)).ravel()  # as score_split (float32 mean)
    base_err = ((base[None] - te.y) ** 2).mean(axis=1)  # (P_test,)
    test_clusters = np.array([source(t) for t in te.task], dtype=object)
    rows, strata = _signal_rows(collected, tr, source)
    sig = feature.matrix(collected)  # (n_samples, L x width)
    units = sorted(rows)
    pairs_of, slot_of = _pair_slots(collected, tr, source, units)

    def refit(order: np.ndarray) -> float:
        moved = {u: rows[units[j]] for u, j in zip(units, order)}  # unit u gets unit order[.]'s rows, same shape
        x = tr.x.copy()
        for u in units:
            x[pairs_of[u], ONE_HOT_SIZE:] = sig[moved[u][slot_of[u]]]
        fit = fit_signal_gaussian(type(tr)(x, tr.y, tr.task, tr.sample, tr.clean), grouped)
        d = ((fit.predict(te.x) - te.y) ** 2).mean(axis=1) - base_err
        means, _ = cluster_means(d, te.task, test_clusters)
        return float(means.mean())

    return refit_permutation_test(refit, len(units), n_perm, seed=seed, alternative="less",
                                  strata=[strata[u] for u in units])


def _signal_rows(collected, tr, source):
    """Per training source: its samples' rows in `collected.samples`, tasks sorted, samples in order; and its shape."""
    s = collected.samples
    rows, strata = {}, {}
    for t in sorted(set(tr.task)):
        u = source(t)
        rows.setdefault(u, []).append(np.flatnonzero((s.task == t).to_numpy()))
    for u, blocks in rows.items():
        strata[u] = tuple(len(b) for b in blocks)
        rows[u] = np.concatenate(blocks)
    shapes = {v: i for i, v in enumerate(sorted(set(strata.values())))}
    return rows, {u: shapes[v] for u, v in strata.items()}


def _pair_slots(collected, tr, source, units):
    """Per training source: which training pairs are its, and each pair's slot (task position x sample) in its rows."""
    s = collected.samples
    pairs_of, slot_of = {}, {}
    for u in units:
        tasks = sorted({t for t in set(tr.task) if source(t) == u})
        offset, idx, slots = 0, [], []
        for t in tasks:
            task_rows = np.flatnonzero((s.task == t).to_numpy())
            position = {int(v): i for i, v in enumerate(s["sample"].to_numpy()[task_rows])}
            mine = np.flatnonzero(tr.task == t)
            idx.append(mine)
            slots.append(offset + np.array([position[int(v)] for v in tr.sample[mine]], dtype=int))
            offset += len(task_rows)
        pairs_of[u], slot_of[u] = np.concatenate(idx), np.concatenate(slots)
    return pairs_of, slot_of


def refit_tests(cfg, collected, predictors=None, n_perm: int = 99) -> pd.DataFrame:
    """Notebook 04's "Gaussian + X vs Fitted Gaussian" rows retested with refits: one row per registered Gaussian + X
    predictor (`predict.lineup`, fit kind "gaussian"; or the bound predictors given), columns a, b, statistic (= the
    comparison's mean_diff), p_refit, null_mean, null_sd, n_perm, n_train_sources, reason (why a row has no test,
    e.g. one training source or a feature this collection lacks), p_holm (Holm over these rows)."""
    from minas.study.predict.experiment import holdout_split  # experiment imports this room's modules at its top
    sources = task_sources(cfg, collected)
    collected = holdout_split(cfg, collected, sources)
    every = predictors if predictors is not None else lineup(collected.signals, cfg.mi.signals[0])
    gaussians = [p for p in every if p.fit.kind == "gaussian"]
    fed, skipped = usable(gaussians, collected)
    rows = [{"a": name, "b": "Fitted Gaussian", "p_refit": np.nan, "n_perm": 0, "reason": why}
            for name, why in skipped.items()]
    for p in fed:
        row = {"a": p.name, "b": "Fitted Gaussian"}
        try:
            t = gaussian_refit_test(collected, p.feature, cfg.hyperband.n_clean, sources, n_perm, cfg.seed,
                                    cfg.predict.max_pairs_per_task, cfg.hyperband.max_clean, p.fit.grouped)
        except ValueError as err:  # e.g. one training source: nothing to shuffle; the row says why
            rows.append({**row, "p_refit": np.nan, "n_perm": 0, "reason": str(err)})
            continue
        rows.append({**row, "statistic": t.statistic, "p_refit": t.p, "null_mean": t.null_mean, "null_sd": t.null_sd,
                     "n_perm": t.n_perm, "n_train_sources": t.n_units, "reason": ""})
    out = pd.DataFrame(rows, columns=["a", "b", "statistic", "p_refit", "null_mean", "null_sd", "n_perm", "n_train_sources",
                                      "reason"])
    out["p_holm"] = holm(out.p_refit)
    return out
