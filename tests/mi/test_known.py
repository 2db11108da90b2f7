"""Known-MI problems at layer shapes, the symmetric-channel truth, the Fano floor, usable information and the
operating point: closed forms and hand answers, CPU, seconds."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from minas import mi
from minas.mi import known, probe, validation

torch.set_num_threads(1)


def test_problem_truth_is_calibrated_and_kept_at_every_shape():
    p = known.Problem(10, 1.2, ((64,), (10, 8, 8), (120, 4, 4)), spatial=True)
    xs, y, truth, se = known.sample(p, 400, 0)
    assert abs(truth - 1.2) < 0.03 and 0 < se < 0.01
    assert [tuple(x.shape[1:]) for x in xs] == [(64,), (10, 8, 8), (120, 4, 4)]
    # Q^T x = z for every layer: the layers are injective images of the same latent, so one linear map links them
    a, b = xs[0].double(), xs[2].reshape(400, -1).double()
    fit = torch.linalg.lstsq(b, a).solution
    assert float(((b @ fit) - a).pow(2).mean() / a.pow(2).mean()) < 0.5  # most of layer 1 is predicted from layer 3


def test_problem_ids_come_from_parameters_and_shuffle_has_truth_zero():
    p = known.Problem(2, 0.5, ((10, 4, 4),), spatial=True, shuffled=True)
    assert p.id == "k2_t0.5_10x4x4_sp_shuf"
    assert known.sample(p, 50, 0)[2] == 0.0


def test_calibrate_rejects_truth_above_log_k():
    with pytest.raises(ValueError, match="log K"):
        known.calibrate(2, 4, 0.8)


def test_channel_truth_matches_closed_form_for_uniform_labels():
    from minas.study.layer_mi import channel_truth, symmetric_channel

    y = torch.arange(10).repeat(100)
    b = 0.2
    want = math.log(10) + (b * math.log(b) + (1 - b) * math.log(1 - b)) - b * math.log(9)
    assert abs(channel_truth(y, 10, b) - want) < 1e-9
    y2 = symmetric_channel(y, 10, b, 0)
    assert abs(float((y2 != y).float().mean()) - b) < 0.04


def test_fano_floor_hand_values():
    assert probe.fano_floor(0.0, 10) == pytest.approx(math.log(10))
    assert probe.fano_floor(0.9, 10) == 0.0  # chance-level error proves nothing
    e = 0.1
    assert probe.fano_floor(e, 2) == pytest.approx(math.log(2) + e * math.log(e) + (1 - e) * math.log(1 - e))


def test_usable_information_is_positive_on_separable_and_near_zero_on_shuffled():
    task = known.gaussian_mixture(400, k=4, dim=10, sep=6.0, seed=1)
    good = probe.usable_information([task.x], task.y, "linear", seed=0)[0]
    bad = probe.usable_information([task.x], task.y[torch.randperm(400, generator=torch.Generator().manual_seed(0))],
                                   "linear", seed=0)[0]
    assert good.value > 0.8 and good.error < 0.2 and good.fano_floor > 0.5
    assert abs(bad.value) < 0.1


def test_operating_point_picks_the_fewest_rows_that_stay_under_target():
    curve = pd.DataFrame({"method": "m", "kind": ["flat", "image"] * 4, "rows": [300, 300, 600, 600, 1200, 1200, 2400, 2400],
                          "error": [0.3, 0.4, 0.05, 0.15, 0.04, 0.08, 0.02, 0.05], "seconds": 1.0})
    p = validation.operating_point(curve, "m", available=5000)
    assert p["rows_needed"] == 1200 and p["rows"] == 1200 and p["meets_target"]
    p = validation.operating_point(curve, "m", available=900)  # fewer rows than needed: every row, band interpolated
    assert p["rows"] == 900 and not p["meets_target"] and 0.08 < p["error_band"] < 0.15


def test_separable_critic_on_correlated_gaussians():
    task = known.correlated_gaussians(2000, dim=2, mi_nats=0.5, seed=0)
    r = mi.estimate_mi_continuous(task.x, task.y, "infonce", critic="separable", min_epochs=5, max_epochs=20)
    assert r.ok and abs(r.value - 0.5) < 0.15
    with pytest.raises(ValueError, match="continuous critic"):
        mi.estimate_mi_continuous(task.x, task.y, "infonce", critic="bilinear")


def test_the_default_continuous_call_is_the_measured_configuration():
    """Called with no options, the continuous path runs what benchmarks/mi_bmi.py measured (README: 0.9 s per estimate on
    5,000 samples): InfoNCE, the separable critic, rank-mapped marginals; the estimate is the one those options give."""
    task = known.correlated_gaussians(1000, dim=2, mi_nats=0.5, seed=0)
    quick = dict(min_epochs=2, max_epochs=3)
    r = mi.estimate_mi_continuous(task.x, task.y, **quick)
    assert (r.method, r.options.critic, r.options.marginals) == ("infonce", "separable", "rank")
    explicit = mi.estimate_mi_continuous(task.x, task.y, "infonce", critic="separable", marginals="rank", **quick)
    assert r.value == explicit.value
    assert mi.estimate_mi_continuous(task.x, task.y, critic="pair", **quick).value != r.value  # the option still chooses


def test_rank_marginals_survive_heavy_tails_and_ignore_monotone_maps():
    """Gaussian pairs pushed through the Cauchy quantile keep their MI; z-scores let the tails swamp the critic."""
    task = known.correlated_gaussians(3000, dim=2, mi_nats=0.5, seed=0)
    cauchy = lambda v: torch.tan(math.pi * (torch.special.ndtr(v) - 0.5))  # strictly increasing: MI unchanged
    x, y = cauchy(task.x), cauchy(task.y)
    opts = dict(critic="separable", min_epochs=5, max_epochs=20)
    rank = mi.estimate_mi_continuous(x, y, "infonce", marginals="rank", **opts)
    assert rank.ok and abs(rank.value - 0.5) < 0.15
    same = mi.estimate_mi_continuous(torch.asinh(x), 2 * y - 1, "infonce", marginals="rank", **opts)
    assert same.value == pytest.approx(rank.value, abs=1e-4)  # the same ranks: the same estimate
    zscore = mi.estimate_mi_continuous(x, y, "infonce", marginals="zscore", **opts)
    assert zscore.value < rank.value
    with pytest.raises(ValueError, match="continuous marginals"):
        mi.estimate_mi_continuous(x, y, "infonce", marginals="copula")


def test_method_summary_leaves_out_the_continuous_path_and_counts_failures():
    runs = pd.DataFrame({"task": ["a", "a", "b", "b", "a", "a", "g"], "kind": ["flat"] * 6 + ["continuous"],
                         "method": ["m", "m", "m", "m", "n", "n", "m"], "seed": [0, 1, 0, 1, 0, 1, 0],
                         "value": [1.0, 1.2, 0.5, 0.5, 2.0, 2.0, 9.0], "error": [0.1, -0.3, 0.0, 0.2, 0.5, 0.5, 9.0],
                         "ok": [True, True, False, True, True, True, True], "seconds": [1.0, 3.0, 1.0, 1.0, 0.5, 0.5, 99.0]})
    s = validation.method_summary(runs).set_index("method")
    assert list(s.index) == ["m", "n"]  # sorted by mean |error|
    assert s.loc["m", "mean_abs_error"] == pytest.approx(0.15) and s.loc["m", "mean_bias"] == pytest.approx(0.0)
    assert s.loc["m", "failed"] == 1 and s.loc["m", "seconds"] == pytest.approx(1.5)
    assert s.loc["m", "spread_over_seeds"] == pytest.approx(np.std([1.0, 1.2], ddof=1) / 2)  # task a's std, task b's 0


def test_targets_measure_each_bound_on_the_shape_suite():
    def rows(method, problem, kind, shuffled, errors, seconds):
        return [{"problem": problem, "kind": kind, "shuffled": shuffled, "method": method, "seed": 0, "layer": l + 1,
                 "value": 1.0 + e, "error": e, "ceiling": math.log(10), "seconds": seconds} for l, e in enumerate(errors)]
    shape = pd.DataFrame(rows("m", "flat1", "flat", False, [0.05], 0.2) + rows("m", "img1", "image", False, [0.1, 0.3], 1.0)
                         + rows("m", "img1s", "image", True, [0.02, -0.01], 1.0) + rows("x", "flat1", "flat", False, [5.0], 0.1))
    shape.loc[shape.shuffled, "value"] = [0.02, -0.01]
    thesis = pd.DataFrame(rows("mine", "img1", "image", False, [0.4, 0.2], 30.0))
    t = validation.targets(shape, thesis, "m").set_index("target")
    assert t.loc["mean |error| flat (nats)", "measured"] == pytest.approx(0.05) and t.loc["mean |error| flat (nats)", "met"]
    assert t.loc["mean |error| image-shaped (nats)", "measured"] == pytest.approx(0.2)
    assert t.loc["max |estimate| shuffled labels (nats)", "measured"] == pytest.approx(0.02)
    assert t.loc["share of estimates above log K", "measured"] == pytest.approx(1 / 6) and not t.loc["share of estimates above log K", "met"]
    assert t.loc["seconds, 4 layers of one network", "measured"] == 1.0  # one call, not one per layer
    assert t.loc["thesis MINE time / ours (same problems)", "measured"] == 30.0
    assert t.loc["thesis MINE |error| - ours (nats)", "measured"] == pytest.approx(0.3 - 0.2) and t["met"].sum() == 6
