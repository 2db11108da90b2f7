"""minas.core.progress: in a headless kernel a loop leaves a few lines (start, each tenth, end), only the outermost
loop does, and the live bar goes to the file `minas run` follows; the pipeline shows that file live."""
import re
import time

import pytest

from minas import kernels
from minas.core import progress
from minas.core.engine import Engine, Job


@pytest.fixture
def headless(monkeypatch):
    monkeypatch.setenv(progress.HEADLESS, "1")
    monkeypatch.delenv(progress.LIVE, raising=False)
    monkeypatch.delenv(progress.ENV, raising=False)


def _lines(err: str, desc: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(desc + ":")]


def test_a_long_loop_leaves_start_tenths_and_end(headless, capsys):
    b = progress.bar(1000, "long loop", unit="step")
    for _ in range(1000):
        b.update(1)
    b.close()
    b.close()  # closing twice says nothing more
    lines = _lines(capsys.readouterr().err, "long loop")
    assert lines[0] == "long loop: start, 1000 step"
    assert [re.match(r"long loop: (\d+)%, (\d+)/1000 step, \d+ s$", l).groups() for l in lines[1:-1]] == [
        (str(10 * k), str(100 * k)) for k in range(1, 10)]
    assert re.fullmatch(r"long loop: done, 1000/1000 step in \d+ s", lines[-1]) and len(lines) == 11


def test_resumed_work_nested_loops_and_big_steps(headless, capsys):
    with progress.bar(10, "outer", initial=4) as outer:
        for _ in range(6):
            inner = progress.bar(50, "inner")  # inside another loop: no lines, or 05 would print one set per iteration
            inner.update(50)
            inner.close()
            outer.update(1)
    big = progress.bar(100, "jumps")
    big.update(95)  # passes nine tenths at once: one line
    big.close()
    err = capsys.readouterr().err
    assert _lines(err, "inner") == []
    assert _lines(err, "outer")[0] == "outer: start, 10 it, 4 already done" and len(_lines(err, "outer")) == 1 + 5 + 1
    assert len(_lines(err, "jumps")) == 3 and _lines(err, "jumps")[1].startswith("jumps: 90%, 95/100 it")


def test_a_loop_that_died_does_not_silence_the_next(headless, capsys):
    def dies():
        b = progress.bar(10, "dies")
        b.update(1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        dies()
    after = progress.bar(2, "after")
    after.update(2)
    after.close()
    assert len(_lines(capsys.readouterr().err, "after")) == 2


def test_off_disabled_and_empty_loops_write_nothing(headless, capsys, monkeypatch):
    for b in (progress.bar(5, "disabled", disable=True), progress.bar(0, "empty")):
        b.update(0)
        b.close()
    monkeypatch.setenv(progress.ENV, "off")
    silent = progress.bar(5, "off")
    silent.update(5)
    silent.close()
    assert capsys.readouterr().err == ""


def test_engine_jobs_that_ask_for_more_grow_the_total(headless, capsys):
    def follow(job, result):
        return [Job(f"next{result}", int, (result + 1,))] if result < 3 else []

    with Engine(workers=0) as eng:
        done = [r for _, r in eng.run([Job("first", int, (0,))], desc="chain", follow=follow)]
    assert done == [0, 1, 2, 3]
    assert _lines(capsys.readouterr().err, "chain")[-1].startswith("chain: done, 4/4 job in")


def test_live_bars_go_to_the_file_the_cli_follows(headless, tmp_path, monkeypatch, capsys):
    live = tmp_path / "live.txt"
    monkeypatch.setenv(progress.LIVE, str(live))
    b = progress.bar(3, "stand-in loop")
    for _ in range(3):
        b.update(1)
    b.close()
    text = live.read_bytes().decode()
    assert "stand-in loop: 100%" in text and "3/3" in text and "\r" in text  # a live text bar, not the notebook's lines
    lines = _lines(capsys.readouterr().err, "stand-in loop")  # for the notebook: start, 1/3, 2/3, end
    assert lines[0] == "stand-in loop: start, 3 it" and lines[-1].startswith("stand-in loop: done, 3/3 it") and len(lines) == 4


def test_the_pipeline_shows_a_followed_file_live(tmp_path, capsys):
    path = tmp_path / "live.txt"
    path.write_text("")
    tail = kernels.LiveTail(path, kernels.KernelStream(), every=0.05)
    with open(path, "a") as f:
        f.write("\rloop:  50%|==  | 1/2")
        f.flush()
        time.sleep(0.3)
        f.write("\rloop: 100%|====| 2/2\n")
    tail.close()
    assert "loop: 100%|====| 2/2" in capsys.readouterr().err  # the finished bar, printed above the live ones
