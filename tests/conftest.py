"""Shared fixtures: one smoke run of the notebook series per test session."""
import pytest


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Run every notebook on the smoke profile once; returns (output folder, overrides, executed paths)."""
    from minas import pipeline

    out = tmp_path_factory.mktemp("smoke-series") / "smoke"
    overrides = {"output_dir": str(out)}
    done = pipeline.run("smoke", None, overrides, log=lambda *_: None, cell_timeout=600)
    return out, overrides, done
