"""Gaussian + task-mean MI (minas.study.predict.compared.task_mean_mi): MI's task level, which z-scores remove."""
import numpy as np
import pytest

from minas.core import config
from minas.study import predict
from minas.study.collection import signal_columns
from minas.study.predict.compared.task_mean_mi import TaskMean
from planted_tasks import task_level_collection


@pytest.fixture(scope="module")
def col():
    return task_level_collection(seed=5)


def test_feature_is_the_raw_signal_averaged_per_task(col):
    feature = TaskMean().bind(col.signals, "mine_fast")
    assert feature.label == "task mean mi_raw:mine_fast" and TaskMean().bind([], None) is None
    m = feature.matrix(col)
    by_hand = col.samples.groupby("task")[signal_columns("mine_fast")].transform("mean").to_numpy()
    assert np.allclose(m, by_hand, rtol=1e-12, atol=0)
    z_means = col.samples.groupby("task")[signal_columns("mine_fast", standardized=True)].mean().to_numpy()
    assert np.abs(z_means).max() < 1e-12  # what NN + MI reads has no task level at all


def test_task_level_mi_helps_where_the_z_score_cannot(col):
    cfg = config.load("smoke", **{"hyperband.n_clean": 2, "mi.signals": ["mine_fast"]})
    exp = predict.run_experiment(cfg, col, predictors=["Gaussian + task-mean MI", "Gaussian + MI"])
    t = exp.table.set_index("method").test_mse_mean
    assert t["Gaussian + task-mean MI"] < 0.2 * t["Fitted Gaussian"]
    assert t["Gaussian + MI"] > 0.8 * t["Fitted Gaussian"]  # z-scored MI carries no task-level preference
    row = exp.comparisons.set_index(["a", "b"]).loc[("Gaussian + task-mean MI", "Fitted Gaussian")]
    assert row.ci_high < 0 and row.p_signflip < 0.01  # better on all 8 held-out sources
