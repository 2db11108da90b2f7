"""The training recipe: schedule, batch order, epoch loop, validation split and early stopping, on known values."""
import math

import pytest
import torch

from minas.nas import cnn, recipe
from minas.nas.space import Architecture


def test_rung_cosine_runs_from_the_base_rate_to_zero_and_constant_stays():
    assert recipe.learning_rate("constant", 0.05, 7, 10) == 0.05
    assert recipe.learning_rate("rung_cosine", 0.05, 0, 10) == 0.05
    assert recipe.learning_rate("rung_cosine", 0.05, 10, 10) == 0.0
    assert recipe.learning_rate("rung_cosine", 0.05, 5, 10) == pytest.approx(0.025, abs=1e-15)
    assert recipe.learning_rate("rung_cosine", 0.04, 2, 6) == pytest.approx(0.02 * (1 + math.cos(math.pi / 3)), abs=1e-15)


def test_steps_per_epoch_skip_a_last_batch_of_one_row():
    assert recipe.steps_per_epoch(130, 64) == 3  # 64, 64, 2
    assert recipe.steps_per_epoch(129, 64) == 2  # 64, 64, (1 skipped)
    assert recipe.steps_per_epoch(1, 64) == 0


def test_batch_order_is_a_permutation_fixed_by_seed_and_epoch_alone():
    a = recipe.batch_order(3, 1, 50, torch.device("cpu"))
    torch.manual_seed(123)  # the global generator plays no part
    assert torch.equal(a, recipe.batch_order(3, 1, 50, torch.device("cpu")))
    assert sorted(a.tolist()) == list(range(50))
    assert not torch.equal(a, recipe.batch_order(3, 2, 50, torch.device("cpu")))
    assert not torch.equal(a, recipe.batch_order(4, 1, 50, torch.device("cpu")))


def test_epoch_loop_regroups_when_a_network_is_done_and_gives_each_its_rows_and_rates():
    """Networks of 2, 1 and 0 epochs: the group shrinks after epoch 1 and is closed with [] at the end; every
    network sees its own seed's batch order and its own cosine over its own steps."""
    n, bs, starts, ends, seeds, base = 9, 4, [0, 3, 5], [2, 4, 5], [0, 1, 2], [0.1, 0.2, 0.3]
    groups, calls = [], []

    def group(active):
        groups.append(list(active))

        def step(idx, lrs):
            calls.append((list(active), [i.clone() for i in idx], lrs))
            return torch.ones(len(active))
        return step

    losses = recipe.epoch_loop(group, n, starts, ends, seeds, base, bs, "rung_cosine", torch.device("cpu"))
    assert groups == [[0, 1], [0], []]
    assert losses == [[8 / 9, 8 / 9], [8 / 9], []]  # two batches of 4 rows each epoch; the ninth row alone is skipped
    assert len(calls) == 2 + 2
    for k, (active, idx, lrs) in enumerate(calls):
        t, step = divmod(k, 2)
        for j, i, lr in zip(active, idx, lrs):
            total = 2 * (ends[j] - starts[j])
            assert torch.equal(i, recipe.batch_order(seeds[j], starts[j] + t, n, torch.device("cpu"))[step * bs:(step + 1) * bs])
            assert lr == recipe.learning_rate("rung_cosine", base[j], 2 * t + step, total)
    assert calls[1][2][1] == pytest.approx(0.1)  # network 1: step 1 of 2, half way down: 0.2 / 2


def test_validation_split_holds_out_a_seeded_fraction(task):
    fit, val = recipe.validation_split(task, 0, 0.15, torch.device("cpu"))
    assert len(val) == round(0.15 * task.n_train) and len(fit) + len(val) == task.n_train
    assert sorted(torch.cat([fit, val]).tolist()) == list(range(task.n_train))
    assert not torch.equal(val, recipe.validation_split(task, 1, 0.15, torch.device("cpu"))[1])
    assert len(recipe.validation_split(task, 0, 0.0, torch.device("cpu"))[1]) == 2  # at least two rows


def test_early_stopping_waits_patience_epochs_and_keeps_the_best_weights():
    model = torch.nn.Linear(1, 1, bias=False)
    stop = recipe.EarlyStopping(patience=2)
    decisions = []
    for epoch, loss in enumerate([1.0, 0.9, 0.89995, 0.91], start=1):  # 0.89995: better by less than MIN_DELTA
        with torch.no_grad():
            model.weight.fill_(epoch)
        decisions.append(stop.stop(epoch, loss, model))
    assert decisions == [False, False, False, True]
    assert (stop.epoch, stop.best) == (2, 0.9) and stop.state["weight"].item() == 2.0


def test_one_network_steps_one_parameter_group(task):
    model = cnn.new_model(Architecture((10, 10, 10, 10)), task.in_channels, task.n_classes, 0, torch.device("cpu"))
    opt = torch.optim.SGD([{"params": model.convs.parameters()}, {"params": model.head.parameters()}], lr=0.1)
    x = recipe.prepare(task.x_train[:8], torch.device("cpu"))
    with pytest.raises(ValueError, match="one parameter group"):
        cnn.run_epochs(model, opt, x, task.y_train[:8], 0, 1, 0, 4)


def test_engines_share_the_recipe_and_name_themselves(cfg, task):
    """cnn.train is the recipe run by the one-at-a-time engine: same numbers as calling the recipe with it."""
    arch = Architecture((10, 15, 10, 10))
    (direct,) = recipe.train(cnn.ONE_AT_A_TIME, task, [arch], 1, 4, cfg.train)
    wrapped = cnn.train(task, arch, 1, 4, cfg.train)
    assert (direct.engine, wrapped.accuracy, wrapped.test_loss) == ("cnn", direct.accuracy, direct.test_loss)
    assert all(torch.equal(v, wrapped.state.model[k]) for k, v in direct.state.model.items())
