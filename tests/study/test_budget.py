"""The signal budget (minas.study.predict.budget): the floor of clean targets, G, s and the verdict, on planted worlds."""
import numpy as np
import pytest
import torch

from minas.core import config
from minas.nas import hyperband
from minas.study import predict
from minas.study.predict import budget, gate, synthetic

PREDICTORS = ["NN + MI", "NN + arch only"]  # registered names; the fixed baselines join them


def _experiment(gain: float, seed: int):
    torch.set_num_threads(1)
    cfg = config.load("smoke", **{"predict.epochs": 3, "predict.seeds": 1, "mi.signals": ["mine_fast"],
                                  "collection.n_train_samples": 6, "collection.n_test_samples": 5, "hyperband.n_clean": 5})
    col = synthetic.calibrated_collected(12, 8, 6, 5, 5, floor=1e-3, gain=gain, strength=1.0, seed=seed, tasks_per_source=2)
    return predict.run_experiment(cfg, col, predictors=PREDICTORS), col


def test_floor_is_dirty_over_2k_and_matches_the_planted_floor():
    exp, col = _experiment(5e-4, seed=1)
    b = budget.signal_budget(exp)
    test = [t for t in col.posteriors if t in set(exp.test.task)]
    by_hand = np.mean([hyperband.noise_level(col.posteriors[t]) / 10 for t in test])  # k = 5: dirty / (2k)
    assert b.k == 5 and b.n_tasks == 8 and b.n_sources == 4
    assert b.floor == pytest.approx(by_hand, rel=1e-9)  # sources hold 2 tasks each: the mean of means is the mean
    assert b.floor_low < 1e-3 < b.floor_high  # the planted floor lies in its interval
    # the floor really is the floor: the mean of the task's posteriors misses the one clean target by about it
    assert b.gaussian - b.gain == pytest.approx(b.floor) and b.gain > 0 and b.gain_low > 0
    assert b.s > 0 and b.g_over_s == pytest.approx(b.gain / b.s)
    assert budget.needed_effect(4) == pytest.approx(2.1, abs=0.2)  # t-test over 4 means, power 0.8
    assert b.df == 3 and b.needed == budget.needed_effect(4, df=3)  # one seed: t over 4 source means
    # G is above 0 (gain_low > 0): the verdict is one of two, decided by G/s against the effect the test needs
    opening = ("A perfect per-layer signal could be visible here, if G were all task-specific" if b.g_over_s >= b.needed
               else "First: even a perfect per-layer signal would likely go unseen here")
    assert budget.verdict(b).startswith(opening) and f"G/s = {b.g_over_s:.2f}" in budget.verdict(b)
    table = budget.budget_table(b)
    assert table.loc[table.quantity.str.startswith("G ="), "value"].item() == b.gain


def test_a_world_without_task_signal_says_so_first():
    exp, _ = _experiment(0.0, seed=2)
    b = budget.signal_budget(exp)
    assert b.gain_low <= 0 <= b.gain_high
    assert budget.verdict(b).startswith("First: this target leaves no measurable task-specific signal")
    weak = budget.SignalBudget(**{**b.__dict__, "gain": 1e-4, "gain_low": 1e-5, "g_over_s": 0.5, "needed": 2.0})
    assert budget.verdict(weak).startswith("First: even a perfect per-layer signal would likely go unseen")
    with pytest.raises(ValueError, match="not in the result"):
        budget.signal_budget(exp, a="NN + accuracy")
    assert "at most" not in budget.verdict(b) and "at most" not in budget.verdict(weak)


def test_a_shut_gate_leads_the_verdict_and_claims_nothing_about_signals():
    exp, col = _experiment(0.0, seed=2)
    shut = gate.gate_table(col.posteriors, exp.sources, n_boot=300, n_perm=300)
    assert not gate.gate_open(shut)
    text = budget.verdict(budget.signal_budget(exp), shut)
    assert text.startswith("First: there is nothing task-specific to predict in this design. Gate (")
    assert "makes no claim about any signal" in text and "at most" not in text
    exp, col = _experiment(5e-4, seed=1)
    opened = gate.gate_table(col.posteriors, exp.sources, n_boot=300, n_perm=300)
    assert gate.gate_open(opened) and "Gate (" in budget.verdict(budget.signal_budget(exp), opened)


def test_clean_noise_overlap_is_dirty_over_25_at_c65():
    assert hyperband.clean_overlap(6, 5) == pytest.approx(1 / 25)
    assert np.isnan(hyperband.clean_overlap(5, 5))  # one target per held-out task: no pair
    rng = np.random.default_rng(0)
    posts = rng.dirichlet(np.ones(23), size=(6, 4))  # (6, 4, 23)
    clean, _ = hyperband.clean_posteriors(posts, 5)
    assert hyperband.noise_level(clean) == pytest.approx(hyperband.noise_level(posts) / 25, rel=1e-9)


def test_budget_survives_the_round_trip_notebook_06_takes(tmp_path):
    from minas.views import report

    exp, _ = _experiment(5e-4, seed=4)
    cfg = config.load("smoke", output_dir=str(tmp_path))
    report.save_result(cfg, "04_posterior_prediction", "experiment1", exp)
    back = report.load_result(cfg, "04_posterior_prediction", "experiment1", predict.Experiment1)
    assert back.sources == exp.sources and len(back.task_noise) == len(exp.task_noise)
    a, b = budget.signal_budget(exp), budget.signal_budget(back)
    assert (a.gain, a.s, a.n_sources) == pytest.approx((b.gain, b.s, b.n_sources))


@pytest.mark.parametrize("n", [3, 4, 10, 50])
def test_the_needed_effect_gives_the_t_test_power_0_8_exactly(n):
    from scipy import stats

    d, crit = budget.needed_effect(n), stats.t.ppf(0.975, n - 1)
    nc = d * np.sqrt(n)  # the one-sample t statistic's noncentrality at standardized mean d
    assert stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc) == pytest.approx(0.8, abs=1e-9)
    assert budget.needed_effect(n + 1) < d  # more units, a smaller detectable effect


def test_the_needed_effect_meets_its_textbook_values():
    from scipy import stats

    assert budget.needed_effect(4) == pytest.approx(2.1279, abs=1e-4)  # noncentral t, 3 df (G*Power: 2.13)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)  # large n: the normal approximation (z_a/2 + z_b) / sqrt(n)
    assert budget.needed_effect(400) == pytest.approx(z / 20, rel=3e-3)
    assert budget.needed_effect(1) == float("inf")
