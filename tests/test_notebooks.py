"""The notebook series: parameters cells agree with params, and the smoke run records numbers."""
import html
import json
import math

import nbformat
import pytest

from minas import pipeline
from minas.core import config
from minas.views import answer


def _parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    return nb, cells


@pytest.mark.parametrize("path", pipeline.notebooks(), ids=lambda p: p.name)
def test_notebook_conventions(path):
    nb, cells = _parameters_cell(path)
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    names = {line.split("=")[0].strip() for line in cells[0].source.splitlines() if "=" in line}
    # papermill only warns on unknown parameters: the pipeline injects exactly these two
    assert names == {"profile", "overrides"}
    assert nb.cells[0].cell_type == "markdown" and "?" in nb.cells[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "store notebooks without outputs"
    assert "record_metrics" in nb.cells[-1].source or any("record_metrics" in c.source for c in nb.cells[-2:])
    assert not any("sys.path" in c.source for c in nb.cells)


def test_series_is_ordered_and_selectable():
    names = [p.name[:2] for p in pipeline.notebooks()]
    assert names == sorted(names) and names[0] == "01"
    assert [p.name[:2] for p in pipeline.select("03,01")] == ["01", "03"]
    with pytest.raises(ValueError, match="no notebook numbered"):
        pipeline.select("99")


def test_cli_rejects_bad_input_before_work(capsys):
    from minas.__main__ import main

    assert main(["run", "--profile", "nope"]) == 2
    assert "unknown profile" in capsys.readouterr().err
    assert main(["run", "--profile", "smoke", "--set", "train.lrr=0.1"]) == 2
    assert "train.lrr" in capsys.readouterr().err


@pytest.mark.notebooks
def test_smoke_series_end_to_end(smoke_run):
    """Runs every notebook on the smoke profile and checks what each recorded."""
    out, overrides, done = smoke_run
    assert [p.name for p in done] == [p.name for p in pipeline.notebooks()]
    cfg = config.load("smoke", **overrides)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 0 and prov["versions"]["torch"]
    metrics = {p.stem: json.loads((out / p.stem / "metrics.json").read_text())["metrics"] for p in done}
    m1 = metrics["01_data_prep"]
    assert m1["n_tasks"] == len(cfg.data.tasks) and m1["n_test_tasks"] >= 1
    if "03_hyperband_collection" in metrics:
        m3 = metrics["03_hyperband_collection"]
        assert m3["samples_per_split"]["train"] == cfg.collection.n_train_samples * m3["tasks_per_split"]["train"]
        assert 0 < m3["noise_clean"] < m3["noise_dirty"]
        assert m3["epochs_trained"] > 0
    m2 = metrics["02_mine_validation"]
    assert m2["recommended"] in {"mine", "mine_fast", "nwj", "infonce", "smile", "ba"}
    assert m2["thesis_mine_time_ratio"] > 1  # the thesis MINE is the slow one
    m4 = metrics["04_posterior_prediction"]
    assert m4["n_test_pairs"] > 0 and m4["seeds"] == cfg.predict.seeds
    lo, hi = m4["mi_minus_accuracy_ci"]
    assert lo <= m4["mi_minus_accuracy"] <= hi
    assert m4["crossval_folds"] >= 2 and m4["crossval_tasks"] > m4["n_test_tasks"]  # every task held out once
    assert m4["n_sources"] >= 1 and 0 <= m4["own_power_perfect"] <= 1 and m4["budget_floor"] > 0  # the signal budget
    gain, (g_lo, g_hi) = m4["budget_gain"], m4["budget_gain_ci"]  # a t-interval over sources, centred on G (None: 1 source)
    assert math.isfinite(gain) and (g_lo is None) == (g_hi is None) == (m4["n_sources"] < 2)
    assert g_lo is None or (g_lo + g_hi) / 2 == pytest.approx(gain, rel=1e-9, abs=1e-15)
    assert isinstance(m4["gate_open"], bool) and m4["gate_per_layer_sigma2"] > 0 and m4["holm_family_m"] >= 1  # the gate opens 04
    lo, hi = m4["crossval_mi_minus_accuracy_ci"]
    assert lo <= m4["crossval_mi_minus_accuracy"] <= hi and 0 < m4["crossval_mi_minus_accuracy_p"] <= 1
    m5 = metrics["05_controller_training"]
    assert m5["iterations_run"] == {"exp1": cfg.controller.iterations, "exp2": cfg.controller.iterations}
    m6 = metrics["06_analysis"]
    assert abs(m6["rerun_gap_table_3_1"]) < 1e-12 and abs(m6["rerun_gap_table_3_2"]) < 1e-12  # 06 reads what 04 and 05 recorded
    assert (out / "04_posterior_prediction" / "experiment1" / "manifest.json").is_file()  # 06 reads it, never retrains
    assert {r["method"] for r in m6["rank_agreement"]} >= {"sum_filters", *cfg.mi.signals}
    assert {r["method"] for r in m6["signal_reliability"]} >= {"target: accuracy", "target: hs"}
    assert m6["power"] == m4["own_power"] and m6["own_power_perfect"] == m4["own_power_perfect"]  # 06 reads 04's own check
    report = (out / "report.html").read_text()
    assert "<table" in report and "data:image/png;base64," in report and "src=\"http" not in report
    assert report.index("id='verdict'") < report.index("id='figures'") < report.index("id='tables'") < report.index("id='provenance'")
    assert report.count("data:image/png;base64,") == m6["report_figures"] and len(m6["verdict"]) == 5
    underpowered = m6["own_power_perfect"] < answer.POWER_TARGET  # the answer says what a null result is worth here
    assert ("absence of evidence" in m6["verdict"][-1]) == underpowered and "independent sources" in m6["verdict"][-1]
    assert all(html.escape(s) in report for s in m6["verdict"]) and "95% CI" in m6["verdict"][1]
    assert m6["verdict"][0].startswith(("First:", "A perfect per-layer signal", "The signal budget"))  # the budget leads
    for name, m in metrics.items():
        flat = json.dumps(m)
        assert "NaN" not in flat, f"{name} recorded NaN"
    said = []  # a rerun of the finished series executes nothing: same notebooks, settings and code
    assert pipeline.run("smoke", None, overrides, log=said.append) == [] and sum("is up to date" in s for s in said) == len(pipeline.notebooks())
    # a rerun resumes from the store: the collection notebook has nothing left to train
    pipeline.run("smoke", "03", overrides, log=lambda *_: None, cell_timeout=600)
    m3b = json.loads((out / "03_hyperband_collection" / "metrics.json").read_text())["metrics"]
    assert m3b["input_jobs_run"] == 0
    assert math.isclose(m3b["noise_dirty"], metrics["03_hyperband_collection"]["noise_dirty"])
