"""minas.views.report: a typed result saved by one notebook reads back identical in the next, or fails naming the notebook."""
import dataclasses
import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import minas
from minas.core import keys
from minas.core.store import Store, open_store
from minas.study import autobuild, predict
from minas.study.predict.synthetic import synthetic_collected
from minas.views import report


@pytest.fixture(scope="module")
def small():
    return synthetic_collected(n_train=4, n_test=2, n_samples=3)


def test_experiment1_and_autobuild_round_trip_exactly(tmp_path, small):
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"predict.epochs": 2, "predict.seeds": 2, "mi.signals": ["mine_fast", "ba"]})
    exp = predict.run_experiment(cfg, small)
    ev = autobuild.evaluate(cfg, small, exp, epochs=3)
    report.save_result(cfg, "04_posterior_prediction", "experiment1", exp)
    report.save_result(cfg, "04_posterior_prediction", "autobuild", ev)
    back = report.load_result(cfg, "04_posterior_prediction", "experiment1", predict.Experiment1)
    for name in ("table", "runs", "curves", "errors", "comparisons"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(exp, name), check_exact=True)
    assert (back.runs.signal == "").sum() == 3  # the fixed baselines' empty signal stays "", not NaN
    assert list(back.predictions) == list(exp.predictions)
    assert all(np.array_equal(back.predictions[m], exp.predictions[m]) for m in exp.predictions)
    for name in ("x", "y", "task", "sample", "clean"):
        assert np.array_equal(getattr(back.test, name), getattr(exp.test, name))
    assert back.task_posteriors("NN + MI").keys() == exp.task_posteriors("NN + MI").keys()
    ev_back = report.load_result(cfg, "04_posterior_prediction", "autobuild", autobuild.Evaluation)
    pd.testing.assert_frame_equal(ev_back.summary, ev.summary, check_exact=True)
    pd.testing.assert_frame_equal(ev_back.spans, ev.spans, check_exact=True)  # float32 column stays float32
    assert all(np.array_equal(ev_back.importances[m], ev.importances[m]) for m in ev.importances)


def test_missing_or_stale_results_name_the_notebook(tmp_path, small):
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"predict.epochs": 1, "predict.seeds": 1, "mi.signals": ["mine_fast", "ba"]})
    with pytest.raises(FileNotFoundError, match=r"run notebook 04_posterior_prediction .*--only 04"):
        report.load_result(cfg, "04_posterior_prediction", "experiment1", predict.Experiment1)
    report.save_result(cfg, "04_posterior_prediction", "experiment1", predict.run_experiment(cfg, small))
    other = minas.load("smoke", output_dir=str(tmp_path), **{"predict.epochs": 2, "predict.seeds": 1, "mi.signals": ["mine_fast", "ba"]})
    with pytest.raises(FileNotFoundError, match="other settings.*notebook 04"):
        report.load_result(other, "04_posterior_prediction", "experiment1", predict.Experiment1)
    moved = minas.load("smoke", output_dir=str(tmp_path), **{"predict.epochs": 1, "predict.seeds": 1, "mi.signals": ["mine_fast", "ba"]})
    assert report.load_result(moved, "04_posterior_prediction", "experiment1", predict.Experiment1).table is not None
    with pytest.raises(TypeError, match="holds a Experiment1"):
        report.load_result(cfg, "04_posterior_prediction", "experiment1", autobuild.Evaluation)


@dataclasses.dataclass
class Small:
    """A saved result as small as one can be: a frame and a number."""

    table: pd.DataFrame
    n: int


def _key_before(cfg) -> str:
    """The saved-result key as it was built before minas.core.keys (it hashed engine.* and data.root too)."""
    d = cfg.to_dict()
    d["mi"]["methods"] = d["mi"].pop("signals")  # mi.signals was called mi.methods then
    d.pop("output_dir", None)
    if d["collection"]["seeds"] == 1:
        d["collection"].pop("seeds")
    d["train"].pop("group_size")  # added since, at their defaults
    for section, added in (("hyperband", ("lam_mode", "max_clean")), ("predict", ("holdout", "power_reps"))):
        for k in added:
            d[section].pop(k)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


def test_paths_and_engine_settings_never_make_a_saved_result_stale_and_old_keys_are_migrated(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path))
    small = Small(pd.DataFrame({"a": [1.5, 2.5]}), 3)
    folder = report.save_result(cfg, "04_posterior_prediction", "small", small)
    for setting, value in (("engine.workers", 4), ("engine.scheduler", "tcp://10.0.0.1:8786"), ("data.download", True),
                           ("data.root", str(tmp_path / "data")), ("engine.checkpoint_dir", str(tmp_path / "ck"))):
        other = minas.load("smoke", output_dir=str(tmp_path), **{setting: value})  # e.g. --only 06 --set engine.workers=4
        assert report.load_result(other, "04_posterior_prediction", "small", Small).n == 3, setting
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["settings"] = _key_before(cfg)  # a result saved by the code before minas.core.keys, beside a version-1 store
    (folder / "manifest.json").write_text(json.dumps(manifest))
    Store(cfg.out / "store.sqlite").close()
    with sqlite3.connect(cfg.out / "store.sqlite") as con:
        con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    moved = minas.load("smoke", output_dir=str(tmp_path), **{"engine.workers": 4})
    with pytest.raises(FileNotFoundError, match="other settings"):  # not migrated yet: stale
        report.load_result(moved, "04_posterior_prediction", "small", Small)
    open_store(cfg).close()  # the profile opens its store: minas.core.migrate carries the manifest to today's key
    back = report.load_result(cfg, "04_posterior_prediction", "small", Small)
    pd.testing.assert_frame_equal(back.table, small.table)
    assert json.loads((folder / "manifest.json").read_text())["settings"] == keys.result_key(cfg)
    assert report.load_result(moved, "04_posterior_prediction", "small", Small).n == 3  # so engine.workers is free again
    with pytest.raises(FileNotFoundError, match="other settings"):  # a number's setting still makes it stale
        report.load_result(minas.load("smoke", output_dir=str(tmp_path), **{"train.lr": 0.2}), "04_posterior_prediction",
                           "small", Small)


def test_provenance_reads_what_the_run_recorded(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path))
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "provenance.json").write_text(json.dumps({"commit": "abc", "dirty": True, "versions": {"torch": "2.0"}}))
    (cfg.out / "timings.json").write_text(json.dumps({"03_hyperband_collection": 314.2}))
    p = report.provenance(cfg)
    assert p["commit"] == "abc (with uncommitted changes)" and p["profile"] == "smoke" and p["seed"] == "0"
    assert p["versions"] == "torch 2.0" and p["timings"] == "03_hyperband_collection 314 s"
    assert p["training"].startswith(f"up to {cfg.data.max_train_per_task} rows per task") and "arithmetic fp32" in p["training"]
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"train.precision": "auto"})
    (cfg.out / "provenance.json").write_text(json.dumps({"commit": "abc", "train_precision": "bf16"}))
    assert "arithmetic bf16 (train.precision auto)" in report.provenance(cfg)["training"]  # as the run resolved it


def test_mi_band_note_says_which_quantity_and_its_band(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path))
    assert "not validated" in report.mi_band_note(cfg)
    point = {"method": "ba", "rows": 600, "error_band": 0.123, "meets_target": False, "target": 0.1}
    report.record_metrics(cfg, "02_mine_validation", {"mi_operating_point": point, "mi_error_band": 0.123,
                                                      "mi_rows": 600, "mi_method": "ba", "mi_signal": "usable"})
    note = report.mi_band_note(cfg)
    assert "+/- 0.123 nats at 600 rows" in note and "misses the 0.10-nat target" in note and "usable" in note
    report.record_metrics(cfg, "02_mine_validation", {"mi_operating_point": dict(point, meets_target=True),
                                                      "mi_error_band": 0.05, "mi_rows": 1200, "mi_method": "ba", "mi_signal": "mi"})
    assert "Shannon MI" in report.mi_band_note(cfg) and "meets" in report.mi_band_note(cfg)


def test_metrics_and_provenance_name_files_relative_to_the_output_folder(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path / "out"), **{"data.root": str(Path.home() / "minas-data")})
    report_html = cfg.out / "report.html"
    table = pd.DataFrame({"name": ["a"], "file": [str(cfg.out / "tables" / "a.csv")]})
    path = report.record_metrics(cfg, "06_analysis", {"report": report_html, "tables": table, "sentence": "accuracy / hs",
                                                      "elsewhere": "/etc/minas.yaml", "n": 3})
    recorded = json.loads(path.read_text())["metrics"]
    assert recorded["report"] == "report.html" and recorded["tables"] == [{"name": "a", "file": "tables/a.csv"}]
    assert recorded["sentence"] == "accuracy / hs" and recorded["elsewhere"] == "/etc/minas.yaml" and recorded["n"] == 3
    assert str(tmp_path) not in path.read_text()
    prov = report.portable({"config": cfg.to_dict()}, cfg.out)  # what `minas run` writes to provenance.json
    assert prov["config"]["output_dir"] == "." and prov["config"]["data"]["root"] == "~/minas-data"
    assert prov["config"]["train"] == cfg.to_dict()["train"]  # everything that is not a path stays as it was
