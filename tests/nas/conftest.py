"""Fixtures shared by the nas tests: the smoke profile and its mnist task (built once per module)."""
import pytest

from minas import data
from minas.core import config


@pytest.fixture(scope="module")
def cfg():
    return config.load("smoke")


@pytest.fixture(scope="module")
def task(cfg):
    return data.get_task(cfg, "mnist")
