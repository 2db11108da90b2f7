"""Holm's step-down correction (minas.stats.multiple) on a worked example and its defining properties."""
import numpy as np
import pytest

from minas.stats import holm


def test_holm_on_a_worked_example():
    """m = 4, p = (0.01, 0.04, 0.03, 0.005): sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04;
    the running maximum makes the last 0.06. At alpha 0.035 Holm rejects two (0.02, 0.03), Bonferroni (p x 4) one."""
    adj = holm([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(adj, [0.03, 0.06, 0.06, 0.02])
    bonferroni = np.minimum(np.array([0.01, 0.04, 0.03, 0.005]) * 4, 1)
    assert np.sum(adj <= 0.035) == 2 and np.sum(bonferroni <= 0.035) == 1
    assert np.all(adj <= bonferroni + 1e-15)  # Holm is never more conservative than Bonferroni


def test_holm_keeps_nan_out_of_the_family_and_caps_at_one():
    adj = holm([0.2, np.nan, 0.5, 0.01])
    assert np.isnan(adj[1]) and np.allclose(adj[[0, 2, 3]], [0.4, 0.5, 0.03])  # m = 3
    assert np.all(holm([0.6, 0.7]) == [1.0, 1.0])
    assert holm([]).shape == (0,)
    with pytest.raises(ValueError, match="lie in"):
        holm([0.1, 1.5])


def test_holm_controls_the_familywise_error_under_the_global_null():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(2000, 10))
    fwer = np.mean((np.apply_along_axis(holm, 1, p) <= 0.05).any(axis=1))
    assert 0.03 <= fwer <= 0.065  # Holm's FWER under the global null of 10 independent tests: just below 0.05

