"""The permutation-with-refit test (minas.stats.refit) and the effect a t-test sees at its own df (minas.stats.power)."""
import numpy as np
import pytest

from minas.stats import needed_effect, refit_permutation_test, shuffles


def _regression_test(rng, beta: float, n_train: int = 20, n_test: int = 30, n_perm: int = 39, seed: int = 0):
    """Least squares y ~ a + b x on training units, statistic: held-out MSE with x minus without (small: x helps)."""
    x_tr, x_te = rng.normal(size=n_train), rng.normal(size=n_test)
    y_tr, y_te = beta * x_tr + rng.normal(size=n_train), beta * x_te + rng.normal(size=n_test)
    base = np.mean((y_te - y_tr.mean()) ** 2)

    def refit(order):
        b, a = np.polyfit(x_tr[order], y_tr, 1)
        return np.mean((y_te - a - b * x_te) ** 2) - base

    return refit_permutation_test(refit, n_train, n_perm, seed=seed)


def test_refit_test_holds_its_size_and_sees_an_effect():
    rng = np.random.default_rng(0)
    p = np.array([_regression_test(rng, 0.0, seed=i).p for i in range(400)])
    assert 0.025 <= np.mean(p <= 0.05) <= 0.075  # exact at alpha (n_perm + 1) = 2: observed the smallest of 40
    hits = np.mean([_regression_test(rng, 2.0, n_train=40, seed=i).p <= 0.05 for i in range(40)])
    assert hits >= 0.9


def test_the_observed_arrangement_is_one_draw_and_alternatives_differ():
    t = refit_permutation_test(lambda order: float(order[0]), 5, n_perm=99, seed=1, alternative="less")
    assert t.statistic == 0.0 and t.p > 0.01 and t.n_units == 5  # order[0] = 0 is the smallest: p about 1/5
    g = refit_permutation_test(lambda order: float(order[0]), 5, n_perm=99, seed=1, alternative="greater")
    assert g.p == pytest.approx(1.0)
    with pytest.raises(ValueError, match="alternative"):
        refit_permutation_test(lambda o: 0.0, 5, alternative="smaller")


def test_shuffles_stay_within_strata():
    perms = shuffles(6, 200, seed=2, strata=[0, 0, 0, 1, 1, 1])
    assert np.all(np.sort(perms, axis=1) == np.arange(6))
    assert np.all(perms[:, :3] < 3) and np.all(perms[:, 3:] >= 3)
    assert len({tuple(p) for p in perms}) > 20


def test_needed_effect_at_its_own_df():
    assert needed_effect(4) == pytest.approx(2.1, abs=0.2)  # one-sample t over 4 means, df 3, power 0.8
    assert needed_effect(50) == pytest.approx(0.40, abs=0.01)  # Cohen 1988 Table 2.4.1: d ~ 0.4 at n = 50
    # a crossed test over 18 sources whose Satterthwaite df is 6.4 needs a larger effect than df 17 implies
    assert needed_effect(18, df=6.4) > needed_effect(18) * 1.05
    assert needed_effect(18, df=np.nan) == needed_effect(18) and needed_effect(1) == float("inf")
