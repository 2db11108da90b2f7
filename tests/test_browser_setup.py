"""`make test` without root: the browser test's installer says it cannot install Chromium (exit 3, a skip), not a failure."""
import os
import subprocess
import sys
from pathlib import Path

SETUP = Path(__file__).resolve().parent / "browser_setup.sh"


def test_without_root_the_installer_asks_for_a_skip(tmp_path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, body in (("id", "echo 1000"), ("sudo", "exit 1")):  # a user without root or sudo
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_}:{os.environ['PATH']}", MINAS_CHROMIUM=str(tmp_path / "no-chromium"))
    r = subprocess.run(["bash", str(SETUP), sys.executable], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3 and "needs root" in r.stderr and "MINAS_SKIP_BROWSER=1" in r.stderr


def test_the_browser_test_skips_on_that_code():
    source = (SETUP.parent / "test_browser.py").read_text()
    assert "r.returncode == 3" in source and "pytest.skip(" in source
