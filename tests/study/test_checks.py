"""The study's store checks (minas.study.checks), supplied to `minas check` through the STORE_CHECKS slot."""
import json
from pathlib import Path

from minas.core import check, lock, snapshot
from minas.core.registry import STORE_CHECKS
from minas.core.store import Store


def test_the_study_supplies_its_rules_through_the_slot():
    assert STORE_CHECKS.names() == ["brackets", "mi-trainings", "priors"]


def _consistent_store(path: Path) -> Store:
    """Two trainings of one bracket, the bracket, and an MI row with its converged training."""
    from minas.nas.space import Architecture

    a, b = Architecture((10, 10, 10, 10)).id, Architecture((20, 10, 10, 10)).id
    s = Store(path)
    for arch, acc in ((a, 0.5), (b, 0.7)):
        s.put_training({"task": "t", "arch": arch, "seed": 0, "epochs": 1, "config": "c", "kind": "fixed", "accuracy": acc})
    s.put_training({"task": "t", "arch": a, "seed": 0, "epochs": 0, "config": "c", "kind": "converge", "accuracy": 0.6})
    s.put_signals([{"task": "t", "arch": a, "seed": 0, "method": "ba", "layer": 1, "config": "m", "value": 0.3, "ok": 1}])
    rows = [{"rung": 0, "arch": a, "epochs": 1, "accuracy": 0.5}, {"rung": 0, "arch": b, "epochs": 1, "accuracy": 0.7}]
    s.put_bracket("collection", "t", 0, "h", [a, b], {"rows": rows, "survivors": [b], "scores": [0.69]}, 1.0)
    s.put_result("controller-x", "0", "k", {"priors": [[[0.5, 0.5]] * 4]})
    return s


def test_check_finds_each_broken_invariant(tmp_path):
    path = tmp_path / "store.sqlite"
    s = _consistent_store(path)
    verdict = check.check(path)
    assert verdict.ok, verdict.text()
    assert verdict.counts == {"trainings": 3, "mi": 1, "brackets": 1, "results": 1}
    with s.transaction() as con:
        con.execute("DELETE FROM trainings WHERE kind='fixed' AND accuracy=0.7")
        con.execute("DELETE FROM trainings WHERE kind='converge'")
        con.execute("UPDATE brackets SET result=json_set(result, '$.scores', json('[null]'))")
    s.put_result("controller-x", "1", "k", {"priors": [[[0.5, 0.6]] * 4]})
    text = check.check(path).text()
    assert "PROBLEMS" in text
    assert "1 bracket(s) lack stored trainings: collection/t/0" in text
    assert "1 MI estimate(s) without their converged training" in text
    assert "posterior that does not sum to 1" in text
    assert "1 stored prior(s) do not sum to 1 per layer: controller-x/1" in text


def test_cli_check_and_restore(tmp_path, capsys, hold_lock):
    from minas.__main__ import main

    _consistent_store(tmp_path / "store.sqlite").close()
    where = ["--profile", "smoke", "--set", f"output_dir={tmp_path}"]
    assert main(["restore", *where]) == 1
    assert "holds no snapshot" in capsys.readouterr().err
    snap = snapshot.snapshot(tmp_path, "03_hyperband_collection", keep=3)
    assert main(["check", *where]) == 0
    out = capsys.readouterr().out
    assert "OK (3 trainings, 1 mi, 1 brackets, 1 results)" in out and snap.name in out
    Store(tmp_path / "store.sqlite").put_signals(
        [{"task": "t", "arch": "orphan", "seed": 0, "method": "ba", "layer": 1, "config": "m", "value": 0.3, "ok": 1}])
    assert main(["check", *where]) == 1
    assert "MI estimate(s) without their converged training" in capsys.readouterr().out
    assert main(["restore", "--list", *where]) == 0
    assert snap.name in capsys.readouterr().out
    proc = hold_lock(tmp_path)
    assert main(["restore", *where]) == 1  # never under a live run
    assert f"pid {proc.pid}" in capsys.readouterr().err
    proc.kill()
    proc.wait()
    assert main(["restore", "--snapshot", snap.stem, *where]) == 0
    assert "restored" in capsys.readouterr().out
    assert main(["check", *where]) == 0
    assert json.loads((tmp_path / lock.LOCK_NAME).read_text() or "null") is None
