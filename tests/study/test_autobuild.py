"""AutoBuild-style importance: the within-group rank loss and recovery of planted best options."""
import numpy as np
import pandas as pd
import torch

from minas.nas.space import N_LAYERS, N_OPTIONS, from_indices
from minas.study import autobuild


def test_rank_loss_rewards_correct_order():
    target = torch.tensor([3.0, 2.0, 1.0, 0.0, 5.0, 4.0])
    group = torch.tensor([0, 0, 0, 0, 1, 1])
    right = autobuild.rank_loss(target * 2, target, group)
    wrong = autobuild.rank_loss(-target * 2, target, group)
    assert right < wrong
    # groups are never compared with each other: shifting one group's predictions changes nothing
    shifted = target * 2 + torch.tensor([0, 0, 0, 0, -100.0, -100.0])
    assert torch.isclose(right, autobuild.rank_loss(shifted, target, group))
    assert len(autobuild.rank_pairs(target, group)) == 6 + 1


def test_importance_recovers_planted_best_option():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    best = np.array([4, 17, 9, 12])
    util = rng.uniform(0, 0.4, size=(N_LAYERS, N_OPTIONS))
    util[np.arange(N_LAYERS), best] = 1.0
    rows = []
    for inst in range(80):
        idx = rng.integers(0, N_OPTIONS, size=(12, N_LAYERS))
        for r in idx:
            s = util[np.arange(N_LAYERS), r].sum() + rng.normal(0, 0.05)
            rows.append({"task": "t", "sample": inst, "rung": 0, "arch": from_indices(r).id, "score": s})
    data = autobuild.chain_data(pd.DataFrame(rows))
    model, curve = autobuild.train_importance(data, epochs=200, seed=0)
    assert curve[-1] < curve[0]
    imp = autobuild.node_importance(model)
    assert (imp.argmax(axis=1) == best).all(), imp.argmax(axis=1)
    assert autobuild.build(imp) == from_indices(best).id
    dist = autobuild.distribution(imp, 0.1)
    assert np.allclose(dist.sum(axis=1), 1) and (dist.argmax(axis=1) == best).all()
