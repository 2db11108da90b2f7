"""The estimator slot (minas.mi.estimators), the typed options and the bounds: fast, no training."""
import dataclasses
import math

import pytest
import torch

from minas import mi
from minas.core.config import MIConfig, MIOptions
from minas.mi import bounds, critics
from minas.mi.estimators import ESTIMATORS, Estimator


def test_registry_is_explicit_and_flags_are_typed():
    assert set(ESTIMATORS) == {"mine", "mine_fast", "nwj", "infonce", "smile", "ba"}
    assert all(isinstance(e, Estimator) and e.name == n and e.about for n, e in ESTIMATORS.items())
    assert [n for n, e in ESTIMATORS.items() if not e.lower_bound] == ["smile"]
    assert [n for n, e in ESTIMATORS.items() if e.path == "thesis"] == ["mine"]
    assert set(mi.CONTINUOUS_METHODS) == {"mine_fast", "nwj", "infonce", "smile"}
    with pytest.raises(ValueError, match="continuous MI supports"):
        mi.estimate_mi_continuous(torch.randn(20, 2), torch.randn(20, 2), "ba")
    with pytest.raises(ValueError, match="unknown MI method 'bogus'"):
        mi.estimate_mi(torch.randn(20, 2), torch.zeros(20, dtype=torch.long), "bogus")


def _head_terms(seed=0, b=64, k=5):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(b, k, generator=g, requires_grad=True)
    y = torch.randint(0, k, (b,), generator=g)
    p = torch.bincount(y, minlength=k).double() / b
    return scores, y, p.log().float(), float(-(p[p > 0] * p[p > 0].log()).sum())


def test_default_loss_is_minus_bound_and_dv_loss_has_the_bound_gradient():
    scores, y, log_p, h = _head_terms()
    loss, b = ESTIMATORS["nwj"].head_objective(scores, y, log_p, h, MIOptions(), {})
    assert torch.equal(loss, -b)
    # DV's moving-average loss: on the first step the average is the batch partition, so its
    # gradient is exactly the gradient of -bound (the correction only changes later steps)
    loss, b = ESTIMATORS["mine_fast"].head_objective(scores, y, log_p, h, MIOptions(), {})
    g_loss, = torch.autograd.grad(loss, scores, retain_graph=True)
    g_bound, = torch.autograd.grad(-b, scores)
    assert not torch.equal(loss, -b) and torch.allclose(g_loss, g_bound, atol=1e-6)


def test_label_infonce_is_barber_agakov_of_the_prior_shifted_classifier():
    scores, y, log_p, h = _head_terms(1)
    scores = scores.detach()
    infonce = ESTIMATORS["infonce"].head_objective(scores, y, log_p, h, MIOptions(), {})[1]
    ba = ESTIMATORS["ba"].head_objective(scores + log_p, y, log_p, h, MIOptions(), {})[1]
    assert float(infonce) == pytest.approx(float(ba), abs=1e-5)
    assert float(infonce) <= h + 1e-6  # capped at H(y) <= log K


def test_bounds_agree_on_a_known_critic():
    # T = log-density ratio of a 2-class problem with p(y|c) known: DV, NWJ and InfoNCE all equal the MI estimate
    g = torch.Generator().manual_seed(2)
    post = torch.softmax(torch.randn(4000, 2, generator=g) * 2, dim=1)  # (N, 2) p(y|c)
    y = torch.multinomial(post, 1, generator=g).squeeze(1)
    log_p = torch.log(torch.full((2,), 0.5))
    ratio = (post / 0.5).log()  # T(c)_k = log p(k|c) / p(k)
    dv = ESTIMATORS["mine_fast"].head_objective(ratio, y, log_p, math.log(2), MIOptions(), {})[1]
    nwj = ESTIMATORS["nwj"].head_objective(ratio + 1, y, log_p, math.log(2), MIOptions(), {})[1]
    nce = ESTIMATORS["infonce"].head_objective(ratio, y, log_p, math.log(2), MIOptions(), {})[1]
    assert float(dv) == pytest.approx(float(nce), abs=0.02) and float(nwj) == pytest.approx(float(dv), abs=0.03)
    clipped = ESTIMATORS["smile"].head_objective(ratio * 10, y, log_p, math.log(2), MIOptions(clip=0.5), {})[1]
    assert float(clipped) > float(bounds.dv_bound(*bounds.label_scores(ratio * 10, y, log_p)))  # clip shrinks the partition


def test_options_are_one_typed_object_with_one_set_of_defaults():
    opts = mi.options_from_config(MIConfig())
    shared = {k: v for k, v in opts.items() if k != "max_rows"}  # max_rows: the study's own cap (estimator: None = all)
    assert shared == {k: getattr(MIOptions(), k) for k in shared} and set(shared) >= {"batch_size", "lr", "min_epochs"}
    assert opts["max_rows"] == MIConfig().max_rows and MIOptions().max_rows is None
    assert dict(mi.DEFAULTS) == dataclasses.asdict(MIOptions())
    with pytest.raises(ValueError, match="max_epochs"):
        MIOptions(min_epochs=5, max_epochs=2)
    r = mi.estimate_mi(torch.randn(60, 3), torch.arange(60) % 2, "ba", min_epochs=1, max_epochs=1, hidden=8)
    assert isinstance(r.options, MIOptions) and r.options.hidden == 8 and r.options.heldout_curve is True


def test_fit_returns_one_typed_record_per_critic():
    torch.manual_seed(0)
    lin = torch.nn.Linear(2, 2)
    x = torch.randn(40, 2)

    def step(idx):
        out = lin(x[idx])
        b = torch.stack([out[:, 0].mean(), out[:, 1].mean()])
        return -b, b

    fits = critics.fit(list(lin.parameters()), step, 2, 40, MIOptions(batch_size=8, min_epochs=2, max_epochs=3),
                       torch.Generator().manual_seed(0))
    assert len(fits) == 2 and all(isinstance(f, critics.CriticFit) for f in fits)
    assert all(f.epochs == len(f.curve) == 3 and f.reason == "" and f.heldout == [] for f in fits)


def test_stratified_split_keeps_label_proportions():
    from minas.mi import _rows

    y = torch.randint(0, 10, (600,), generator=torch.Generator().manual_seed(3))
    tr, te = _rows.split(600, MIOptions(), seed=0, y=y)
    assert len(te) == 180 and len(tr) == 420 and len(set(tr.tolist()) | set(te.tolist())) == 600
    share = lambda idx: torch.bincount(y[idx], minlength=10).double() / len(idx)  # noqa: E731
    assert (share(tr) - share(te)).abs().max() <= 1.0 / 180 + 1.0 / 420  # at most one row per class off the exact share
    plain_tr, plain_te = _rows.split(600, MIOptions(), seed=0)  # no labels: the old random split
    assert len(plain_te) == 180 and not torch.equal(torch.sort(plain_te).values, torch.sort(te).values)


def test_ba_starts_at_the_prior_and_reads_no_information_from_shuffled_labels():
    g = torch.Generator().manual_seed(0)
    head = critics.HeadCritic((12, 8, 8), 10)
    log_p = torch.log(torch.full((10,), 0.1))
    head.start_at(log_p)
    assert torch.allclose(torch.log_softmax(head(torch.randn(5, 12, 8, 8, generator=g)), 1), log_p.expand(5, 10), atol=1e-6)
    # a wide layer and few rows: a random head overfits at once and BA went far below 0 (-0.82 nats at 120x16x16)
    x, y = torch.randn(300, 40, 8, 8, generator=g), torch.randint(0, 10, (300,), generator=g)
    r = mi.estimate_mi(x, y, "ba", seed=0)
    assert r.ok and abs(r.value) <= 0.03, r.value


def test_stopped_label_head_critics_are_skipped_and_the_numbers_stay(monkeypatch):
    """Issue 32: `fit(skip_done=True)` runs no step or held-out pass of a critic that stopped, and its Adam is the
    multi-tensor one; every layer's value, curves and epochs equal those of the loop before (every critic computed,
    the stopped ones' scores discarded; Adam one tensor at a time), bit for bit."""
    from minas.mi import estimate

    g = torch.Generator().manual_seed(4)
    y = torch.arange(160) % 4
    acts = [(torch.randn(4, 2 * 4 * 4, generator=g)[y] * s + torch.randn(160, 32, generator=g)).reshape(160, 2, 4, 4)
            for s in (0.1, 0.5, 1.0, 2.0)]
    opts = dict(head_min_epochs=2, min_epochs=2, max_epochs=12, patience=2, hidden=16)
    skipped = estimate.estimate_layers(acts, y, method="ba", seed=1, **opts)
    fit = critics.fit

    def every_critic(params, step, m, n, o, gen, evaluate=None, modules=None, ceiling=math.inf, skip_done=False):
        return fit(params, lambda idx: step(idx, [True] * m), m, n, o, gen, evaluate and (lambda: evaluate()),
                   modules, ceiling)

    adam = torch.optim.Adam

    def one_tensor_at_a_time(params, **kw):
        return adam(params, **{**kw, "foreach": False})

    monkeypatch.setattr(estimate.mc, "fit", every_critic)
    monkeypatch.setattr(torch.optim, "Adam", one_tensor_at_a_time)
    full = estimate.estimate_layers(acts, y, method="ba", seed=1, **opts)
    assert len({r.epochs for r in full}) > 1  # some critics stopped before others: there was something to skip
    for a, b in zip(skipped, full):
        assert (a.value, a.epochs, a.curve, a.heldout_curve) == (b.value, b.epochs, b.curve, b.heldout_curve)
