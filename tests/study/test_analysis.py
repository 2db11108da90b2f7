"""minas.study.analysis: the stored-MI frame, rank correlations on planted data,
and controller runs read back from the store exactly as they were trained."""
import numpy as np
import pandas as pd
import pytest
import torch

import minas
from minas.core.store import Store
from minas.nas import hyperband
from minas.study import analysis
from minas.study import controller as ctl
from minas.study.predict.synthetic import synthetic_collected


def test_mi_frame_reads_the_store(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for task, cfg_hash in (("mnist", "c1"), ("digits", "c1"), ("mnist", "other")):
        store.put_signals([{"task": task, "arch": "10-20-30-40", "seed": 0, "method": "ba", "layer": l, "config": cfg_hash,
                       "value": None if l == 4 else 0.5 * l, "ok": int(l != 4), "reason": "", "seconds": 1.0,
                       "curve": [0.1, 0.2 * l]} for l in range(1, 5)])
    f = analysis.mi_frame(store, "c1")
    assert list(f.columns) == list(analysis.MI_COLUMNS) + ["ok"]
    assert len(f) == 8 and set(f.task) == {"mnist", "digits"}
    assert f.curve.iloc[1] == pytest.approx([0.1, 0.4])  # parsed back to a list
    assert f.value.isna().sum() == 2 and f.value.max() == pytest.approx(1.5)
    assert len(analysis.mi_frame(store)) == 12
    assert list(analysis.mi_frame(Store(tmp_path / "empty.sqlite")).columns) == list(analysis.MI_COLUMNS) + ["ok"]


def planted(seed=0, n_tasks=6, per_task=12):
    """Within each task `good` tracks the target; task levels of good and target run opposite."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_tasks):
        target = rng.normal(size=per_task)
        rows += [{"task": f"t{t}", "target": 5 * t + y, "good": -10 * t + y + 0.2 * rng.normal(),
                  "noise": rng.normal()} for y in target]
    return pd.DataFrame(rows)


def test_signal_correlation_finds_the_planted_signal():
    df = planted()
    out = analysis.signal_correlations(df, ["good", "noise"], ["target"], "task", n_boot=300).set_index("signal")
    assert out.loc["good", "rho"] > 0.9 and out.loc["good", "ci_low"] > 0.8
    assert out.loc["noise", "ci_low"] < 0 < out.loc["noise", "ci_high"]
    assert out.loc["good", "n"] == len(df) and out.loc["good", "n_groups"] == 6
    # pooled without the within-task z-score, the opposite task levels hide the signal
    pooled = analysis.signal_correlations(df, ["good"], ["target"], None, n_boot=100).set_index("signal")
    assert pooled.loc["good", "rho"] < 0


def test_partial_correlation_removes_a_shared_cause():
    rng = np.random.default_rng(1)
    n = 120
    size = rng.normal(size=n)
    extra = rng.normal(size=n)
    df = pd.DataFrame({"task": np.repeat(["a", "b", "c", "d"], n // 4), "size": size, "target": size + extra,
                       "proxy": size + 0.1 * rng.normal(size=n), "beyond": extra + 0.1 * rng.normal(size=n)})
    plain = analysis.signal_correlations(df, ["proxy", "beyond"], ["target"], "task", n_boot=200).set_index("signal")
    part = analysis.signal_correlations(df, ["proxy", "beyond"], ["target"], "task", n_boot=200,
                                        control="size").set_index("signal")
    assert plain.loc["proxy", "ci_low"] > 0.2  # the proxy only tracks size (4 tasks: a wide t-interval) ...
    assert part.loc["proxy", "ci_low"] < 0 < part.loc["proxy", "ci_high"]  # ... and says nothing beyond it
    assert part.loc["beyond", "rho"] > 0.8


def test_spearman_ci_degenerate_input_is_nan():
    c = analysis.spearman_ci([1, 1, 1, 1], [1, 2, 3, 4])
    assert np.isnan(c.rho) and c.n == 4


def test_layer_views_on_synthetic_collection():
    col = synthetic_collected(n_train=3, n_test=2, n_samples=4)
    archs = analysis.measured_archs(col, lam=5e-4)
    assert (archs.hs < archs.accuracy).all()
    corr = analysis.layer_correlations(archs, ["ba"], n_boot=50)
    assert len(corr) == 2 * 5 + 2 * 4 and set(corr.method) == {"ba", "size (sum of filters)"}
    assert set(corr.target) == {"accuracy", "hs", "accuracy | size", "hs | size"}
    assert corr[corr.target == "hs"].layer.dropna().tolist() == [1, 2, 3, 4]
    means = analysis.layer_means(archs, ["ba", "mine_fast"])
    assert len(means) == 8 and (means.n == len(archs)).all()
    assert len(analysis.depth_trend(archs, ["ba"])) == 1


def test_importance_summary_reads_the_preferred_option():
    imp = np.tile(np.arange(23.0), (4, 1))
    imp[2] = imp[2][::-1]
    s = analysis.importance_summary({"AutoBuild": imp}).set_index("layer")
    assert s.loc[1, "best_filters"] == 120 and s.loc[3, "best_filters"] == 10
    assert s.loc[1, "rho_with_filters"] == pytest.approx(1.0) and s.loc[3, "rho_with_filters"] == pytest.approx(-1.0)


def toy_env():
    """Fake world for the controller: constant MI features, Hyperband on a closed-form accuracy (no CNNs)."""
    def acc(arch, epochs):
        return 1.0 - abs(arch.indices[0] - 5) / 23 - 0.01 / epochs

    def run(specs):
        return [hyperband.run_bracket(s.archs, acc, [4, 2], [1, 1, 1], 0.0) for s in specs]

    return ctl.Environment(["t0", "t1", "t2"], ["u0"], 6, 0, lambda pairs: np.zeros((len(pairs), 4)), run)


def test_controller_runs_are_read_back_as_trained(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"controller.iterations": 3})
    store = Store(tmp_path / "s.sqlite")
    trained = {name: ctl.train_controller(cfg, store, toy_env(), name) for name in ctl.EXPERIMENTS}
    read = analysis.controller_runs(cfg, store)
    for name, run in trained.items():
        assert np.allclose(read[name].priors, run.priors, atol=1e-6)
        pd.testing.assert_frame_equal(read[name].visits, run.visits)
        for a, b in zip(read[name].policy.parameters(), run.policy.parameters()):
            assert torch.equal(a, b)
    with pytest.raises(FileNotFoundError, match="notebook 05"):
        analysis.controller_runs(cfg, Store(tmp_path / "empty.sqlite"))


def test_correlation_summary_counts_and_picks_the_top():
    corr = pd.DataFrame({"method": ["ba", "ba", "ba", "size (sum of filters)"], "layer": pd.array([1, 2, 1, None], dtype="Int64"),
                         "target": ["hs", "hs", "hs | size", "hs"], "rho": [0.2, -0.7, 0.1, 0.9],
                         "ci_low": [-0.1, -0.9, -0.2, 0.8], "ci_high": [0.5, -0.4, 0.3, 1.0]})
    plain = analysis.correlation_summary(corr)
    assert plain["tested"] == 2 and plain["ci_excluding_0"] == 1
    assert plain["top"] == {"method": "ba", "layer": 2, "target": "hs", "rho": -0.7, "ci": [-0.9, -0.4]}
    part = analysis.correlation_summary(corr, partial=True)
    assert part["tested"] == 1 and part["ci_excluding_0"] == 0
