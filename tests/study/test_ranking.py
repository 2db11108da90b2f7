"""Rank agreement of signals with final scores on synthetic frames whose answers are known."""
import numpy as np
import pandas as pd
import pytest

from minas.core.store import Store
from minas.study import ranking

# four architectures ordered by total filters (40, 60, 80, 100) and, in every task, by accuracy
ARCHS = ["10-10-10-10", "15-15-15-15", "20-20-20-20", "25-25-25-25"]


def _scores(tasks=("a", "b", "c")) -> pd.DataFrame:
    return pd.DataFrame([{"task": t, "arch": a, "accuracy": 0.5 + 0.1 * i, "seconds": 10.0}
                         for t in tasks for i, a in enumerate(ARCHS)])


def _values(method, per_task, layer=0, seconds=1.0) -> pd.DataFrame:
    """Rows of one signal: per_task[task] lists its value for ARCHS in order."""
    return pd.DataFrame([{"task": t, "arch": a, "method": method, "layer": layer, "value": v, "seconds": seconds}
                         for t, vals in per_task.items() for a, v in zip(ARCHS, vals)])


def _row(table, method, target="accuracy", layer=0):
    return table[(table.method == method) & (table.target == target) & (table.layer == layer)].iloc[0]


def test_perfect_reversed_and_one_swap_by_hand():
    tasks = ("a", "b", "c")
    values = pd.concat([
        _values("perfect", {t: [1, 2, 3, 4] for t in tasks}),
        _values("reversed", {t: [4, 3, 2, 1] for t in tasks}),
        _values("one_swap", {t: [2, 1, 3, 4] for t in tasks}),  # one discordant pair of 6
    ])
    table = ranking.rank_agreement(values, _scores(tasks), lam=0.0)
    p, r, s = (_row(table, m) for m in ("perfect", "reversed", "one_swap"))
    assert (p.tau, p.rho, p.tau_low, p.rho_high) == (1.0, 1.0, 1.0, 1.0)
    assert (r.tau, r.rho) == (-1.0, -1.0)
    assert s.tau == pytest.approx((5 - 1) / 6)               # (concordant - discordant) / pairs
    assert s.rho == pytest.approx(1 - 6 * 2 / (4 * (16 - 1)))  # 1 - 6 sum d^2 / (n (n^2 - 1)) = 0.8
    assert (p.n_tasks, p.n_archs) == (3, 12)
    # the size baseline ranks these archs exactly as accuracy does
    assert _row(table, ranking.SIZE).rho == 1.0


def test_the_ci_is_a_t_interval_over_tasks():
    # task a: perfect, task b: reversed -> mean 0, sd sqrt(2), 2 tasks: half-width t(0.975, 1) = 12.7, clipped to +-1
    values = _values("split", {"a": [1, 2, 3, 4], "b": [4, 3, 2, 1]})
    row = _row(ranking.rank_agreement(values, _scores(("a", "b")), lam=0.0), "split")
    assert row.rho == 0.0 and row.tau == 0.0
    assert (row.rho_low, row.rho_high) == (-1.0, 1.0)
    values = _values("split", {"a": [1, 2, 3, 4], "b": [1, 2, 4, 3], "c": [1, 2, 3, 4]})
    row = _row(ranking.rank_agreement(values, _scores(("a", "b", "c")), lam=0.0), "split")
    per = np.array([1.0, 0.8, 1.0])  # Spearman of b: 1 - 6 * 2 / 60
    half = 4.303 * per.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert row.rho == pytest.approx(per.mean()) and row.rho_low == pytest.approx(per.mean() - half, abs=1e-3)
    # with one task there is no interval at all, rather than a zero-width one
    one = _row(ranking.rank_agreement(_values("split", {"a": [1, 2, 3, 4]}), _scores(("a",)), lam=0.0), "split")
    assert one.rho == 1.0 and np.isnan(one.rho_low) and np.isnan(one.rho_high)


def test_hs_penalises_size():
    # accuracy gaps of 0.1 per step, 20 filters per step: lam = 0.01 turns hs = acc - 0.01 * filters
    # into 0.1 - 0.2 per step, i.e. hs falls as size grows, so size ranks hs exactly backwards
    table = ranking.rank_agreement(_values("x", {"a": [1, 2, 3, 4]}), _scores(("a",)), lam=0.01)
    assert _row(table, ranking.SIZE, "accuracy").rho == 1.0
    assert _row(table, ranking.SIZE, "hs").rho == -1.0
    assert _row(table, "x", "hs").tau == -1.0


def test_per_layer_signals_keep_their_layers_and_failures_are_dropped():
    values = pd.concat([
        _values("mi", {"a": [1, 2, 3, 4], "b": [1, 2, 3, 4]}, layer=1),
        _values("mi", {"a": [4, 3, 2, 1], "b": [4, 3, 2, 1]}, layer=2),
        _values("bad", {"a": [np.nan, 2, 3, 4], "b": [np.nan, np.nan, 3, 4]}),  # task b: 2 pairs left, skipped
    ])
    table = ranking.rank_agreement(values, _scores(("a", "b")), lam=0.0)
    assert _row(table, "mi", layer=1).rho == 1.0 and _row(table, "mi", layer=2).rho == -1.0
    bad = _row(table, "bad")
    assert (bad.n_tasks, bad.n_archs, bad.rho) == (1, 3, 1.0)
    assert list(table.columns) == ranking.COLUMNS


def test_cost_sums_layers_per_architecture():
    values = pd.concat([
        _values("per_layer", {"a": [1, 2, 3, 4]}, layer=l, seconds=0.25) for l in (1, 2, 3, 4)
    ] + [_values("whole", {"a": [1, 2, 3, 4]}, seconds=2.0)])
    cost = ranking.signal_costs(values, _scores(("a",))).set_index("method")
    assert cost.loc["per_layer", "seconds_per_arch"] == pytest.approx(1.0)
    assert cost.loc["whole", "vs_training"] == pytest.approx(2.0 / 10.0)
    table = ranking.rank_agreement(values, _scores(("a",)), lam=0.0)
    assert _row(table, "per_layer", layer=3).seconds_per_arch == pytest.approx(1.0)
    assert _row(table, ranking.SIZE).seconds_per_arch == 0.0


def test_beats_size_compares_with_the_baseline():
    scores = _scores(("a", "b"))
    scores.loc[scores.arch == ARCHS[0], "accuracy"] = 0.65  # accuracies 0.65, 0.6, 0.7, 0.8: size swaps the first two
    values = pd.concat([_values("like_size", {t: [1, 2, 3, 4] for t in "ab"}),
                        _values("exact", {t: [2, 1, 3, 4] for t in "ab"})])
    out = ranking.beats_size(ranking.rank_agreement(values, scores, lam=0.0)).set_index("method")
    assert out.loc[ranking.SIZE, "rho"] == pytest.approx(0.8)
    assert out.loc["like_size", "rho_minus_size"] == pytest.approx(0.0) and not out.loc["like_size", "above_size"]
    assert out.loc["exact", "rho_minus_size"] == pytest.approx(0.2) and out.loc["exact", "above_size"]
    assert out.index[0] == "exact"  # sorted best first


def test_inputs_come_from_the_store(tmp_path):
    from minas.core import config, keys

    cfg = config.load("smoke", output_dir=str(tmp_path))
    store = Store(tmp_path / "store.sqlite")
    store.put_training({"task": "t", "arch": ARCHS[0], "seed": cfg.seed, "epochs": 0, "config": keys.training_key(cfg),
                        "kind": "converge", "accuracy": 0.7, "test_loss": 1.0, "seconds": 3.0, "checkpoint": "",
                        "history": []})
    store.put_signals([{"task": "t", "arch": ARCHS[0], "seed": cfg.seed, "method": "naswot", "layer": 0,
                   "config": keys.signal_key(cfg), "value": None, "ok": 0, "reason": "singular", "seconds": 0.5,
                   "curve": []}])
    values, scores = ranking.ranking_inputs(cfg, store)
    assert values.method.tolist() == ["naswot"] and np.isnan(values.value.iloc[0])
    assert scores.accuracy.tolist() == [0.7]


def test_the_figure_draws_every_signal_and_the_size_band():
    import matplotlib

    matplotlib.use("Agg")
    from minas.views.ranking import ranking_figure

    values = pd.concat([_values("mi", {t: [1, 2, 3, 4] for t in "ab"}, layer=l) for l in (1, 2)]
                       + [_values("naswot", {t: [1, 3, 2, 4] for t in "ab"})])
    fig = ranking_figure(ranking.rank_agreement(values, _scores(("a", "b")), lam=0.0))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(labels) == ["mi L1", "mi L2", "naswot", ranking.SIZE]
    assert labels[0] == "naswot"  # sorted by rho, best at the top: naswot (rho 0.8) sits at the bottom


def test_with_sources_the_interval_is_over_source_means():
    values = _values("mi", {"a": [1, 2, 3, 4], "b": [1, 2, 4, 3], "c": [4, 3, 2, 1]}, layer=1)
    scores = _scores(("a", "b", "c"))
    by_task = _row(ranking.rank_agreement(values, scores, lam=0.0), "mi", layer=1)
    clustered = _row(ranking.rank_agreement(values, scores, lam=0.0, sources={"a": "s", "b": "s", "c": "t"}), "mi", layer=1)
    assert (by_task.n_tasks, by_task.n_sources) == (3, 3) and (clustered.n_tasks, clustered.n_sources) == (3, 2)
    assert clustered.rho == pytest.approx(((1.0 + 0.8) / 2 - 1.0) / 2)  # the two tasks of source s averaged first
