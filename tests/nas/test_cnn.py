"""The CNN: shapes, resumable deterministic training, learning on real digits, activations."""
import pytest
import torch

from minas.core import config
from minas.nas import cnn, recipe
from minas.nas.space import Architecture


def test_shapes_for_1_and_3_channels():
    arch = Architecture((10, 20, 30, 40))
    for c, size, k in ((1, 28, 10), (3, 32, 100), (1, 12, 2)):
        m = cnn.CNN(arch, c, k)
        x = torch.zeros(5, c, size, size)
        assert m(x).shape == (5, k)
        acts = m.features(x)
        assert [a.shape[1] for a in acts] == [10, 20, 30, 40]
        assert acts[0].shape[-1] == size and acts[1].shape[-1] == size // 2 and acts[3].shape[-1] == size // 4


def test_resume_equals_straight_training(cfg, task):
    arch = Architecture((15, 20, 25, 30))
    straight = cnn.train(task, arch, 3, seed=7, train_cfg=cfg.train)
    first = cnn.train(task, arch, 1, seed=7, train_cfg=cfg.train)
    resumed = cnn.train(task, arch, 3, seed=7, train_cfg=cfg.train, resume=first.state)
    assert resumed.accuracy == straight.accuracy
    for k, v in straight.state.model.items():
        assert torch.equal(v, resumed.state.model[k]), k
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]


def test_seed_changes_result_and_same_seed_repeats(cfg, task):
    arch = Architecture((10, 10, 10, 10))
    a = cnn.train(task, arch, 1, seed=1, train_cfg=cfg.train)
    b = cnn.train(task, arch, 1, seed=1, train_cfg=cfg.train)
    c = cnn.train(task, arch, 1, seed=2, train_cfg=cfg.train)
    assert a.test_loss == b.test_loss and a.test_loss != c.test_loss


def test_learns_real_digits(cfg, task):
    res = cnn.train(task, Architecture((30, 30, 30, 30)), 6, seed=0, train_cfg=cfg.train)
    assert res.accuracy > 0.5  # chance is 0.1
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def test_convergence_rule_stops_and_keeps_best(cfg, task):
    tcfg = config.load("smoke", **{"train.max_epochs": 30, "train.patience": 2}).train
    res, model = cnn.train_to_convergence(task, Architecture((20, 20, 20, 20)), 0, tcfg)
    vals = [h["val_loss"] for h in res.history]
    assert len(vals) < 30 or min(vals) == vals[-1]
    assert res.epochs == 1 + vals.index(min(vals))
    acts = cnn.activations(model, task.x_test[:7])
    assert [a.shape for a in acts][0] == (7, 20, task.image_size, task.image_size)
    assert all(a.min() >= 0 for a in acts)  # after ReLU


def test_bad_epochs(cfg, task):
    with pytest.raises(ValueError, match="epochs"):
        cnn.train(task, Architecture((10, 10, 10, 10)), 0, seed=0, train_cfg=cfg.train)


def test_rung_cosine_decays_within_a_call_and_restores_the_base_rate(task):
    model = cnn.new_model(Architecture((10, 10, 10, 10)), task.in_channels, task.n_classes, 0, torch.device("cpu"))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    seen = []
    opt.step = (lambda step: lambda *a, **k: (seen.append(opt.param_groups[0]["lr"]), step(*a, **k))[1])(opt.step)
    x = recipe.prepare(task.x_train[:64], torch.device("cpu"))
    cnn.run_epochs(model, opt, x, task.y_train[:64], 0, 2, 0, 16, schedule="rung_cosine")
    assert seen[0] == pytest.approx(0.05) and seen[-1] < 0.005 and all(a >= b for a, b in zip(seen, seen[1:]))
    assert len(seen) == 8 and opt.param_groups[0]["lr"] == 0.05


def test_bf16_training_is_mixed_precision_close_to_fp32_and_resumable(task):
    """bf16 autocasts the convolutions (results differ from fp32) yet learns alike; weights stay fp32."""
    arch = Architecture((15, 20, 25, 30))
    fp32 = config.load("smoke", **{"train.precision": "fp32"}).train
    bf16 = config.load("smoke", **{"train.precision": "bf16"}).train
    a = cnn.train(task, arch, 3, seed=3, train_cfg=fp32)
    b = cnn.train(task, arch, 3, seed=3, train_cfg=bf16)
    assert all(v.dtype == torch.float32 for v in b.state.model.values() if v.is_floating_point())
    la, lb = [h["train_loss"] for h in a.history], [h["train_loss"] for h in b.history]
    assert la != lb  # autocast was on
    assert all(abs(x - y) < 0.15 * x for x, y in zip(la, lb)), (la, lb)
    assert abs(a.accuracy - b.accuracy) < 0.1
    first = cnn.train(task, arch, 1, seed=3, train_cfg=bf16)
    resumed = cnn.train(task, arch, 3, seed=3, train_cfg=bf16, resume=first.state)
    assert resumed.accuracy == b.accuracy  # deterministic in bf16 too
