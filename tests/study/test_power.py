import numpy as np
import pytest

from minas.study.predict import power, synthetic


def test_shuffle_breaks_the_planted_link_but_keeps_the_values():
    col = synthetic.synthetic_collected(n_train=3, n_test=2, n_samples=4, n_inputs=6, survivors=(4, 2), seed=1,
                                        methods=("mine_fast",), strength=0.9)
    null = power.shuffled(col, seed=0)
    a, b = col.samples["z_mine_fast_1"].to_numpy(), null.samples["z_mine_fast_1"].to_numpy()
    assert sorted(a) == pytest.approx(sorted(b)) and not np.allclose(a, b)
    assert (null.samples.task == col.samples.task).all() and null.posteriors is col.posteriors


def _z(strength: float, **kw) -> np.ndarray:
    col = synthetic.synthetic_collected(n_train=3, n_test=1, n_samples=3, n_inputs=6, survivors=(4, 2), seed=3,
                                        methods=("mine_fast",), strength=strength, **kw)
    return col.samples[[f"z_mine_fast_{l}" for l in range(1, 5)]].to_numpy()


def test_strength_mixes_the_preference_and_the_noise_as_a_correlation():
    noise, pref = _z(0.0), _z(1.0)  # one seed draws the same preferences and noise whatever the strength
    np.testing.assert_allclose(_z(0.6), 0.6 * pref + 0.8 * noise, rtol=0, atol=1e-12)  # sqrt(1 - 0.6^2) = 0.8
    assert not np.allclose(noise, pref)  # strength 0 plants nothing of the preference: noise only


def test_the_preference_is_standardized_by_its_exact_moments():
    assert synthetic.PREF_MEAN == 11.0 and synthetic.PREF_SD == pytest.approx(np.sqrt(24.0), abs=1e-15)  # uniform 3..19
    pref = _z(1.0) * synthetic.PREF_SD + synthetic.PREF_MEAN  # strength 1: the preference itself, standardized
    np.testing.assert_allclose(pref, np.round(pref), atol=1e-9)
    assert pref.min() >= 3 and pref.max() <= 19


def test_planted_scale_is_unit_variance_and_strength_is_a_correlation():
    col = synthetic.synthetic_collected(n_train=8, n_test=0, n_samples=6, n_inputs=6, survivors=(4, 2), seed=4,
                                        methods=("mine_fast",), strength=1.0)
    z = col.samples["z_mine_fast_1"].to_numpy()
    assert set(np.round(z * np.sqrt(24.0) + 11, 9)) <= set(range(3, 20))  # (pref - 11) / sd: not strength x preference
    per_task = col.samples.groupby("task")["z_mine_fast_1"].std()
    assert (per_task < 1e-9).all()  # strength 1: the task's preference itself, no noise
    with pytest.raises(ValueError, match=r"lies in \[0, 1\]"):
        synthetic.synthetic_collected(n_train=1, n_test=1, strength=3.0)


def test_cross_validated_power_rests_on_every_task():
    from minas.core import config

    cfg = config.load("smoke")
    kw = dict(strengths=(0.0,), reps=2, seeds=1, epochs=2)
    crossed = power.calibrated_power(cfg, 5e-5, 1e-3, 3, 1, folds=2, **kw)
    assert crossed.design.tolist() == ["2-fold over sources"] and crossed.n_tasks.tolist() == [4]
    fixed = power.calibrated_power(cfg, 5e-5, 1e-3, 3, 2, **kw)
    assert fixed.design.tolist() == ["fixed split"] and fixed.n_tasks.tolist() == [2]
    with pytest.raises(ValueError, match="n_test=0"):
        power.calibrated_power(cfg, 5e-5, 1e-3, 3, 0, **kw)


def test_positive_control_detects_a_perfect_signal_and_holds_false_positives_near_5_percent():
    """A planted perfect per-layer signal on 30 training tasks is found; with nothing planted, about 5% rejections.

    3 predictor seeds, so the interval is crossed over seeds x sources: two networks trained from one seed differ by a
    shift all held-out tasks share, and a test over tasks alone rejected 15-20% of true nulls (1 seed, or 5 seeds
    averaged first; 40 planted nulls each). Under a minute on 1 thread; it fails if the predictor cannot learn a
    per-task map or the test over-rejects.
    """
    import torch

    from minas.core import config

    torch.set_num_threads(1)
    cfg = config.load("smoke", **{"predict.epochs": 40, "predict.lr": 3e-3, "predict.seeds": 3, "mi.signals": ["mine_fast"],
                                  "collection.n_train_samples": 5, "collection.n_test_samples": 5, "hyperband.n_clean": 5})
    world = dict(gain=2e-3, floor=1e-3, n_train=30, n_test=16)  # a large task-specific share, 16 held-out sources
    hit = power.calibrated_power(cfg, strengths=(1.0,), reps=4, **world)
    assert hit.power.item() == 1.0 and hit.effect.item() < -2e-4 and hit.n_sources.item() == 16
    assert (hit.seeds.item(), hit.epochs.item()) == (3, 40)  # the comparison's own settings, from cfg.predict
    null = power.calibrated_power(cfg, strengths=(0.0,), reps=40, **world)
    assert null.rejected_low.item() <= 0.05 <= null.rejected_high.item() and null.rejected.item() <= 0.15
    assert abs(null.effect.item()) < 3 * null.effect_sd.item() / np.sqrt(40)  # no planted effect on average


def test_the_low_variance_predictor_has_its_own_power():
    """The 20-parameter Gaussian + MI, judged like the NN: a perfect signal on 20 training tasks is found; bad
    predictor names and cross-validated Gaussians are refused."""
    from minas.core import config

    cfg = config.load("smoke", **{"mi.signals": ["mine_fast"], "collection.n_train_samples": 5,
                                  "collection.n_test_samples": 5, "hyperband.n_clean": 5})
    world = dict(gain=2e-3, floor=1e-3, n_train=20, n_test=8, reps=3)
    hit = power.calibrated_power(cfg, strengths=(1.0,), predictor="Gaussian + MI", **world)
    assert hit.power.item() == 1.0 and hit.effect.item() < 0 and hit.predictor.item() == "Gaussian + MI"
    with pytest.raises(ValueError, match="one of"):
        power.calibrated_power(cfg, strengths=(1.0,), predictor="ridge", **world)
    with pytest.raises(ValueError, match="NN \\+ MI only"):
        power.calibrated_power(cfg, strengths=(1.0,), predictor="Gaussian + MI", folds=2, **world)


def test_calibrated_world_has_the_measured_floor_and_gain():
    from minas.nas import hyperband
    from minas.study.predict import fit_gaussian

    col = synthetic.calibrated_collected(60, 0, 6, 5, 5, floor=9.7e-4, gain=4.8e-5, strength=0.0, seed=2)
    dirty = np.mean([hyperband.noise_level(p) for p in col.posteriors.values()])
    assert dirty / 10 == pytest.approx(9.7e-4, rel=0.1)  # k = 5: floor dirty / (2k)
    share, width = synthetic.share_for_gain(4.8e-5)
    assert synthetic.planted_gain(share, width) == pytest.approx(4.8e-5, rel=1e-3) and 0 < share < 1
    big, narrow = synthetic.share_for_gain(3.5e-3)  # beyond the widest bump's reach: a narrower bump carries it
    assert narrow < width and synthetic.planted_gain(big, narrow) == pytest.approx(3.5e-3, rel=1e-3)
    # the same seed at strength 1 draws the same posteriors, and its z-scores give each task's preference exactly
    one = synthetic.calibrated_collected(60, 0, 6, 5, 5, floor=9.7e-4, gain=4.8e-5, strength=1.0, seed=2)
    assert all(np.array_equal(one.posteriors[t], p) for t, p in col.posteriors.items())
    z = one.samples.groupby("task")[[f"z_mine_fast_{l}" for l in range(1, 5)]].first().to_numpy()
    mu = synthetic._task_means(z * np.sqrt(16**2 / 12) + 11, share, width)  # (60, 4, 23): each task's expected posterior
    exact = ((mu - fit_gaussian(mu.mean(0))[None]) ** 2).mean()  # G of these 60 tasks, no sampling noise
    assert exact == pytest.approx(4.8e-5, rel=0.05)  # 60 preferences against share_for_gain's 256
    means = np.stack([p.mean(0) for p in col.posteriors.values()])  # each task's 6 posteriors: a noisy mu_t
    assert ((means - mu) ** 2).mean() == pytest.approx(dirty / 12, rel=0.05)  # the noise of a mean of 6: dirty / (2 x 6)
    with pytest.raises(ValueError, match="reaches G between"):
        synthetic.share_for_gain(1.0)
