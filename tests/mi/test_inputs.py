"""What the estimators accept: every row by default, a cap when asked, and bad input reported, never a number."""
import math

import pytest
import torch

from minas import mi

torch.set_num_threads(1)
QUICK = {"batch_size": 32, "min_epochs": 1, "max_epochs": 1, "hidden": 8}


def _data(n=300, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    return torch.randn(n, 5, generator=g) + y[:, None].float(), y


def test_every_row_is_used_unless_capped():
    x, y = _data(2500)
    assert mi.estimate_mi(x, y, "ba", **QUICK).rows == 2500  # the old default kept 2,000
    assert mi.estimate_mi(x, y, "ba", max_rows=400, **QUICK).rows == 400
    res = mi.estimate_layers([x, x.reshape(2500, 5, 1, 1)], y, "mine", **QUICK)
    assert [r.rows for r in res] == [2500, 2500] and all(r.ok for r in res)
    assert mi.MIOptions().max_rows is None


@pytest.mark.parametrize("method", ["mine", "infonce"])
def test_bad_data_is_ok_false_with_the_reason(method):
    x, y = _data()
    cases = {
        "nan": (x.clone().index_put_((torch.tensor([4]), torch.tensor([1])), torch.tensor(math.nan)), y, "NaN"),
        "single class": (x, torch.zeros_like(y), "single class"),
        "fewer rows than classes": (x[:6], torch.tensor([0, 1, 2, 3, 4, 9]), "fewer rows (6) than classes (10)"),
    }
    for name, (xc, yc, reason) in cases.items():
        r = mi.estimate_mi(xc, yc, method, **QUICK)
        assert not r.ok and math.isnan(r.value) and reason in r.reason, (name, r)
        layers = mi.estimate_layers([xc, xc], yc, method, **QUICK)
        assert all(not r.ok and math.isnan(r.value) and reason in r.reason for r in layers), name
    r = mi.estimate_mi(x[:20], y[:20], method, n_classes=30, **QUICK)
    assert not r.ok and "fewer rows (20) than classes (30)" in r.reason


def test_wrong_labels_are_a_value_error():
    x, y = _data()
    for bad, match in [(y.float(), "integer class labels"), (y.float() + 0.5, "integer class labels"),
                       (y - 1, "0..K-1"), (y[:-1], "shape"), (y.bool(), "integer class labels")]:
        with pytest.raises(ValueError, match=match):
            mi.estimate_mi(x, bad, "ba", **QUICK)
        with pytest.raises(ValueError, match=match):
            mi.estimate_layers([x], bad, "mine", **QUICK)
    with pytest.raises(ValueError, match="out of range"):
        mi.estimate_mi(x, y, "ba", n_classes=2, **QUICK)
    assert mi.estimate_mi(x, y.to(torch.int32), "ba", **QUICK).ok  # any integer dtype is fine


def test_continuous_bad_input():
    x, _ = _data()
    y = x[:, :2] + torch.randn(300, 2)
    bad = x.clone()
    bad[0, 0] = math.inf
    r = mi.estimate_mi_continuous(bad, y, "infonce", **QUICK)
    assert not r.ok and math.isnan(r.value) and "inf" in r.reason
    r = mi.estimate_mi_continuous(x[:5], y[:5], "infonce", **QUICK)
    assert not r.ok and "too few rows" in r.reason
    with pytest.raises(ValueError, match=r"\(N, Dx\)"):
        mi.estimate_mi_continuous(x, y[:, 0], "infonce", **QUICK)


def test_an_estimate_beyond_log_n_is_reported_as_diverged_not_stored():
    from minas.mi import critics, estimate, estimators

    opts = mi.MIOptions()
    big = estimate._finish(estimators.get("smile"), 3281.0, critics.CriticFit(curve=[1.0]), opts, 0.0, 1000)
    assert not big.ok and math.isnan(big.value) and "exceeds log N = 6.91" in big.reason and "diverged" in big.reason
    fine = estimate._finish(estimators.get("smile"), 4.0, critics.CriticFit(curve=[1.0]), opts, 0.0, 1000)
    assert fine.ok and fine.value == 4.0
