"""The predictor slot moved no number: Table 3.1, its runs and comparisons and the cross-validation on a planted
collection (`minas.study.predict.synthetic`) equal, exactly, what the string-language code gave (main 5554b91).

`fixtures/table_3_1_before.json` was written by `snapshot()` below run against that commit; rerunning it
here must give the same floats bit for bit for every predictor that existed then (new predictors add rows).
"""
import json
import math
from pathlib import Path

import pytest
import torch

from minas.core import config
from minas.study import predict
from minas.study.predict import synthetic

FIXTURE = Path(__file__).parent / "fixtures" / "table_3_1_before.json"


def snapshot() -> dict:
    """Every number of a small Experiment 1 and its cross-validation, as plain lists (one thread, fixed seeds)."""
    torch.set_num_threads(1)
    cfg = config.load("smoke", **{"predict.epochs": 2, "predict.seeds": 2, "mi.signals": ["mine_fast", "ba", "params"]})
    col = synthetic.synthetic_collected(n_train=4, n_test=3, n_samples=4, n_inputs=6, survivors=(4, 2), seed=3,
                                        methods=("mine_fast", "ba", "params"))
    exp = predict.run_experiment(cfg, col)
    cv = predict.run_cross_validation(cfg, col, seeds=2, epochs=1)
    frames = {"table": exp.table, "runs": exp.runs.drop(columns="signal"), "comparisons": exp.comparisons,
              "cv_table": cv.table, "cv_comparisons": cv.comparisons}
    return {k: {"columns": [str(c) for c in f.columns], "exact": f.to_dict("split")["data"]} for k, f in frames.items()}


def _rows(frame: dict, key: tuple) -> dict:
    cols = frame["columns"]
    return {tuple(r[cols.index(k)] for k in key): dict(zip(cols, r)) for r in frame["exact"]}


def _same(a, b) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


@pytest.fixture(scope="module")
def before_after():
    return json.loads(FIXTURE.read_text()), snapshot()


@pytest.mark.parametrize("name, key", [("table", ("method",)), ("runs", ("method", "seed")),
                                       ("comparisons", ("a", "b")), ("cv_table", ("method",)),
                                       ("cv_comparisons", ("a", "b"))])
def test_every_old_predictor_number_is_unchanged(before_after, name, key):
    before, after = (_rows(s[name], key) for s in before_after)
    assert before, "the fixture holds rows"
    missing = sorted(set(before) - set(after))
    assert not missing, f"{name}: rows {missing} are gone"
    for k, row in before.items():
        changed = {c: (v, after[k][c]) for c, v in row.items() if not _same(v, after[k][c])}
        assert not changed, f"{name} {k}: {changed}"


def test_table_keeps_its_order(before_after):
    before, after = (s["table"]["exact"] for s in before_after)
    old = [r[0] for r in before]
    assert [r[0] for r in after if r[0] in old] == old
