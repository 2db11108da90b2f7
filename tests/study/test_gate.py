"""The question's gate (minas.study.predict.gate): tau^2 of Hyperband posteriors' summaries on planted worlds."""
import numpy as np
import pandas as pd
import pytest

from minas.study.predict import gate, synthetic
from minas.study.predict.accounting import holm_family


def _table(gain: float, seed: int):
    col = synthetic.calibrated_collected(12, 8, 6, 5, 5, floor=1e-3, gain=gain, strength=1.0, seed=seed, tasks_per_source=2)
    sources = col.samples.groupby("task").source.first().to_dict()
    return gate.gate_table(col.posteriors, sources, n_boot=500, n_perm=500).set_index("quantity")


def test_a_world_with_task_preferences_opens_the_gate():
    t = _table(5e-4, seed=1)
    assert gate.gate_open(t.reset_index())
    assert t.loc["per layer"].tau2_low > 0 and t.loc["per layer"].p_perm < 0.01 and t.loc["per entry"].tau2_low > 0
    assert (t.n_tasks == 20).all() and (t.n_sources == 10).all() and (t.n_posteriors == 12 * 6 + 8 * 5).all()  # unbalanced: 6 posteriors per training task, 5 per test task
    assert t.loc["per entry"].d == 92 and t.loc["per layer"].d == 4
    assert gate.gate_sentence(t.reset_index()).startswith("Gate (20 tasks from 10 sources")


def test_a_world_without_task_preferences_keeps_it_shut():
    """gain 0: every task's expected posterior is the shared shape, so tau^2 ~ 0 and its interval includes 0."""
    t = _table(0.0, seed=2)
    assert not gate.gate_open(t.reset_index())
    assert t.loc["per layer"].tau2_low <= 0 <= t.loc["per layer"].tau2_high
    assert abs(t.loc["per entry"].ratio) < 0.05 and t.loc["per layer"].p_perm > 0.05


def test_per_layer_splits_exactly_into_width_and_shape():
    t = _table(5e-4, seed=3)
    layers = t.loc[[f"layer {i} expected filters" for i in range(1, 5)]]
    for c in ("tau2", "sigma2"):
        assert t.loc["per layer", c] == pytest.approx(layers[c].mean(), rel=1e-9)
        # tau^2(per layer) = tau^2(width) + tau^2(shape): the shape columns sum to 0, so the cross term vanishes
        assert t.loc["per layer", c] == pytest.approx(t.loc["width (mean over layers)", c] + t.loc["shape (layer minus width)", c], rel=1e-9)
    assert t.loc["total expected filters", "tau2"] == pytest.approx(16 * t.loc["width (mean over layers)", "tau2"], rel=1e-9)
    assert np.all(t.p_holm >= t.p_perm)


def test_quantities_of_a_posterior_by_hand():
    p = np.zeros((1, 4, 23))
    p[0, :, 0], p[0, :, 22] = 0.5, 0.5  # every layer: half at 10 filters, half at 120
    q = gate.posterior_quantities(p)
    assert q["layer 1 expected filters"][0] == 65.0 and q["total expected filters"][0] == 260.0
    assert np.allclose(q["shape (layer minus width)"], 0.0) and q["per entry"].shape == (1, 92)
    with pytest.raises(ValueError, match=">= 2 tasks"):
        gate.gate_table({"a": p})


def test_a_named_family_is_corrected_together():
    fixed = pd.DataFrame({"a": ["x", "y"], "b": ["z", "z"], "mean_diff": [-1.0, 0.5], "p_t": [0.01, 0.04]})
    refit = pd.DataFrame({"a": ["g"], "b": ["h"], "statistic": [-0.2], "p_refit": [0.03]})
    fam = holm_family([("fixed", fixed, "p_t"), ("refit", refit, "p_refit"), ("cv", fixed.assign(p_t=np.nan), "p_t")])
    assert list(fam.part) == ["fixed", "fixed", "refit", "cv", "cv"] and (fam.m == 3).all()
    assert np.allclose(fam.p_holm[:3], [0.03, 0.06, 0.06]) and fam.holds.tolist() == [True, False, False, False, False]
    assert fam.effect.tolist()[:3] == [-1.0, 0.5, -0.2]
    with pytest.raises(ValueError, match="no column"):
        holm_family([("fixed", fixed, "p_signflip")])


def test_under_five_sources_the_gate_is_not_judged():
    col = synthetic.calibrated_collected(4, 2, 6, 5, 5, floor=1e-3, gain=5e-4, strength=1.0, seed=4, tasks_per_source=2)
    sources = col.samples.groupby("task").source.first().to_dict()
    t = gate.gate_table(col.posteriors, sources, n_boot=200, n_perm=200)
    assert not gate.gate_judged(t) and not gate.gate_open(t) and t.tau2_low.isna().all() and t.p_perm.notna().all()
    assert "cannot be judged" in gate.gate_sentence(t)
