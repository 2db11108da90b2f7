"""ICC of accuracy over architectures x seeds (minas.study.target): known values and a tiny real run."""
import numpy as np
import pandas as pd
import pytest

import minas
from minas.study import target

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; ICC(1,1) = 0.17, ICC(3,1) = 0.71
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)


def test_published_example():
    assert target.icc_oneway(SHROUT_FLEISS).value == pytest.approx(0.17, abs=0.005)
    two = target.icc_consistency(SHROUT_FLEISS)
    assert two.value == pytest.approx(0.71, abs=0.005)
    assert two.ci_low < two.value < two.ci_high and (two.n_targets, two.k) == (6, 4)


def test_a_shared_seed_shift_lowers_icc1_only():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (10, 1)) + rng.normal(0, 0.3, (10, 3))
    shifted = x + np.array([0.0, -2.0, 1.0])  # seed 1 unlucky for every architecture
    assert target.icc_consistency(shifted).value == pytest.approx(target.icc_consistency(x).value)
    assert target.icc_oneway(shifted).value < target.icc_oneway(x).value - 0.3


def test_noise_only_interval_covers_zero_and_signal_only_is_one():
    rng = np.random.default_rng(1)
    noise = target.icc_oneway(rng.normal(size=(40, 3)))
    assert noise.ci_low < 0 < noise.ci_high
    assert target.icc_oneway(np.repeat(np.arange(5.0)[:, None], 3, axis=1)).value == 1.0


def test_tiny_real_run_has_every_cell_and_a_table():
    cfg = minas.load("smoke", **{"data.max_train_per_task": 60, "data.max_test_per_task": 40})
    frame = target.architecture_signal(cfg, "mnist-parity", n_archs=3, n_seeds=2, budgets=(1, 2), progress=False)
    assert len(frame) == 3 * 2 * 2 and not frame.diverged.any()
    assert frame.accuracy.between(0, 1).all() and (frame.cpu_seconds > 0).all()
    table = target.icc_table(frame)
    assert set(table.epochs) == {1, 2} and set(table.value) == {"accuracy", "hs"}
    assert table[["icc1", "icc3"]].le(1).all().all()


def test_too_small_a_design_is_refused():
    frame = pd.DataFrame({"task": "t", "arch": ["a", "b"], "seed": [0, 0], "epochs": 1, "accuracy": [0.5, 0.6],
                          "hs": [0.5, 0.6], "sum_filters": [10, 20], "cpu_seconds": 1.0, "diverged": False})
    with pytest.raises(ValueError, match=">= 2 seeds"):
        target.icc_table(frame)


def test_signal_reliability_rows_and_icc():
    cfg = minas.load("smoke", **{"data.max_train_per_task": 60, "data.max_test_per_task": 40, "train.max_epochs": 2,
                                 "mi.max_rows": 60, "mi.min_epochs": 1, "mi.max_epochs": 2})
    frame = target.signal_reliability(cfg, "mnist-parity", ["probe", "params"], n_archs=3, n_seeds=2, progress=False)
    probe = frame[frame.method == "probe"]
    assert len(probe) == 3 * 2 * 4 and probe.value.between(0, 1).all()
    # the parameter count does not depend on the seed: all of its variance is between architectures
    table = target.icc_by_signal(frame).set_index(["method", "layer"])
    assert table.loc[("params", 0), "icc1"] == 1.0 and table.loc[("params", 0), "sd_within_arch"] == 0
    assert ("target: accuracy", 0) in table.index and len(table.loc["probe"]) == 4


def test_a_diverged_seed_counts_at_chance_and_keeps_its_architecture():
    rng = np.random.default_rng(3)
    rows = [{"task": "t", "arch": f"a{a}", "seed": s, "epochs": 4, "accuracy": 0.6 + 0.05 * a + rng.normal(0, 0.01),
             "sum_filters": 20 + 10 * a, "cpu_seconds": 1.0, "diverged": False} for a in range(4) for s in range(3)]
    frame = pd.DataFrame(rows)
    frame.loc[(frame.arch == "a3") & (frame.seed == 1), ["accuracy", "diverged"]] = [0.1, True]  # chance, 10 classes
    frame["hs"] = frame.accuracy - 5e-4 * frame.sum_filters
    table = target.icc_table(frame).set_index("value")
    assert table.loc["accuracy", "n_archs"] == 4 and table.loc["accuracy", "n_diverged"] == 1
    assert table.loc["accuracy", "sd_within_arch"] > 0.1  # the chance cell is in: the unstable architecture is not hidden
    balanced = target.balanced_hs(frame)
    per_arch = balanced.groupby("arch").agg(acc=("accuracy", "mean"), filters=("sum_filters", "first"), lam=("lam", "first"))
    assert per_arch.acc.std() == pytest.approx((per_arch.lam * per_arch.filters).std())  # accuracy and size weigh equally


@pytest.mark.parametrize("crossed", [True, False])
def test_designs_trained_in_populations_match_one_at_a_time(crossed):
    """train.group_size 4: the ICC design's (arch, seed) cells continue budget by budget in populations; the
    reliability design's trainings to convergence too. Same rows in the same order, accuracies to float noise."""
    over = {"data.max_train_per_task": 60, "data.max_test_per_task": 40, "train.max_epochs": 2,
            "mi.max_rows": 60, "mi.min_epochs": 1, "mi.max_epochs": 2}
    alone, grouped = minas.load("smoke", **over), minas.load("smoke", **over, **{"train.group_size": 4})
    a = target.architecture_signal(alone, "mnist-parity", n_archs=3, n_seeds=2, budgets=(1, 2), crossed=crossed, progress=False)
    g = target.architecture_signal(grouped, "mnist-parity", n_archs=3, n_seeds=2, budgets=(1, 2), crossed=crossed, progress=False)
    cols = ["task", "arch", "seed", "epochs", "diverged"]
    pd.testing.assert_frame_equal(a[cols], g[cols])
    assert np.abs(a.accuracy - g.accuracy).max() <= 0.05 and (g.cpu_seconds > 0).all()
    if crossed:
        ra = target.signal_reliability(alone, "mnist-parity", ["params"], n_archs=3, n_seeds=2, progress=False)
        rg = target.signal_reliability(grouped, "mnist-parity", ["params"], n_archs=3, n_seeds=2, progress=False)
        pd.testing.assert_frame_equal(ra[["task", "arch", "seed", "method", "layer"]], rg[["task", "arch", "seed", "method", "layer"]])
        assert np.abs(ra.accuracy - rg.accuracy).max() <= 0.05
