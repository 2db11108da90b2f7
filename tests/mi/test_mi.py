"""MI estimators (minas.mi) against known truths (minas.mi.known): small problems, CPU, seeded."""
import math

import numpy as np
import pytest
import torch

from minas import mi
from minas.mi import critics, known, validation

torch.set_num_threads(1)
FAST = dict(batch_size=64, lr=3e-3, min_epochs=8, max_epochs=30, threshold=0.005)
TOL = {"mine": 0.35, "mine_fast": 0.3, "nwj": 0.35, "infonce": 0.25, "smile": 0.3, "ba": 0.25}  # nats, K=4
TOL_OVERLAP = 0.12  # nats, 2-class overlapping mixture (truth ~0.22)
TOL_ZERO = 0.1  # nats, shuffled labels
SLACK = 0.05  # nats above log K allowed on held-out rows (finite-sample noise)


@pytest.fixture(scope="module")
def mix4():
    return known.gaussian_mixture(1000, k=4, dim=10, sep=6.0, seed=1)


@pytest.fixture(scope="module")
def mix2():
    return known.gaussian_mixture(1000, k=2, dim=10, sep=1.5, seed=1)


def test_mixture_truths_are_sane(mix4, mix2):
    assert mix4.truth == pytest.approx(math.log(4), abs=0.05)  # well separated: near the ceiling
    assert 0.1 < mix2.truth < 0.35
    assert known.gaussian_mixture(50, k=2, dim=10, sep=1.5, seed=2).truth == pytest.approx(mix2.truth)


@pytest.mark.parametrize("method", sorted(mi.ESTIMATORS))
def test_estimators_near_known_mi(method, mix4):
    r = mi.estimate_mi(mix4.x, mix4.y, method, seed=0, **FAST)
    assert r.ok, r.reason
    assert abs(r.value - mix4.truth) < TOL[method], (method, r.value, mix4.truth)
    floor = FAST["min_epochs"] if mi.ESTIMATORS[method].path == "thesis" else mi.DEFAULTS["head_min_epochs"]  # head: then patience
    assert len(r.curve) == r.epochs >= floor


@pytest.mark.parametrize("method", ["mine_fast", "infonce", "smile", "ba"])
def test_overlapping_mixture(method, mix2):
    r = mi.estimate_mi(mix2.x, mix2.y, method, seed=0, **FAST)
    assert r.ok and abs(r.value - mix2.truth) < TOL_OVERLAP, (method, r.value, mix2.truth)


@pytest.mark.parametrize("method", sorted(mi.ESTIMATORS))
def test_shuffled_labels_give_zero(method, mix4):
    r = mi.estimate_mi(mix4.x, known.shuffled(mix4).y, method, seed=0, **FAST)
    assert r.ok and abs(r.value) < TOL_ZERO, (method, r.value)


@pytest.mark.parametrize("method", ["mine_fast", "infonce", "ba", "smile"])
def test_never_above_log_k(method):
    task = known.gaussian_mixture(800, k=4, dim=10, sep=12.0, seed=3)  # truth = log 4 to 1e-3
    r = mi.estimate_mi(task.x, task.y, method, seed=0, **FAST)
    assert r.ok and r.value <= math.log(4) + SLACK, (method, r.value)


def test_divergence_is_reported_not_a_number(mix4):
    r = mi.estimate_mi(mix4.x, mix4.y, "mine_fast", seed=0, lr=1e7, min_epochs=2, max_epochs=4)
    assert not r.ok and math.isnan(r.value) and "diverged" in r.reason
    x = mix4.x.clone()
    x[3, 2] = float("inf")
    r = mi.estimate_mi(x, mix4.y, "mine", seed=0, **FAST)
    assert not r.ok and math.isnan(r.value) and "inf" in r.reason
    acts = [torch.randn(100, 3, 4, 4), x[:100].reshape(100, 10, 1, 1)]
    res = mi.estimate_layers(acts, mix4.y[:100], "ba", seed=0, min_epochs=1, max_epochs=2)
    assert res[0].ok and not res[1].ok


@pytest.mark.parametrize("layer", [1, 2, 3, 4])
def test_thesis_critic_has_L_minus_i_convs(layer):
    critic = mi.thesis_critic(in_channels=8, n_classes=10, layer=layer, n_layers=4)
    assert len(critic.convs) == 4 - layer
    assert all(c.out_channels == 32 and c.kernel_size == (3, 3) for c in critic.convs)
    out = critic(torch.randn(5, 8, 6, 6), torch.arange(5))
    assert out.shape == (5,)


def test_warm_start_copies_matching_layers():
    a = mi.thesis_critic(8, 10, layer=1, n_layers=4)  # 3 convs
    b = mi.thesis_critic(16, 10, layer=2, n_layers=4)  # 2 convs
    copied = critics.warm_start(b, a)
    assert torch.equal(b.convs[-1].weight, a.convs[-1].weight) and torch.equal(b.fc.weight, a.fc.weight)
    assert b.convs[0].weight.shape != a.convs[0].weight.shape and len(copied) == 3  # last conv, fc, out


def test_deterministic_given_seed(mix2):
    for method in ("mine", "mine_fast"):
        a = mi.estimate_mi(mix2.x, mix2.y, method, seed=5, min_epochs=3, max_epochs=3)
        b = mi.estimate_mi(mix2.x, mix2.y, method, seed=5, min_epochs=3, max_epochs=3)
        c = mi.estimate_mi(mix2.x, mix2.y, method, seed=6, min_epochs=3, max_epochs=3)
        assert a.value == b.value and a.curve == b.curve and a.value != c.value


def test_estimate_layers_both_paths():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (300,), generator=g)
    acts = [torch.randn(300, c, s, s, generator=g) + y[:, None, None, None] * (i + 1) * 0.5
            for i, (c, s) in enumerate([(4, 6), (6, 4), (8, 2), (8, 1)])]
    for method in ("mine", "mine_fast"):
        res = mi.estimate_layers(acts, y, method, seed=0, batch_size=32, lr=3e-3, min_epochs=8, max_epochs=10)
        assert len(res) == 4 and all(r.ok and r.method == method for r in res)
        assert res[3].value > 0.3  # strongly informative last layer (truth near log 3 = 1.1)


def test_continuous_gaussians():
    task = known.correlated_gaussians(1000, dim=5, mi_nats=1.0, seed=0)
    r = mi.estimate_mi_continuous(task.x, task.y, "infonce", seed=0, batch_size=64, hidden=64, **{
        k: FAST[k] for k in ("lr", "min_epochs", "max_epochs")})
    assert r.ok and abs(r.value - 1.0) < 0.35, r.value


def test_standardize_and_options():
    ref = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 5.0, 8.0]])
    z = mi.standardize(np.array([[2.0, 2.0, 4.0, 6.0]]), ref)
    assert np.allclose(z, 0.0)  # the reference mean; constant layer 2 hits the std floor, not /0
    assert np.allclose(mi.standardize(ref, ref)[:, 0], [-1, 1])
    from minas.core.config import MIConfig
    opts = mi.options_from_config(MIConfig())
    assert opts["min_epochs"] == 18 and set(opts) <= set(mi.DEFAULTS)
    with pytest.raises(ValueError, match="unknown MI option"):
        mi.estimate_mi(torch.randn(10, 2), torch.zeros(10, dtype=torch.long), "ba", bogus=1)


def test_validation_suite_sizes_come_from_config():
    import minas
    cfg = minas.load("smoke", **{"mi.validation_rows": 120, "mi.validation_seeds": 2})
    for name, task in known.SUITE.items():
        assert len(task.build(120, seed=0, image_size=cfg.data.image_size).y) == 120, name
    runs = validation.validation_suite(cfg, methods=["ba"], tasks=["mix2_overlap"], min_epochs=1, max_epochs=2)
    assert list(runs["seed"]) == [0, 1] and runs["ok"].all() and set(runs["task"]) == {"mix2_overlap"}
