"""Experiment 1 (thesis Table 3.1): pairs, the A.1 MLP, baselines and paired statistics."""
import numpy as np
import pytest
import torch

from minas.core import config
from minas.nas.space import N_OPTIONS
from minas import stats
from minas.study import predict
from minas.study.predict import synthetic


@pytest.fixture(scope="module")
def small():
    return synthetic.synthetic_collected(n_train=3, n_test=2, n_samples=4, n_inputs=6, survivors=(4, 2), seed=1)


def test_mlp_shapes_and_training_lowers_loss(small):
    torch.set_num_threads(1)
    assert predict.PosteriorMLP()(torch.zeros(7, 96)).shape == (7, 92)
    out = predict.PosteriorMLP(softmax=True)(torch.randn(3, 96)).view(3, 4, N_OPTIONS)
    assert torch.allclose(out.sum(-1), torch.ones(3, 4), atol=1e-5)
    tr = predict.build_pairs(small, predict.SignalFeature("mine_fast"), "train", k=2)
    te = predict.build_pairs(small, predict.SignalFeature("mine_fast"), "test", k=2)
    fit = predict.train_mlp(tr, te, epochs=15, lr=1e-3, batch_size=16, seed=0)
    assert len(fit.train_curve) == 16 and fit.test_pred.shape == (len(te), 92)
    assert fit.train_curve[-1] < 0.5 * fit.train_curve[0]


def test_gaussian_fit_recovers_known_gaussian():
    i = np.arange(N_OPTIONS)
    truth = np.stack([0.2 * np.exp(-0.5 * ((i - mu) / sd) ** 2) for mu, sd in [(5, 2), (11, 3), (17, 1.5), (8, 4)]])
    fit = predict.fit_gaussian(truth)
    assert np.abs(fit - truth).max() < 1e-4


def test_pair_counts_match_thesis_arithmetic():
    col = synthetic.synthetic_collected(n_train=1, n_test=1, n_samples=11, seed=2)
    tr = predict.build_pairs(col, predict.AccuracyFeature(), "train", k=5)
    assert len(tr) == 462 * 11 == 5082 and tr.x.shape == (5082, 96) and tr.y.shape == (5082, 92)
    assert np.allclose(tr.x[:, :92].reshape(-1, 4, N_OPTIONS).sum(-1), 1)  # one-hot architecture
    assert np.allclose(tr.y.reshape(-1, 4, N_OPTIONS).sum(-1), 1, atol=1e-5)  # clean posteriors are distributions
    assert len(predict.build_pairs(col, predict.AccuracyFeature(), "train", k=5, max_pairs_per_task=100)) == 100


def test_uniform_baseline_mse_by_hand():
    target = np.zeros((1, 4, N_OPTIONS))
    target[0, :, 3] = 1.0  # all mass on one option per layer
    uniform = np.full((1, 92), 1 / N_OPTIONS)
    # per layer: (22/23)^2 + 22 * (1/23)^2 = 22/23; mean over 23 entries -> 22/529
    assert predict.pair_mse(uniform, target.reshape(1, 92))[0] == pytest.approx(22 / 529)


def test_paired_test_sees_planted_difference():
    rng = np.random.default_rng(0)
    b = rng.normal(1.0, 0.1, 40)
    t = stats.paired_test(b - 0.05 + rng.normal(0, 0.01, 40), b, groups=np.repeat(np.arange(8), 5))
    assert t.p_wilcoxon < 1e-4 and t.p_ttest < 1e-4 and t.ci_high < 0 and t.mean_diff == pytest.approx(-0.05, abs=0.01)
    null = stats.paired_test(b + rng.normal(0, 0.01, 40), b)
    assert null.p_ttest > 0.01 and null.ci_low < 0 < null.ci_high


def test_table_3_1_runs_end_to_end(small):
    cfg = config.load("smoke", **{"predict.epochs": 2, "predict.seeds": 2, "mi.signals": ["mine_fast", "ba"]})
    exp = predict.run_experiment(cfg, small, predictors=["NN + accuracy", "NN + MI"])
    t = exp.table.set_index("method")
    assert {"Uniform", "Fitted Gaussian", "NN + accuracy", "NN + MI", "Noise (dirty)"} <= set(t.index)
    assert t.loc["NN + MI", "n_seeds"] == 2 and t.loc["NN + MI", "thesis_reported_test"] == 7.38e-05
    assert t.loc["Fitted Gaussian", "test_mse_thesis_scale"] == pytest.approx(t.loc["Fitted Gaussian", "test_mse_mean"] / 16)
    assert set(exp.comparisons.b) >= {"NN + accuracy", "Fitted Gaussian"}
    assert len(exp.curves) == 2 * 2 * 2 * 3  # methods x seeds x splits x (epochs + 1)


def test_task_test_uses_tasks_as_units_and_exact_sign_flips():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(5), 4)  # 5 tasks x 4 pairs sharing a target
    b = rng.normal(1.0, 0.1, 20)
    t = stats.task_test(b - 0.05 + rng.normal(0, 0.005, 20), b, groups)
    assert t.n == 20 and t.n_tasks == 5 and t.ci_high < 0
    assert t.p_signflip == pytest.approx(2 / 32)  # all 5 task means negative: 2 of the 2^5 sign patterns as extreme
    m = np.array([-0.05, -0.03, -0.04, -0.06, -0.02])  # by hand: mean -0.04, sd 0.0158, t(4) 97.5% = 2.776
    t2 = stats.task_test(m, np.zeros(5), np.arange(5))
    assert t2.mean_diff == pytest.approx(-0.04) and t2.ci_high == pytest.approx(-0.04 + 2.776 * 0.015811 / np.sqrt(5), abs=1e-4)
    assert np.isnan(stats.task_test([1.0], [0.0], [0]).ci_low)


def test_mi_raw_signal_reads_raw_columns(small):
    raw = predict.SignalFeature("ba", z=False).matrix(small)
    z = predict.SignalFeature("ba").matrix(small)
    assert np.allclose(raw, 1.0 + 0.1 * z)  # the synthetic raw value is 1 + 0.1 z


def test_cross_validation_never_puts_one_source_on_both_sides():
    cfg = config.load("smoke", **{"predict.epochs": 1, "mi.signals": ["mine_fast", "ba"]})
    col = synthetic.synthetic_collected(n_train=4, n_test=2, n_samples=3, n_inputs=6, survivors=(4, 2), seed=5,
                                        tasks_per_source=2)  # 6 tasks from 3 sources
    sources = predict.task_sources(cfg, col)
    assert len(set(sources.values())) == 3
    cv = predict.run_cross_validation(cfg, col, predictors=["NN + MI", "NN + arch only"])
    assert sorted(cv.folds.family) == sorted(set(sources.values())) and (cv.folds.n_train_tasks == 4).all()
    for held, tasks in cv.errors.groupby("family").task.unique().items():
        tested = {sources[t] for t in tasks}
        trained = {sources[t] for t in sources if t not in set(tasks)}
        assert tested == {held} and not tested & trained  # no source on both sides of a fold
    row = cv.comparisons.set_index("b").loc["NN + arch only"]
    assert row.n_tasks == 6 and row.n_sources == 3 and row.p_signflip >= 0.25  # 3 source means: 2 / 2^3 at best
    assert (cv.table.n_sources == 3).all()
    fam = {t: f"fam{i}" for i, t in enumerate(sorted(sources))}  # the old design, one family per task
    by_family = predict.run_cross_validation(cfg, col, fam, predictors=["NN + MI"], by="family")
    assert len(by_family.folds) == 6 and (by_family.comparisons.n_sources <= 3).all()


def test_task_test_clusters_tasks_by_source_and_monte_carlo_p_is_never_zero():
    d = np.array([-0.05, -0.03, -0.04, -0.06])  # four tasks, two sources
    t = stats.task_test(d, np.zeros(4), np.array(["a", "b", "c", "d"]), clusters=np.array(["s1", "s1", "s2", "s2"]))
    assert (t.n_tasks, t.n_sources) == (4, 2) and t.mean_diff == pytest.approx(-0.045)
    assert t.p_signflip == pytest.approx(0.5)  # 2 source means: 2 of 4 sign patterns as extreme
    with pytest.raises(ValueError, match="two clusters"):
        stats.task_test(d, np.zeros(4), np.array(["a", "a", "c", "d"]), clusters=np.array(["s1", "s2", "s2", "s2"]))
    big = -np.ones(30)  # far beyond any sign pattern: the +1 keeps the estimate at 1 / (n_perm + 1), not 0
    assert stats.signflip_p(big, n_perm=999) == pytest.approx(1 / 1000)
    assert stats.binomial_interval(0, 40)[0] == 0 and stats.binomial_interval(2, 8)[1] == pytest.approx(0.651, abs=1e-3)


def test_controls_and_the_low_variance_gaussian(small):
    noise = predict.NoiseFeature().matrix(small)
    assert noise.shape == (len(small.samples), 4) and abs(noise.mean()) < 0.6 and 0.5 < noise.std() < 1.5
    assert np.array_equal(noise, predict.NoiseFeature().matrix(small))  # seeded: the same column every time
    # a signal that moves each layer's preferred option: the 5-number-per-layer Gaussian recovers the shift
    i = np.arange(N_OPTIONS)
    rng = np.random.default_rng(0)
    s = rng.normal(size=(400, 4))
    y = np.exp(-0.5 * ((i[None, None] - (10 + 3 * s)[..., None]) / 2.0) ** 2)
    y /= y.sum(-1, keepdims=True)
    pairs = predict.Pairs(np.concatenate([np.zeros((400, 92)), s], 1).astype(np.float32), y.reshape(400, 92).astype(np.float32),
                          np.array(["t"] * 400, dtype=object), np.arange(400), np.zeros(400, int))
    g = predict.fit_signal_gaussian(pairs)
    flat = predict.fit_gaussian(y.mean(0)).ravel()
    assert predict.pair_mse(g.predict(pairs.x), pairs.y).mean() < 0.1 * predict.pair_mse(flat[None], pairs.y).mean()
    assert g.params[:, 2] == pytest.approx(3 * g.s_sd, rel=0.05)  # the mean's slope: 3 options per unit of signal


def test_fixed_split_can_hold_out_whole_sources():
    col = synthetic.synthetic_collected(n_train=4, n_test=2, n_samples=3, n_inputs=6, survivors=(4, 2), seed=6,
                                        tasks_per_source=2)  # sources: src00 (2 train), src01 (2 train), src02 (2 test)
    col.samples.loc[col.samples.task == "task03", "source"] = "src02"  # a training task sharing the test source
    cfg = config.load("smoke", **{"predict.holdout": "source"})
    kept = predict.holdout_split(cfg, col, predict.task_sources(cfg, col))
    assert "task03" not in set(kept.samples.task) and {"task04", "task05"} <= set(kept.samples.task)
    same = predict.holdout_split(config.load("smoke"), col, predict.task_sources(cfg, col))
    assert same is col  # predict.holdout: family (default) keeps the meta split


def test_mean_interval_is_student_t_over_units():
    m, lo, hi = stats.mean_interval([1.0, 2.0, 3.0, np.nan])
    assert m == 2.0 and hi - m == pytest.approx(4.303 * 1.0 / np.sqrt(3), abs=1e-3)  # t(0.975, 2) * sd / sqrt(n)
    assert np.isnan(stats.mean_interval([5.0])[1]) and np.isnan(stats.mean_interval([])[0])


def test_crossed_interval_carries_the_trainings_shared_shift():
    rng = np.random.default_rng(1)
    units = rng.normal(0, 0.01, 6)
    d = np.stack([1.0 + units, 0.2 + units, 0.6 + units])  # 3 predictor seeds whose networks differ by a shared shift
    m, lo, hi, p, se = stats.crossed_interval(d)
    assert m == pytest.approx(d.mean()) and lo < 0 < hi and p > 0.05  # the shift is noise of the trainings
    naive = stats.mean_interval(d.mean(0))
    assert naive[1] > 0  # over the seed-mean units alone the same numbers look decisive
    t = stats.task_test(d.ravel(), np.zeros(d.size), np.tile(np.arange(6), 3), replicates=np.repeat(np.arange(3), 6))
    assert (t.n_seeds, t.n_sources, t.n) == (3, 6, 6) and (t.ci_low, t.ci_high, t.se) == pytest.approx((lo, hi, se))
