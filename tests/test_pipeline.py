"""The pipeline around papermill: failures as one short block, cell timeouts, live progress, where results are.

Runs tiny stand-in notebooks (a kernel each, a few seconds), never the study's own.
"""
import errno
import json
from pathlib import Path

import nbformat
import pytest

from minas import failures, pipeline
from minas.__main__ import main
from minas.core import config, parse


def _series(folder: Path, *cells: str) -> Path:
    """notebooks/01_stand_in.ipynb: a question, a parameters cell, then `cells`."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell('profile = "default"\noverrides = {}')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# stand-in?"), params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, folder / "01_stand_in.ipynb")
    return folder


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    def make(*cells):
        monkeypatch.setattr(pipeline, "NOTEBOOKS", _series(tmp_path / "notebooks", *cells))
        return ["run", "--profile", "smoke", "--set", f"output_dir={tmp_path / 'out'}"]
    return make


def test_a_failing_cell_ends_in_one_short_block(stand_in, tmp_path, capsys):
    args = stand_in("x = 1", "import sqlite3\nraise sqlite3.DatabaseError('file is not a database')")
    assert main(args) == 1
    err = capsys.readouterr().err
    err = err[err.index("minas: error:"):]  # after the notebook's bar
    executed = tmp_path / "out" / "notebooks" / "01_stand_in.ipynb"
    assert err.startswith("minas: error: notebook 01_stand_in failed in cell 4 (`import sqlite3`)")
    assert "DatabaseError: file is not a database" in err and f"executed notebook: {executed}" in err
    assert "python -m minas restore --profile smoke" in err  # the known fix
    assert "Traceback" not in err and "---------" not in err and len(err.splitlines()) <= 6
    assert main(args + ["--verbose"]) == 1
    assert "raise sqlite3.DatabaseError" in capsys.readouterr().err  # the full traceback on request


def test_a_finished_series_is_not_executed_again(tmp_path, monkeypatch):
    """A rerun skips what finished with the same notebook, settings and code; a changed notebook runs again with
    everything after it; --only and redo always execute; a notebook that ran makes the later ones stale."""
    runs = tmp_path / "runs.txt"
    series = _series(tmp_path / "notebooks", f"open({str(runs)!r}, 'a').write('01\\n')")
    second = nbformat.read(series / "01_stand_in.ipynb", as_version=4)
    second.cells[-1].source = f"open({str(runs)!r}, 'a').write('02\\n')"
    nbformat.write(second, series / "02_stand_in.ipynb")
    monkeypatch.setattr(pipeline, "NOTEBOOKS", series)
    overrides, said = {"output_dir": str(tmp_path / "out")}, []

    def run(**kw):
        runs.write_text("")
        pipeline.run("smoke", overrides=overrides, log=said.append, **kw)
        return runs.read_text().split()
    assert run() == ["01", "02"]
    assert run() == [] and sum("is up to date" in s for s in said) == 2
    second.cells[-1].source += "\nx = 2"
    nbformat.write(second, series / "02_stand_in.ipynb")
    assert run() == ["02"]
    assert run(only="01") == ["01"]
    assert run() == ["02"]  # 01 ran alone: 02 may read new results
    assert run(redo=True) == ["01", "02"]
    overrides["train.lr"] = 0.01  # another setting: another fingerprint
    assert run() == ["01", "02"]
    assert json.loads((tmp_path / "out" / "provenance.json").read_text())["config"]["train"]["lr"] == 0.01


def test_a_timed_out_cell_is_reported_like_any_failure(stand_in, capsys):
    args = stand_in("import time\ntime.sleep(60)")
    assert main(args + ["--cell-timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert "failed in cell 3 (`import time`)" in err and "CellTimeoutError: the cell did not finish within 2 s" in err
    assert "--cell-timeout" in err


def test_progress_of_a_notebooks_loop_and_where_the_results_are(stand_in, tmp_path, capsys):
    args = stand_in("from minas.core.progress import bar\nb = bar(3, 'stand-in loop')\n"
                    "for _ in range(3):\n    b.update(1)\nb.close()")
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "stand-in loop: 100%" in err and "3/3" in err  # the kernel's bar, shown live by the CLI
    assert f"results:   {tmp_path / 'out'}" in out and "notebooks:" in out
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert any(p.startswith("torch==") for p in prov["packages"])
    assert prov["train_precision"] == "fp32"  # smoke pins fp32; auto would be resolved here
    assert prov["config"]["engine"]["cell_timeout"] == config.load("smoke").engine.cell_timeout


def test_notebooks_get_absolute_paths_and_validated_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.yaml").write_text("seed: 3\n")
    overrides = {"output_dir": "res", "train.lr": 1e-3, "data.download": parse.parse_yaml("yes")}
    cfg = config.load("my.yaml", **overrides)
    params = pipeline.notebook_parameters("my.yaml", cfg, overrides)
    assert params["profile"] == str(tmp_path / "my.yaml")
    assert params["overrides"]["output_dir"] == str(tmp_path / "res")
    assert params["overrides"]["data.download"] is True and params["overrides"]["train.lr"] == 0.001
    assert Path(params["overrides"]["data.root"]).is_absolute()
    assert pipeline.notebook_parameters("smoke", config.load("smoke"), {})["profile"] == "smoke"


@pytest.mark.parametrize("ename,evalue,expect", [
    ("DatabaseError", "file is not a database", "minas restore --profile P"),
    ("OperationalError", "database is locked", "another process is writing"),
    ("OSError", "[Errno 28] No space left on device", "make clean-outputs PROFILE=P"),
    ("OperationalError", "database or disk is full", "make clean-outputs PROFILE=P"),
    ("DataError", "k49-train-imgs.npz is missing under /data/k49", "thesis data sets"),
    ("KilledWorker", "Attempted to run task on 3 different workers, all of which died", "--set engine.workers=1"),
    ("DeadKernelError", "Kernel died", "ran out of memory"),
    ("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2 GiB", "ran out of memory"),
    ("CellTimeoutError", "the cell did not finish within 5 s", "engine.cell_timeout (5 s)"),
])
def test_known_failures_have_their_own_fix(ename, evalue, expect):
    assert expect in failures.known_fix(ename, evalue, "P", "/out", timeout=5)


def test_unknown_failures_and_self_explained_store_errors_add_no_fix():
    assert failures.known_fix("ZeroDivisionError", "division by zero", "P", "/out") is None
    assert failures.known_fix("StoreError", "x is not an SQLite database; run minas restore", "P", "/out") is None


def test_disk_full_outside_a_notebook(monkeypatch, capsys):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pipeline, "run", full)
    assert main(["run", "--profile", "smoke"]) == 1
    assert "make clean-outputs PROFILE=smoke" in capsys.readouterr().err
