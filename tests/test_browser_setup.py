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


def test_the_browser_test_skips_on_that_code_and_fails_on_any_other():
    import pytest
    from test_browser import judge_setup

    with pytest.raises(pytest.skip.Exception, match="needs root"):
        judge_setup(3)
    with pytest.raises(pytest.fail.Exception, match=r"(?s)failed \(exit 1\).*apt said no"):
        judge_setup(1, "", "apt said no")
    assert judge_setup(0) is None  # installed: the browser tests run
