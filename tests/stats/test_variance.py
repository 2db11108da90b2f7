"""One-way random-effects variance components (minas.stats.variance) against known tau^2 and sigma^2."""
import numpy as np
import pytest
from scipy import stats as sps

from minas.stats import variance_components


def _draw(rng, sizes, tau2: float, sigma2: float, d: int = 1):
    """Observations y = mu + a_group + e with a ~ N(0, tau2), e ~ N(0, sigma2); (N, d) and group labels."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    effects = rng.normal(0, np.sqrt(tau2), size=(len(sizes), d))
    return 3.0 + effects[groups] + rng.normal(0, np.sqrt(sigma2), size=(len(groups), d)), groups


def test_anova_estimates_by_hand_on_a_balanced_design():
    y = np.array([1.0, 3.0, 4.0, 6.0, 8.0, 10.0])  # groups of 2: means 2, 5, 9
    vc = variance_components(y, [0, 0, 1, 1, 2, 2], n_boot=0, n_perm=0)
    msw = (2 + 2 + 2) / 3  # each group's squared deviations sum to 2; N - a = 3
    msb = 2 * ((2 - 16 / 3) ** 2 + (5 - 16 / 3) ** 2 + (9 - 16 / 3) ** 2) / 2
    assert vc.sigma2 == pytest.approx(msw) and vc.n0 == pytest.approx(2.0)
    assert vc.tau2 == pytest.approx((msb - msw) / 2) and vc.ratio == pytest.approx(vc.tau2 / vc.sigma2)
    assert vc.p_f == pytest.approx(sps.f.sf(msb / msw, 2, 3))  # the normal-theory F test
    assert (vc.n, vc.n_groups, vc.n_clusters, vc.d) == (6, 3, 3, 1)


@pytest.mark.parametrize("tau2", [0.0, 0.5])
def test_recovers_a_known_tau2_on_unbalanced_groups(tau2):
    """Unbiased for tau2 = 0 and > 0 with groups of 2-9: the mean over 300 designs lies within 4 se of the truth."""
    rng = np.random.default_rng(1)
    sizes = rng.integers(2, 10, size=25)
    est = np.array([[(v := variance_components(*_draw(rng, sizes, tau2, 1.0), n_boot=0, n_perm=0)).tau2, v.sigma2]
                    for _ in range(300)])
    se = est.std(axis=0, ddof=1) / np.sqrt(len(est))
    assert abs(est[:, 0].mean() - tau2) < 4 * se[0] and se[0] < 0.03
    assert abs(est[:, 1].mean() - 1.0) < 4 * se[1]


def test_columns_are_averaged_per_entry():
    """d columns with tau2 = 0.2 each: the per-column components; sigma2 per column, not summed."""
    rng = np.random.default_rng(2)
    y, groups = _draw(rng, [6] * 400, 0.2, 0.8, d=5)
    vc = variance_components(y, groups, n_boot=200, n_perm=0)
    assert vc.tau2 == pytest.approx(0.2, abs=0.03) and vc.sigma2 == pytest.approx(0.8, abs=0.03) and vc.d == 5
    assert vc.tau2_low < 0.2 < vc.tau2_high and np.isnan(vc.p_f)
    assert vc.share == pytest.approx(vc.tau2 / (vc.tau2 + vc.sigma2))


def test_interval_rests_on_clusters():
    """Groups nested in clusters that share an effect: the cluster interval is wider than one over groups."""
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(8), 5)  # 8 sources x 5 tasks
    shared = rng.normal(0, 1.0, size=8)[clusters]  # every task of a source moves together
    groups = np.repeat(np.arange(40), 6)
    y = (shared + rng.normal(0, 0.3, size=40))[groups] + rng.normal(0, 1.0, size=len(groups))
    by_cluster = variance_components(y, groups, clusters=clusters[groups], n_perm=0)
    by_group = variance_components(y, groups, n_perm=0)
    assert by_cluster.n_clusters == 8 and by_group.n_clusters == 40 and by_cluster.tau2 == by_group.tau2
    assert (by_cluster.tau2_high - by_cluster.tau2_low) > 1.5 * (by_group.tau2_high - by_group.tau2_low)
    with pytest.raises(ValueError, match="two clusters"):
        variance_components(y, groups, clusters=np.arange(len(y)))


def test_permutation_p_is_uniform_under_the_null_and_small_under_signal():
    rng = np.random.default_rng(4)
    sizes = rng.integers(3, 8, size=12)
    ps = np.array([variance_components(*_draw(rng, sizes, 0.0, 1.0, d=3), n_boot=0, n_perm=199, seed=i).p_perm
                   for i in range(300)])
    assert sps.kstest(ps, "uniform").pvalue > 0.01  # uniform-ish
    assert 0.02 <= np.mean(ps <= 0.05) <= 0.09
    vc = variance_components(*_draw(rng, sizes, 1.0, 1.0, d=3), n_perm=999)
    assert vc.p_perm < 0.01 and vc.tau2_low > 0


def test_permutation_p_agrees_with_the_f_test_on_normal_data():
    rng = np.random.default_rng(5)
    y, groups = _draw(rng, [5] * 10, 0.15, 1.0)
    vc = variance_components(y, groups, n_boot=0, n_perm=4000)
    assert vc.p_perm == pytest.approx(vc.p_f, abs=0.03)


def test_null_interval_covers_zero_most_of_the_time():
    """At tau2 = 0 with 20 clusters the bootstrap interval's lower bound lies above 0 in at most about 1 design in 20."""
    rng = np.random.default_rng(6)
    low = [variance_components(*_draw(rng, [6] * 20, 0.0, 1.0), n_boot=500, n_perm=0, seed=i).tau2_low
           for i in range(200)]
    assert np.mean(np.array(low) > 0) <= 0.06


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match=">= 2 groups"):
        variance_components([1.0, 2.0], [0, 1])
    with pytest.raises(ValueError, match="one label per row"):
        variance_components([1.0, 2.0, 3.0], [0, 1])
