"""Gaussian + X tested with refits (minas.study.predict.refit): the same statistic as notebook 04, a null that refits."""
import pytest
import torch

from minas.core import config
from minas.study import predict
from minas.study.predict import refit, synthetic

PREDICTORS = ["NN + MI", "Gaussian + MI", "Gaussian + noise"]  # registered names; the fixed baselines join them


def _gaussians(col, names=("Gaussian + MI", "Gaussian + noise")):
    return predict.lineup(col.signals, "mine_fast", names=list(names))


def _cfg():
    torch.set_num_threads(1)
    return config.load("smoke", **{"predict.epochs": 1, "predict.seeds": 1, "mi.signals": ["mine_fast"],
                                   "collection.n_train_samples": 6, "collection.n_test_samples": 5, "hyperband.n_clean": 5})


def test_refit_statistic_is_notebook_04s_comparison_and_sees_a_planted_signal():
    cfg = _cfg()
    col = synthetic.calibrated_collected(12, 8, 6, 5, 5, floor=1e-3, gain=5e-4, strength=1.0, seed=1, tasks_per_source=2)
    exp = predict.run_experiment(cfg, col, predictors=PREDICTORS)
    table = refit.refit_tests(cfg, col, _gaussians(col), n_perm=9).set_index("a")
    comp = exp.comparisons.set_index(["a", "b"])
    for a in ("Gaussian + MI", "Gaussian + noise"):
        assert table.loc[a, "statistic"] == pytest.approx(comp.loc[(a, "Fitted Gaussian"), "mean_diff"], rel=1e-9)
    assert table.loc["Gaussian + MI", "p_refit"] == pytest.approx(1 / 10)  # the observed fit beats all 9 refits
    assert table.loc["Gaussian + noise", "null_sd"] > 0 and (table.n_train_sources == 6).all()
    assert (table.p_holm >= table.p_refit).all()


def test_training_sources_swap_whole_blocks_of_the_same_shape():
    col = synthetic.calibrated_collected(6, 2, 6, 5, 5, floor=1e-3, gain=5e-4, strength=0.0, seed=2, tasks_per_source=2)
    mi = _gaussians(col, ["Gaussian + MI"])[0].feature
    t = refit.gaussian_refit_test(col, mi, 5, n_perm=4)
    assert t.n_units == 6 and 0 < t.p <= 1 and t.n_perm == 4  # without sources every task is its own unit
    sources = col.samples.groupby("task").source.first().to_dict()
    t = refit.gaussian_refit_test(col, mi, 5, sources, n_perm=4)
    assert t.n_units == 3  # 3 training sources of 2 tasks each
    one = refit.refit_tests(_cfg(), col.__class__(**{**col.__dict__, "samples": col.samples.assign(source="s")}),
                            _gaussians(col, ["Gaussian + noise"]), n_perm=4)
    assert one.p_refit.isna().all() and "units" in one.reason.iloc[0]  # one training source: nothing to shuffle
