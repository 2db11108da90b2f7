"""Gaussian + descriptors (minas.study.predict.compared.descriptors): the task's own descriptors move the Gaussian."""
import numpy as np
import pytest

from minas.core import config
from minas.study import predict
from minas.study.predict import synthetic
from minas.study.predict.compared.descriptors import TaskDescriptors
from planted_tasks import task_level_collection


@pytest.fixture(scope="module")
def col():
    return task_level_collection(seed=4)


def test_feature_reads_classes_rows_px_and_the_mean_input_accuracy(col):
    m = TaskDescriptors().matrix(col)
    s, row = col.samples, 7
    task = col.tasks.set_index("name").loc[s.task[row]]
    mean_acc = s.accuracy[s.task == s.task[row]].mean()
    assert m.shape == (len(s), 4 * 4)  # four descriptors in each of the four layers' slots
    assert m[row, :4].tolist() == [task.classes, 600, 16, pytest.approx(mean_acc, abs=0)]
    assert np.array_equal(m[:, :4], m[:, 12:])  # every layer sees the same four


def test_it_finds_a_preference_set_by_the_class_count(col):
    cfg = config.load("smoke", **{"hyperband.n_clean": 2, "mi.signals": ["mine_fast"]})
    exp = predict.run_experiment(cfg, col, predictors=["Gaussian + descriptors"])
    t = exp.table.set_index("method").test_mse_mean
    assert t["Gaussian + descriptors"] < 0.2 * t["Fitted Gaussian"]  # the class count sets the preferred option
    row = exp.comparisons.set_index(["a", "b"]).loc[("Gaussian + descriptors", "Fitted Gaussian")]
    assert row.ci_high < 0 and row.n_sources == 8 and row.p_signflip < 0.01  # all 8 sources: 2 / 2^8


def test_a_collection_without_a_task_table_skips_it_and_says_why():
    cfg = config.load("smoke", **{"predict.epochs": 1, "predict.seeds": 1, "mi.signals": ["mine_fast"]})
    col = synthetic.synthetic_collected(n_train=3, n_test=2, n_samples=4, n_inputs=6, survivors=(4, 2), seed=1,
                                        methods=("mine_fast",))
    assert "Gaussian + descriptors" in [p.name for p in predict.lineup(col.signals)]  # registered: in every lineup
    exp = predict.run_experiment(cfg, col, predictors=["Gaussian + descriptors", "Gaussian + MI"])
    assert "no task table" in exp.skipped["Gaussian + descriptors"]
    assert "Gaussian + descriptors" not in set(exp.table.method) and "Gaussian + MI" in set(exp.table.method)
