"""Experiment 1 pooled over collection seeds: intervals crossed over seeds x sources, sign-flip p over source means."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import minas
from minas.study import predict
from minas.study.predict.predictors import Pairs
from minas.study.predict.synthetic import synthetic_collected
from minas.views import report


def _exp(task_diffs: dict) -> predict.Experiment1:
    """An Experiment 1 holding only per-pair errors: task -> list of a - b per pair (b's error fixed at 1)."""
    tasks = [t for t, ds in task_diffs.items() for _ in ds]
    d = np.array([x for ds in task_diffs.values() for x in ds], dtype=np.float64)
    pair = np.arange(len(d))
    errors = pd.concat([pd.DataFrame({"method": "NN + MI", "seed": s, "pair": pair, "task": tasks, "mse": 1.0 + d + (s - 0.5)})
                        for s in (0, 1)]  # two predictor seeds, +-0.5 around the pair's error: their mean is 1 + d
                       + [pd.DataFrame({"method": "NN + accuracy", "seed": 0, "pair": pair, "task": tasks, "mse": 1.0})])
    n = len(d)
    test = Pairs(np.zeros((n, 96)), np.zeros((n, 92)), np.array(tasks), np.zeros(n, int), np.zeros(n, int))
    empty = pd.DataFrame()
    return predict.Experiment1(empty, empty, empty, errors, empty, {}, test)


def test_hand_checkable_pooling():
    seed0 = _exp({"t1": [1.0], "t2": [1.0, 3.0], "t3": [3.0]})  # task means 1, 2, 3: this collection's mean 2
    seed1 = _exp({"t1": [3.0], "t2": [4.0], "t3": [5.0]})  # 3, 4, 5: mean 4
    p = predict.pool_seeds([seed0, seed1], [0, 1], pairs=[("NN + MI", "NN + accuracy")])
    r = p.table.iloc[0]
    assert (r.n_tasks, r.n_seeds, r.n) == (3, 2, 7)  # 4 + 3 test pairs
    # crossed seeds x tasks, D = [[1, 2, 3], [3, 4, 5]]: MS_seed = 3 * 2 = 6, MS_task = 2 * 2 / 2 = 2, MS_err = 0;
    # var of the mean (6 + 2 - 0) / 6, Satterthwaite df 8^2 / (6^2 / 1 + 2^2 / 2) = 64 / 38
    half = stats.t.ppf(0.975, 64 / 38) * np.sqrt(8 / 6)
    assert r.mean_diff == pytest.approx(3.0) and (r.ci_low, r.ci_high) == pytest.approx((3 - half, 3 + half))
    assert r.ci_low < 0  # two collections 2 apart: the pooled interval carries that disagreement
    assert r.p_signflip == pytest.approx(2 / 8)  # only all-plus and all-minus reach |mean| 3
    assert r.sd_between_seeds == pytest.approx(np.sqrt(2)) and (r.seed_min, r.seed_max) == (2.0, 4.0)
    assert sorted(p.per_task[p.per_task.seed == 0]["diff"]) == [1.0, 2.0, 3.0]
    assert "3 independent source means of 3 held-out task means, each task's the mean over 2 collection seeds" in predict.pooling_note(p)


def test_one_seed_pools_to_experiment_1s_own_comparisons_and_disagreeing_seeds_spread(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"predict.epochs": 2, "predict.seeds": 1, "mi.signals": ["mine_fast", "ba"]})
    exps = [predict.run_experiment(cfg, synthetic_collected(n_train=4, n_test=3, n_samples=3, seed=s)) for s in (0, 1)]
    alone = predict.pool_seeds(exps[:1], [0], seed=cfg.seed).table.set_index(["a", "b"])
    own = exps[0].comparisons.set_index(["a", "b"])
    cols = ["n", "n_tasks", "mean_diff", "ci_low", "ci_high", "p_signflip"]
    pd.testing.assert_frame_equal(alone[cols], own.loc[alone.index, cols], check_dtype=False)
    assert alone.sd_between_seeds.isna().all()
    both = predict.pool_seeds(exps, [0, 1], seed=cfg.seed)
    t = both.table.set_index(["a", "b"])
    assert (t.n_seeds == 2).all() and (t.n_tasks == 3).all() and (t.sd_between_seeds > 0).all()
    # the pooled difference is the mean over tasks of the seed-averaged task means
    g = both.per_task.groupby(["a", "b", "task"])["diff"].mean().groupby(["a", "b"]).mean()
    assert np.allclose(t.mean_diff, g.loc[t.index])
    assert len(both.by_seed) == len(exps[0].comparisons) + len(exps[1].comparisons)
    report.save_result(cfg, "04_posterior_prediction", "seed_pooled", both)  # notebook 06 reads it back as saved
    back = report.load_result(cfg, "04_posterior_prediction", "seed_pooled", predict.SeedPooling)
    pd.testing.assert_frame_equal(back.table, both.table, check_exact=True)
    assert back.seeds == [0, 1]


def test_pooling_needs_one_result_per_seed():
    with pytest.raises(ValueError, match="one Experiment 1 per collection seed"):
        predict.pool_seeds([], [0])
