"""Training-free proxies against answers counted by hand, and their failures as results."""
import math

import pytest
import torch
from torch import nn

from minas.core.registry import SIGNALS, SignalInput
from minas.nas import cnn, proxies
from minas.nas.space import Architecture

ARCH = Architecture((10, 15, 20, 25))


def _cnn(arch=ARCH, in_channels=1, n_classes=10, seed=0) -> cnn.CNN:
    return cnn.new_model(arch, in_channels, n_classes, seed, torch.device("cpu"))


def _batch(n=16, side=8, in_channels=1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, in_channels, side, side), generator=gen, dtype=torch.uint8)
    return x, torch.randint(0, 10, (n,), generator=gen)


def _linear(w1, w2) -> nn.Sequential:
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w1))
        net[1].weight.copy_(torch.tensor(w2))
    return net


def test_synflow_of_a_tiny_linear_network():
    # |W2| |W1| 1 = [1, 2] . [1 + 2, 3 + 4] = 3 + 14 = 17, and each layer's sum(theta * dR/dtheta) is R
    net = _linear([[1.0, -2.0], [3.0, 4.0]], [[-1.0, 2.0]])
    assert proxies.synflow_scores(net, ["0.weight", "1.weight"], (2,)) == pytest.approx([17.0, 17.0], rel=1e-12)
    assert net[0].weight[0, 1].item() == -2.0  # the caller's network keeps its signs


def test_synflow_is_conserved_across_the_layers_of_a_bias_free_cnn():
    model = _cnn()
    with torch.no_grad():
        model.head.bias.zero_()  # with every bias 0, R is homogeneous of degree 1 in each layer's weights
    scores = proxies.synflow_scores(model, proxies.CONV_WEIGHTS, (1, 8, 8))
    assert scores[0] > 0
    assert scores == pytest.approx([scores[0]] * 4, rel=1e-9)


def test_synflow_overflow_is_a_failure_with_its_reason():
    model = _cnn()
    with torch.no_grad():
        for conv in model.convs:
            conv.weight.mul_(1e100)  # R ~ (1e100)^4 overflows even float64
    x, y = _batch()
    values = SIGNALS.get("synflow").compute(SignalInput(model, x, y, 10), seed=0)
    assert [v.layer for v in values] == [1, 2, 3, 4]
    assert all(not v.ok and v.value is None for v in values)
    assert "overflowed float64" in values[0].reason


def test_snip_of_a_tiny_linear_network_by_hand():
    # one input, two logits (w0 x, w1 x) = (1, -1) for class 0
    net = nn.Sequential(nn.Linear(1, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
    x, y = torch.tensor([[1.0]]), torch.tensor([0])
    # logits (1, -1): p0 = 1/(1+e^-2); dL/dlogit = p - onehot = (p0 - 1, 1 - p0); dL/dW = that * x
    q = 1.0 - 1.0 / (1.0 + math.exp(-2.0))
    assert proxies.snip_scores(net, ["0.weight"], x, y) == pytest.approx([2 * q])
    assert proxies.grad_norm_scores(net, ["0.weight"], x, y) == pytest.approx([math.sqrt(2) * q])


def test_grad_norm_of_a_network_with_a_zeroed_layer_is_zero_everywhere():
    x, y = _batch()
    model = _cnn()
    intact = SIGNALS.get("grad_norm").compute(SignalInput(model, x, y, 10), seed=0)
    assert all(v.ok and v.value > 0 for v in intact)
    with torch.no_grad():
        model.convs[1].weight.zero_()  # layer 2 outputs 0, ReLU'(0) = 0: no gradient reaches any conv
    zeroed = SIGNALS.get("grad_norm").compute(SignalInput(model, x, y, 10), seed=0)
    assert [v.value for v in zeroed] == [0.0, 0.0, 0.0, 0.0]


def test_naswot_kernel_counts_agreements_and_its_log_det():
    codes = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert proxies.naswot_kernel(codes).tolist() == [[3.0, 2.0], [2.0, 3.0]]
    assert proxies.naswot_score(codes) == pytest.approx(math.log(9 - 4))


def test_naswot_of_two_identical_inputs_is_a_singular_kernel():
    assert proxies.naswot_score(torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])) == -math.inf
    x, y = _batch(n=2)
    x[1] = x[0]  # two identical rows: identical activation codes at every layer
    (v,) = SIGNALS.get("naswot").compute(SignalInput(_cnn(), x, y, 10), seed=0)
    assert v.layer == 0 and not v.ok and v.value is None
    assert "singular" in v.reason


def test_jacob_cov_of_a_constant_jacobian_is_a_failure():
    model = _cnn()
    x, y = _batch()
    (ok,) = SIGNALS.get("jacob_cov").compute(SignalInput(model, x, y, 10), seed=0)
    assert ok.ok and math.isfinite(ok.value)
    with torch.no_grad():
        model.head.weight.zero_()  # the output no longer depends on the input: every Jacobian row is 0
    (bad,) = SIGNALS.get("jacob_cov").compute(SignalInput(model, x, y, 10), seed=0)
    assert not bad.ok and bad.value is None and "constant" in bad.reason


def test_params_and_flops_of_one_architecture_counted_by_hand():
    # convs 9 * (1*10 + 10*15 + 15*20 + 20*25) = 8640; BatchNorm 2 * 70 = 140; head 25*10 + 10 = 260
    x, y = _batch(side=16)
    inp = SignalInput(_cnn(), x, y, 10)
    (params,) = SIGNALS.get("params").compute(inp, seed=0)
    assert (params.layer, params.value) == (0, 8640 + 140 + 260)
    # 2 * 9 * side^2 * c_in * c_out at sides 16, 8, 4, 4 (pools before layers 2 and 3)
    flops = 2 * 9 * (16 * 16 * 1 * 10 + 8 * 8 * 10 * 15 + 4 * 4 * 15 * 20 + 4 * 4 * 20 * 25)
    assert SIGNALS.get("flops").compute(inp, seed=0)[0].value == flops == 449280


def test_every_proxy_is_registered_training_free_and_repeatable():
    x, y = _batch()
    model = _cnn(Architecture((10, 10, 10, 10)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for p in proxies.PROXIES:
        sig = SIGNALS.get(p.name)
        assert sig.needs_training is False
        first = sig.compute(SignalInput(model, x, y, 10), seed=0)
        again = sig.compute(SignalInput(model, x, y, 10), seed=0)
        assert [v.layer for v in first] == ([1, 2, 3, 4] if sig.per_layer else [0])
        assert all(v.ok and math.isfinite(v.value) for v in first), p.name
        assert [v.value for v in first] == [v.value for v in again], p.name
    # no proxy changes the network it reads (weights, signs, BatchNorm statistics)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_the_collection_stores_proxies_from_a_fresh_seeded_network(tmp_path):
    """input_sample: proxies beside MI in the same rows, read at initialisation, identical on a resumed rerun."""
    from minas.core import config
    from minas.study import jobs

    tiny = {"data.tasks": ["digits8"], "data.max_train_per_task": 80, "train.max_epochs": 1}
    cfg = config.load("smoke", output_dir=str(tmp_path), **tiny)
    task = "digits8"
    first = jobs.input_sample(cfg, task, ARCH.id, ("params", "grad_norm"))
    again = jobs.input_sample(cfg, task, ARCH.id, ("params", "grad_norm"))  # resumed from the checkpoint
    rows = {(r["method"], r["layer"]): r for r in first["mi"]}
    assert sorted(rows) == [("grad_norm", l) for l in (1, 2, 3, 4)] + [("params", 0)]
    assert rows[("params", 0)]["value"] == 9040 and rows[("params", 0)]["ok"] == 1
    assert [r["value"] for r in first["mi"]] == [r["value"] for r in again["mi"]]
    # grad_norm read the initialised network of its own seed on the task's fixed batch, not the trained one
    from minas import data

    t = data.get_task(cfg, task)
    sig = SIGNALS.get("grad_norm")
    inp = jobs.init_input(cfg, t, ARCH, sig.seed_for(cfg.seed, task, ARCH.id), "cpu")
    assert [v.value for v in sig.compute(inp, 0)] == [rows[("grad_norm", l)]["value"] for l in (1, 2, 3, 4)]
    assert len(inp.x) == min(cfg.train.batch_size, t.n_train)
