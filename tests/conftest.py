"""Shared fixtures: one smoke run of the notebook series per test session; another process holding a folder's lock."""
import subprocess
import sys
from pathlib import Path

import pytest

# minas.core.lock.acquire's protocol without importing minas (seconds here): flock the file, then write who holds it
HOLD = """
import fcntl, json, os, socket, sys, time
fd = os.open(os.path.join(sys.argv[1], "minas.lock"), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0)
os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now",
                         "command": "holder-for-test"}).encode())
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def hold_lock():
    """hold_lock(folder) -> another process holding the folder's lock (returned once it holds it); killed after the test."""
    procs = []

    def hold(folder: Path) -> subprocess.Popen:
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Run every notebook on the smoke profile once; returns (output folder, overrides, executed paths)."""
    from minas import pipeline

    out = tmp_path_factory.mktemp("smoke-series") / "smoke"
    overrides = {"output_dir": str(out)}
    done = pipeline.run("smoke", None, overrides, log=lambda *_: None, cell_timeout=600)
    return out, overrides, done


@pytest.fixture(autouse=True)
def _no_plan_line(monkeypatch):
    """`minas run` prices the series first (a few seconds of calibration); the tests' stand-in runs skip it.
    The smoke series (a session fixture, set up before this one) keeps it."""
    monkeypatch.setenv("MINAS_PLAN", "off")
