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


def test_strength_zero_plants_nothing():
    flat = synthetic.synthetic_collected(n_train=2, n_test=1, n_samples=3, n_inputs=6, survivors=(4, 2), seed=3, strength=0.0)
    z = flat.samples[[c for c in flat.samples.columns if c.startswith("z_mine_fast")]].to_numpy()
    assert abs(z.mean()) < 0.5 and 0.6 < z.std() < 1.4  # noise N(0, 1) only


def test_planted_scale_is_unit_variance_and_strength_is_a_correlation():
    col = synthetic.synthetic_collected(n_train=8, n_test=0, n_samples=6, n_inputs=6, survivors=(4, 2), seed=4,
                                        methods=("mine_fast",), strength=1.0)
    z = col.samples["z_mine_fast_1"].to_numpy()
    assert 0.6 < z.std() < 1.4  # a real z-score's scale, not strength x preference
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
    means = np.stack([p.mean(0) for p in col.posteriors.values()])  # each task's 6 posteriors: a noisy mu_t
    gap = ((means - fit_gaussian(means.mean(0))[None]) ** 2).mean() - dirty / 12  # minus the noise of a mean of 6
    assert gap == pytest.approx(4.8e-5, abs=3e-5)
    with pytest.raises(ValueError, match="reaches G between"):
        synthetic.share_for_gain(1.0)
