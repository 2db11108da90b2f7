"""The predictor slot (minas.study.predict.slot, core.registry.PREDICTORS): lineup, order, names, a new predictor."""
import numpy as np
import pytest
import torch

from minas.core import config
from minas.core.registry import PREDICTORS, Predictor, PredictorFeature
from minas.study import predict
from minas.study.predict import synthetic

TABLE_ORDER = ["Uniform", "Fitted Gaussian", "Mean train posterior", "Gaussian + accuracy", "NN + accuracy", "Gaussian + MI",
               "NN + MI", "NN + MI (ba)", "Gaussian + params", "NN + params", "NN + MI (raw)", "NN + arch only",
               "NN + accuracy (z)", "Gaussian + noise", "NN + noise", "Gaussian + descriptors", "Gaussian + task-mean MI"]


def test_lineup_binds_the_registry_to_the_collected_signals_in_table_order():
    got = predict.lineup(["params", "ba", "mine_fast"], primary="mine_fast")
    assert [p.name for p in got] == TABLE_ORDER
    by_name = {p.name: p for p in got}
    assert by_name["NN + MI"].feature == predict.SignalFeature("mine_fast")  # the primary feeds NN + MI
    assert by_name["NN + MI (raw)"].feature == predict.SignalFeature("mine_fast", z=False)
    assert by_name["NN + params"].against == ("NN + noise",)  # the registered one, not the per-signal family's
    assert (by_name["Gaussian + MI"].fit.kind, by_name["NN + MI"].fit.kind, by_name["Uniform"].fit.kind) == (
        "gaussian", "mlp", "fixed")
    assert [p.name for p in predict.lineup(["ba"], primary="mine_fast")][5:7] == ["Gaussian + MI", "NN + MI"]
    assert by_name["NN + MI"].feature.label == "mi:mine_fast"  # labels keep the seeds derived from them
    assert all(isinstance(p, Predictor) for _, p in PREDICTORS.items())
    assert all(isinstance(p.feature, PredictorFeature) for p in got)


def test_crossval_and_names_choose_from_the_lineup():
    cv = [p.name for p in predict.lineup(["mine_fast", "ba", "params"], crossval=True)]
    assert "NN + MI (ba)" not in cv and "NN + params" not in cv and "Gaussian + params" not in cv
    assert [n for n in cv if n.startswith("NN")] == ["NN + accuracy", "NN + MI", "NN + MI (raw)", "NN + arch only",
                                                     "NN + accuracy (z)", "NN + noise"]
    assert "Gaussian + task-mean MI" not in [p.name for p in predict.lineup([])]  # nothing collected to average
    with pytest.raises(KeyError, match="choose among"):
        predict.lineup(["mine_fast"], names=["NN + oracle"])


def test_comparisons_put_the_headline_first_then_follow_compare_rank():
    got = predict.comparisons(predict.lineup(["mine_fast"], names=["NN + MI", "NN + accuracy", "Fitted Gaussian",
                                                                   "NN + noise", "Gaussian + MI"]))
    assert got == [("NN + MI", "NN + accuracy"), ("NN + MI", "Fitted Gaussian"), ("NN + MI", "NN + noise"),
                   ("NN + accuracy", "NN + noise"), ("Gaussian + MI", "Fitted Gaussian")]


@pytest.fixture
def extra():
    """A predictor registered for one test: the Gaussian fit fed a constant feature (so it is the fitted Gaussian)."""
    p = predict.register(predict.PosteriorPredictor("Gaussian + nothing", predict.NoFeature(), predict.GAUSSIAN,
                                                    "a test predictor", rank=99, against=("Fitted Gaussian",)))
    yield p
    PREDICTORS._items.pop(p.name)


def test_a_new_registered_predictor_appears_in_table_3_1_by_itself(extra):
    torch.set_num_threads(1)
    assert predict.lineup(["mine_fast"])[-1].name == "Gaussian + nothing"
    cfg = config.load("smoke", **{"mi.signals": ["mine_fast"]})
    col = synthetic.synthetic_collected(n_train=3, n_test=2, n_samples=4, n_inputs=6, survivors=(4, 2), seed=1,
                                        methods=("mine_fast",))
    exp = predict.run_experiment(cfg, col, predictors=["Gaussian + nothing"])
    t = exp.table.set_index("method")
    assert {"Uniform", "Fitted Gaussian", "Mean train posterior", "Gaussian + nothing"} <= set(t.index)
    row = exp.comparisons.set_index(["a", "b"]).loc[("Gaussian + nothing", "Fitted Gaussian")]
    assert abs(row.mean_diff) < 1e-3 * t.loc["Fitted Gaussian", "test_mse_mean"]  # least squares from the same start
    with pytest.raises(ValueError, match="registered twice"):
        predict.register(predict.PosteriorPredictor("Gaussian + nothing", predict.NoFeature(), predict.MLP))


def test_the_gaussian_takes_features_of_any_width():
    i = np.arange(23)
    rng = np.random.default_rng(0)
    s = rng.normal(size=(300, 4, 2))  # two numbers per layer; only the second moves the preferred option
    y = np.exp(-0.5 * ((i[None, None] - (11 + 3 * s[..., 1])[..., None]) / 2.0) ** 2)
    y /= y.sum(-1, keepdims=True)
    pairs = predict.Pairs(np.concatenate([np.zeros((300, 92)), s.reshape(300, 8)], 1).astype(np.float32),
                          y.reshape(300, 92).astype(np.float32), np.array(["t"] * 300, dtype=object), np.arange(300),
                          np.zeros(300, int))
    g = predict.fit_signal_gaussian(pairs)
    assert g.params.shape == (4, 7)  # a, m0, m1, m2, w0, v1, v2
    assert np.abs(g.params[:, 2]).max() < 0.05 * np.abs(g.params[:, 3]).min()  # the first feature left alone
    assert g.params[:, 3] == pytest.approx(3 * g.s_sd[1::2], rel=0.05)
    assert predict.PosteriorMLP(n_inputs=100)(torch.zeros(2, 100)).shape == (2, 92)


def test_the_grouped_gaussian_reaches_the_same_fit_on_the_distinct_rows():
    rng = np.random.default_rng(1)
    i, task = np.arange(23), rng.integers(0, 12, 1200)  # a task-level feature: 12 distinct rows of 1200 pairs
    s = rng.normal(size=(12, 4))[task]
    y = np.exp(-0.5 * ((i[None, None] - (11 + 2 * s + rng.normal(0, 1.0, (1200, 4)))[..., None]) / 2.0) ** 2)
    y /= y.sum(-1, keepdims=True)
    pairs = predict.Pairs(np.concatenate([np.zeros((1200, 92)), s], 1).astype(np.float32),
                          y.reshape(1200, 92).astype(np.float32), task.astype(object), np.arange(1200), np.zeros(1200, int))
    plain, grouped = (predict.fit_signal_gaussian(pairs, g) for g in (False, True))
    assert np.abs(plain.predict(pairs.x) - grouped.predict(pairs.x)).max() < 1e-6  # one least-squares minimizer
    assert np.abs(plain.params[:, 2]).min() > 1.0  # and it found the planted slope
