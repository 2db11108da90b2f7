"""Hyperband: bracket sizes and budget, posterior weighting and smoothing, clean posteriors."""
import math

import numpy as np
import pytest

from minas.nas import hyperband
from minas.nas.space import OPTIONS, Architecture, sample_architectures


def fake_accuracy(arch: Architecture, epochs: int) -> float:
    """Deterministic objective: more filters in layer 1 and more epochs is better."""
    return 0.5 + arch.filters[0] / 1000 + epochs / 100


def test_score():
    a = Architecture((10, 10, 10, 10))
    assert hyperband.score(0.9, a, 0.001) == pytest.approx(0.86)


def test_bracket_sizes_budget_and_winners():
    archs = sample_architectures(12, np.random.default_rng(3))
    calls = []

    def acc(a, e):
        calls.append((a.id, e))
        return fake_accuracy(a, e)

    res = hyperband.run_bracket(archs, acc, [8, 4], [4, 4, 4], lam=0.0)
    rungs = [sum(1 for r in res.rows if r["rung"] == k) for k in range(3)]
    assert rungs == [12, 8, 4]
    assert res.budget_epochs == 96
    assert {e for _, e in calls} == {4, 8, 12}
    best4 = sorted(archs, key=lambda a: -a.filters[0])[:4]
    assert sorted(a.filters[0] for a in best4) == sorted(int(s.split("-")[0]) for s in res.survivors)
    assert res.summed_score == pytest.approx(sum(res.scores))
    assert res.scores == sorted(res.scores, reverse=True)


def test_lambda_penalty_changes_winners():
    big, small = Architecture((120, 120, 120, 120)), Architecture((115, 10, 10, 10))
    others = [Architecture((10, 10, 10, 10))] * 2
    res = hyperband.run_bracket([big, small] + others, fake_accuracy, [1], [1, 1], lam=0.0005)
    assert res.survivors == [small.id]


def test_posterior_weights_and_smoothing_by_hand():
    a, b = Architecture((10, 10, 10, 10)), Architecture((15, 10, 10, 120))
    post = hyperband.posterior([a, b], [0.6, 0.2], share=0.25)
    # layer 0: counts 0.6 at option 0, 0.2 at option 1; smoothing adds 0.25 of neighbours
    raw = np.zeros(23)
    raw[0], raw[1] = 0.6 + 0.25 * 0.2, 0.2 + 0.25 * 0.6
    raw[2] = 0.25 * 0.2
    assert np.allclose(post[0], raw / raw.sum())
    assert np.allclose(post.sum(axis=1), 1.0)
    assert post[3, 22] > 0 and post[3, 0] > 0


def test_nonnegative_scores_weigh_as_they_are():
    """lambda = 0 (scores are accuracies >= 0): the weights are the scores themselves, so those posteriors stay identical."""
    assert np.array_equal(hyperband.posterior_weights([0.6, 0.2, 0.0]), [0.6, 0.2, 0.0])
    assert np.array_equal(hyperband.posterior_weights([0.0, 0.0]), [1.0, 1.0])  # nothing to weigh: equal votes


def test_negative_scores_keep_their_order():
    """lambda > 0: survivors below 0 are shifted by the lowest score, so a better one still votes more (no clipping)."""
    a, b, c = Architecture((10, 10, 10, 10)), Architecture((60, 10, 10, 10)), Architecture((120, 10, 10, 10))
    w = hyperband.posterior_weights([0.5, -0.1, -0.2])
    assert np.allclose(w, [0.7, 0.1, 0.0]) and w[0] > w[1] > w[2]
    post = hyperband.posterior([a, b, c], [0.5, -0.1, -0.2], share=0.0)
    assert post[0, 0] == pytest.approx(0.875) and post[0, 10] == pytest.approx(0.125) and post[0, 22] == 0.0
    # the two negative survivors were tied at 0 under clipping; now their order survives into the posterior
    post2 = hyperband.posterior([a, c, b], [-0.3, -0.1, -0.2], share=0.0)
    assert post2[0, 22] > post2[0, 10] > post2[0, 0] == 0.0
    assert np.array_equal(hyperband.posterior_weights([-0.2, -0.2]), [1.0, 1.0])


def test_clean_posterior_count_and_normalization():
    rng = np.random.default_rng(0)
    posts = hyperband.normalize(rng.random((11, 4, 23)))
    clean, combos = hyperband.clean_posteriors(posts, 5)
    assert len(clean) == math.comb(11, 5) == 462 and len(combos) == 462
    assert np.allclose(clean.sum(axis=-1), 1.0)
    assert np.allclose(clean[0], posts[list(combos[0])].mean(axis=0))


def test_noise_level():
    p = np.zeros((2, 4, 23))
    p[1, 0, 0] = 1.0
    assert hyperband.noise_level(p) == pytest.approx(1 / 92)
    assert math.isnan(hyperband.noise_level(p[:1]))
    posts = hyperband.normalize(np.random.default_rng(1).random((11, 4, 23)))
    clean, _ = hyperband.clean_posteriors(posts, 5)
    assert hyperband.noise_level(clean) < hyperband.noise_level(posts)


def test_bracket_validates_sizes():
    archs = [Architecture((OPTIONS[i], 10, 10, 10)) for i in range(4)]
    with pytest.raises(ValueError, match="fewer"):
        hyperband.Bracket(archs, [4], [1, 1], 0.0)
    with pytest.raises(ValueError, match="one entry more"):
        hyperband.Bracket(archs, [2], [1], 0.0)


def test_clean_posteriors_capped_draw_and_balanced_lambda():
    import math

    import numpy as np
    import pytest

    from minas.nas import hyperband

    rng = np.random.default_rng(0)
    posts = rng.dirichlet(np.ones(23), size=(25, 4))  # (25, 4, 23)
    clean, combos = hyperband.clean_posteriors(posts, 20, max_combos=50, seed=3)
    assert clean.shape == (50, 4, 23) and len(set(combos)) == 50 and all(len(c) == 20 for c in combos)
    again, same = hyperband.clean_posteriors(posts, 20, max_combos=50, seed=3)
    assert same == combos and np.array_equal(again, clean)  # seeded
    assert np.allclose(clean[0], posts[list(combos[0])].mean(0))
    assert len(hyperband.clean_posteriors(posts[:6], 5, max_combos=50)[1]) == math.comb(6, 5)  # under the cap: all
    with pytest.raises(ValueError, match="max_clean"):
        hyperband.clean_posteriors(np.zeros((40, 4, 23)), 20)  # C(40, 20) ~ 1.4e11 uncapped
    acc, filters = np.array([0.70, 0.72, 0.75, 0.71]), np.array([40, 80, 200, 120])
    lam = hyperband.balanced_lambda(acc, filters)
    assert np.std(lam * filters) == pytest.approx(np.std(acc))
