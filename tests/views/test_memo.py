"""minas.views.memo: a notebook's expensive call is computed once per settings and arguments, then read back."""
import json

import numpy as np
import pandas as pd
import pytest

import minas
from minas.mi import validation
from minas.mi.known import Problem
from minas.study import predict
from minas.study.predict.synthetic import synthetic_collected
from minas.views import memo

CALLS: list[tuple] = []  # every real computation below appends here: the count of what was not reused
NB = "02_mine_validation"


def known_mi(cfg, rows: int, k: int = 2) -> pd.DataFrame:
    """A small real computation: `ba` on one known-MI problem (3 critic epochs); counts its calls."""
    CALLS.append(("known_mi", rows, k))
    return validation.run_problems([Problem(k, 0.5)], ["ba"], rows, shuffled=False, min_epochs=3, max_epochs=3,
                                   head_min_epochs=3, lr=cfg.mi.lr)


def experiment(cfg, col) -> predict.Experiment1:
    """Notebook 04's Experiment 1 on a planted collection; counts its calls."""
    CALLS.append(("experiment",))
    return predict.run_experiment(cfg, col)


def indexed(n: int) -> pd.DataFrame:
    CALLS.append(("indexed", n))
    return pd.DataFrame({"a": range(n)}, index=[f"r{i}" for i in range(n)])


@pytest.fixture
def cfg(tmp_path):
    CALLS.clear()
    return minas.load("smoke", output_dir=str(tmp_path))


def test_a_second_call_reads_what_the_first_saved(cfg, capsys):
    first = memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    assert len(CALLS) == 1 and "reused" not in capsys.readouterr().out
    again = memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    assert len(CALLS) == 1  # not recomputed
    assert "02_mine_validation/known: reused" in capsys.readouterr().out  # said in one line
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert len(first) == 1 and bool(first.ok.iloc[0]) and first.reason.iloc[0] == ""
    moved = minas.load("smoke", output_dir=cfg.output_dir, **{"engine.workers": 3})  # how jobs run changes no number
    memo.cached(moved, NB, "known", known_mi, moved, 200)
    assert len(CALLS) == 1


def test_a_changed_setting_or_argument_recomputes(cfg):
    memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    memo.cached(cfg, NB, "known", known_mi, cfg, 240)  # another argument
    assert CALLS == [("known_mi", 200, 2), ("known_mi", 240, 2)]
    memo.cached(cfg, NB, "known", known_mi, cfg, 240, k=4)  # another keyword argument
    other = minas.load("smoke", output_dir=cfg.output_dir, **{"mi.lr": 0.002})  # another setting
    memo.cached(other, NB, "known", known_mi, other, 240, k=4)
    assert len(CALLS) == 4
    memo.cached(other, NB, "known", known_mi, other, 240, k=4)
    assert len(CALLS) == 4  # the last one is kept


def test_a_corrupt_or_partial_result_is_recomputed_with_a_warning(cfg):
    first = memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    folder = cfg.out / NB / "known"
    csv = folder / "frame.csv"
    csv.write_text(csv.read_text()[: len(csv.read_text()) // 2])  # truncated
    with pytest.warns(UserWarning, match="cannot be read back.*frame.csv changed"):
        again = memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    assert len(CALLS) == 2
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), first.drop(columns="seconds"), check_exact=True)
    (folder / "manifest.json").write_text('{"class": "Fr')  # a manifest cut short
    with pytest.warns(UserWarning, match="cannot be read back"):
        memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    assert len(CALLS) == 3
    (folder / "manifest.json").unlink()  # a save killed before its manifest: recomputed, nothing to warn about
    memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    assert len(CALLS) == 4
    memo.cached(cfg, NB, "known", known_mi, cfg, 200)
    assert len(CALLS) == 4


def test_a_dataclass_result_reads_back_exactly_and_keys_its_inputs_by_content(cfg):
    cfg = minas.load("smoke", output_dir=cfg.output_dir, **{"predict.epochs": 2, "predict.seeds": 1})
    col = synthetic_collected(n_train=4, n_test=2, n_samples=3)
    exp = memo.cached(cfg, "04_posterior_prediction", "experiment1", experiment, cfg, col)
    back = memo.cached(cfg, "04_posterior_prediction", "experiment1", experiment, cfg, col)
    assert len(CALLS) == 1 and isinstance(back, predict.Experiment1)
    pd.testing.assert_frame_equal(back.table, exp.table, check_exact=True)
    assert all(np.array_equal(back.predictions[m], exp.predictions[m]) for m in exp.predictions)
    col.samples.loc[0, col.samples.columns[-1]] += 1.0  # one value of the collection changed
    memo.cached(cfg, "04_posterior_prediction", "experiment1", experiment, cfg, col)
    assert len(CALLS) == 2
    manifest = json.loads((cfg.out / "04_posterior_prediction" / "experiment1" / "manifest.json").read_text())
    assert manifest["module"] == "minas.study.predict.experiment" and manifest["seconds"] > 0


def test_what_cannot_be_keyed_or_saved_fails_clearly(cfg):
    with pytest.raises(TypeError, match="cannot key an argument of type object"):
        memo.cached(cfg, NB, "known", known_mi, cfg, object())
    assert CALLS == []  # before any work
    with pytest.raises(TypeError, match="reset_index"):
        memo.cached(cfg, NB, "indexed", indexed, 3)


def curves(n: int) -> pd.DataFrame:
    """A frame with a column of lists, as layer_mi's training curves; counts its calls."""
    CALLS.append(("curves", n))
    return pd.DataFrame({"layer": range(n), "curve": [[0.1 * i, 1 / 3, float("nan")] for i in range(n)],
                         "ok": [True] * n, "reason": [""] * n})


def test_columns_of_lists_come_back_as_lists(cfg):
    first = memo.cached(cfg, NB, "curves", curves, 3)
    again = memo.cached(cfg, NB, "curves", curves, 3)
    assert len(CALLS) == 1
    assert again.curve[2][:2] == [0.2, 1 / 3] and np.isnan(again.curve[2][2])  # exact floats, NaN kept
    pd.testing.assert_frame_equal(again, first)
    assert again.ok.dtype == bool and again.reason.tolist() == ["", "", ""]
