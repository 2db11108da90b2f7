"""minas.widgets: the MI explorer redraws when a dropdown changes and shows the chosen rows."""
import matplotlib

matplotlib.use("Agg")
import pandas as pd
import pytest

from minas.widgets import mi_explorer


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
