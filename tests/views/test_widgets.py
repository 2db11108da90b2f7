"""minas.views.widgets: the MI and posterior explorers redraw once per selection change and show the chosen rows."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from minas.views.widgets import mi_explorer, posterior_explorer


@pytest.fixture
def frame():
    rows = []
    for task in ("mnist", "digits"):
        for method, scale in (("mine", 1.0), ("ba", 2.0)):
            for seed in range(3):
                for layer in range(1, 5):
                    v = scale * layer + 0.1 * seed + (task == "digits")
                    rows.append(dict(task=task, arch="10-20-30-40", method=method, seed=seed, layer=layer,
                                     value=v, curve=[0.0, v / 2, v]))
    return pd.DataFrame(rows)


def test_dropdown_change_redraws(frame):
    w = mi_explorer(frame)
    assert w.redraws == 1 and list(w.shown["layer"]) == [1, 2, 3, 4]
    w.method.value = "mine"
    w.task.value = "mnist"
    before = w.redraws
    w.method.value = "ba"
    assert w.redraws == before + 1
    assert w.shown["mean"].tolist() == pytest.approx([2.1, 4.1, 6.1, 8.1])  # ba on mnist: 2 * layer + mean seed 0.1
    assert w.shown["std"].iloc[0] == pytest.approx(0.1)
    w.task.value = "digits"
    assert w.shown["mean"].iloc[0] == pytest.approx(3.1)


def test_missing_columns_fail_loudly(frame):
    with pytest.raises(ValueError, match="curve"):
        mi_explorer(frame.drop(columns=["curve"]))


def test_explorer_marker_and_arch_options_follow_the_selection(frame):
    extra = frame[frame.task == "digits"].assign(arch="50-50-50-50")
    w = mi_explorer(pd.concat([frame, extra], ignore_index=True))
    assert w.marker.value == f"drawn 1 times: {w.task.value} / {w.arch.value} / {w.method.value}"
    w.task.value = "mnist"
    assert list(w.arch.options) == ["10-20-30-40"]  # only the task's architectures
    w.task.value = "digits"
    assert list(w.arch.options) == ["10-20-30-40", "50-50-50-50"] and w.arch.value == "10-20-30-40"
    n = w.redraws
    w.arch.value = "50-50-50-50"
    assert w.redraws == n + 1 and w.marker.value == f"drawn {n + 1} times: digits / 50-50-50-50 / {w.method.value}"
    assert w.marker in w.children  # visible beside the dropdowns and the figure


@pytest.fixture
def experiment():
    """A minimal predict.Experiment1: 2 test tasks x 2 pairs, a target and two predictors."""
    from minas.study.predict import Experiment1, Pairs

    rng = np.random.default_rng(0)
    y = rng.dirichlet(np.ones(23), size=(4, 4)).reshape(4, 92).astype(np.float32)
    test = Pairs(np.zeros((4, 96), np.float32), y, np.array(["a", "a", "b", "b"], dtype=object),
                 np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]))
    preds = {"Uniform": np.full((4, 92), 1 / 23, np.float32), "NN + MI": y + 0.01}
    empty = pd.DataFrame()
    return Experiment1(empty, empty, empty, empty, empty, preds, test)


def test_posterior_explorer_redraws_on_selection(experiment):
    w = posterior_explorer(experiment, ["Uniform", "NN + MI"])
    assert w.redraws == 1 and w.task.value == "a" and [v for _, v in w.pair.options] == [0, 1]
    assert set(w.shown.source) == {"target", "Uniform", "NN + MI"} and len(w.shown) == 3 * 92
    w.pair.value = 1
    assert w.redraws == 2 and "drawn 2 times: a / pair 1" in w.marker.value
    target = w.shown[w.shown.source == "target"].p.to_numpy()
    assert target == pytest.approx(experiment.test.y[1])
    w.task.value = "b"  # the pair list follows the task: one redraw, of pair 2
    assert w.redraws == 3 and w.pair.value == 2 and [v for _, v in w.pair.options] == [2, 3]
    assert w.shown[w.shown.source == "target"].p.to_numpy() == pytest.approx(experiment.test.y[2])
    with pytest.raises(ValueError, match="no predictions"):
        posterior_explorer(experiment, ["NN + nothing"])


def test_headless_runs_show_the_figure_outside_the_output_widget(frame, monkeypatch):
    """`minas run` sets MINAS_HEADLESS=1: nothing goes through the Output widget that papermill's client would mimic."""
    import ipywidgets
    from minas.views import widgets as w

    shown, cleared = [], []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setattr(ipywidgets.Output, "clear_output", lambda self, *a, **k: cleared.append(self))
    monkeypatch.setenv(w.HEADLESS, "1")
    view = mi_explorer(frame)
    view.method.value = "mine"
    assert view.redraws == 2 and len(shown) == 2 and not cleared
    monkeypatch.delenv(w.HEADLESS)
    view.method.value = "ba"
    assert view.redraws == 3 and cleared == [view.output]
