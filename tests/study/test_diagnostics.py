"""A collection's diagnostics (minas.study.collection.diagnostics) on hand-built brackets and posteriors."""
import numpy as np
import pandas as pd
import pytest

from minas.study.collection import Collected, lambda_effect, noise_levels


def _collected(brackets=None, posteriors=None) -> Collected:
    samples = pd.DataFrame({"task": ["t", "u"], "split": ["train", "test"]})
    return Collected(samples, posteriors or {}, brackets if brackets is not None else pd.DataFrame(), samples, [])


def _instance(sample: int, scores: list[float], survivor: str) -> list[dict]:
    rows = [{"task": "t", "sample": sample, "rung": 0, "arch": a, "accuracy": acc, "score": s}
            for a, acc, s in zip("abc", (0.9, 0.8, 0.7), scores)]
    acc = dict(zip("abc", (0.9, 0.8, 0.7)))[survivor]
    return rows + [{"task": "t", "sample": sample, "rung": 1, "arch": survivor, "accuracy": acc, "score": acc}]


def test_lambda_effect_counts_instances_whose_penalty_changed_the_survivor():
    # instance 0: the penalty (accuracy - score) of 0.4 on a lets b through; instance 1: 0.1 on every input, a wins
    b = pd.DataFrame(_instance(0, [0.5, 0.8, 0.7], "b") + _instance(1, [0.8, 0.7, 0.6], "a"))
    eff = lambda_effect(_collected(b), lam=1.0)
    assert eff["changed_share"] == 0.5
    assert eff["acc_std"] == pytest.approx(0.1, abs=1e-12)  # sd of 0.9, 0.8, 0.7 in both instances
    assert eff["penalty_std"] == pytest.approx(np.std([0.4, 0.0, 0.0], ddof=1) / 2, abs=1e-12)  # (sd, 0) averaged
    assert all(np.isnan(v) for v in lambda_effect(_collected(), 1.0).values())  # no brackets: nothing to say


def test_noise_levels_of_identical_and_of_opposite_posteriors():
    one = np.zeros((1, 4, 23))
    one[..., 0] = 1.0
    other = np.zeros((1, 4, 23))
    other[..., 1] = 1.0
    same = np.repeat(one, 3, axis=0)  # three identical posteriors: no noise
    mixed = np.concatenate([one, other])  # two posteriors that disagree everywhere they are not 0
    table = noise_levels(_collected(posteriors={"t": same, "u": mixed}), k=1).set_index("task")
    assert table.loc["t", "dirty"] == 0.0 and table.loc["t", "n_posteriors"] == 3
    assert table.loc["u", "split"] == "test" and table.loc["u", "dirty"] == pytest.approx(8 / 92)  # 2 of 23 per layer differ by 1
