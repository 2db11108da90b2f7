"""Experiment 1 (thesis Table 3.1): pairs, the A.1 MLP, baselines and paired statistics."""
import numpy as np
import pytest
import torch

from minas.core import config
from minas.nas.space import N_OPTIONS
from minas.study import predict, stats, synthetic


@pytest.fixture(scope="module")
def small():
    return synthetic.synthetic_collected(n_train=3, n_test=2, n_samples=4, n_inputs=6, survivors=(4, 2), seed=1)


def test_mlp_shapes_and_training_lowers_loss(small):
    torch.set_num_threads(1)
    assert predict.PosteriorMLP()(torch.zeros(7, 96)).shape == (7, 92)
    out = predict.PosteriorMLP(softmax=True)(torch.randn(3, 96)).view(3, 4, N_OPTIONS)
    assert torch.allclose(out.sum(-1), torch.ones(3, 4), atol=1e-5)
    tr = predict.build_pairs(small, "mi:mine_fast", "train", k=2)
    te = predict.build_pairs(small, "mi:mine_fast", "test", k=2)
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
    tr = predict.build_pairs(col, "accuracy", "train", k=5)
    assert len(tr) == 462 * 11 == 5082 and tr.x.shape == (5082, 96) and tr.y.shape == (5082, 92)
    assert np.allclose(tr.x[:, :92].reshape(-1, 4, N_OPTIONS).sum(-1), 1)  # one-hot architecture
    assert np.allclose(tr.y.reshape(-1, 4, N_OPTIONS).sum(-1), 1, atol=1e-5)  # clean posteriors are distributions
    assert len(predict.build_pairs(col, "accuracy", "train", k=5, max_pairs_per_task=100)) == 100


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
    exp = predict.run_experiment(cfg, small, signals={"NN + accuracy": "accuracy", "NN + MI": "mi:mine_fast"})
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
    raw = predict.signal_matrix(small, "mi_raw:ba")
    z = predict.signal_matrix(small, "mi:ba")
    assert np.allclose(raw, 1.0 + 0.1 * z)  # the synthetic raw value is 1 + 0.1 z


def test_cross_validation_holds_out_every_family_once(small):
    cfg = config.load("smoke", **{"predict.epochs": 1, "mi.signals": ["mine_fast", "ba"]})
    tasks = sorted(small.samples.task.unique())
    families = {t: f"fam{i // 2}" for i, t in enumerate(tasks)}  # 5 tasks -> families of 2, 2, 1
    cv = predict.run_cross_validation(cfg, small, families, signals={"NN + MI": "mi:mine_fast", "NN + accuracy": "accuracy"})
    assert list(cv.folds.family) == ["fam0", "fam1", "fam2"] and (cv.folds.n_train_tasks == [3, 3, 4]).all()
    scored = cv.errors.groupby("family").task.unique()
    assert all(set(v) == {t for t in tasks if families[t] == f} for f, v in scored.items())  # a fold scores only its family
    assert cv.errors.pair.nunique() == cv.folds.n_test_pairs.sum()
    row = cv.comparisons.set_index("b").loc["NN + accuracy"]
    assert row.n_tasks == len(cv.errors.task.unique()) and 0 < row.p_signflip <= 1
    t = cv.table.set_index("method")
    assert t.loc["Fitted Gaussian", "n_tasks"] == row.n_tasks and t.loc["NN + MI", "ci_low"] <= t.loc["NN + MI", "test_mse"]


def test_mean_interval_is_student_t_over_units():
    m, lo, hi = stats.mean_interval([1.0, 2.0, 3.0, np.nan])
    assert m == 2.0 and hi - m == pytest.approx(4.303 * 1.0 / np.sqrt(3), abs=1e-3)  # t(0.975, 2) * sd / sqrt(n)
    assert np.isnan(stats.mean_interval([5.0])[1]) and np.isnan(stats.mean_interval([])[0])
