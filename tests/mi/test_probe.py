"""Linear-probe accuracy: high on separable features, chance on shuffled labels."""
import torch

from minas.mi import probe


def test_probe_separable_vs_shuffled():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(400) % 4
    means = torch.randn(4, 8, generator=g) * 4
    x = (means[y] + torch.randn(400, 8, generator=g)).reshape(400, 2, 2, 2)  # image-shaped
    noise = torch.randn(400, 3, 4, 4, generator=g)
    acc = probe.probe_accuracy([x, noise], y, seed=1)
    assert acc[0] > 0.9
    assert acc[1] < 0.45  # chance is 0.25
    assert probe.probe_accuracy([x], y, seed=1) == acc[:1]  # deterministic


def test_fano_floor_with_the_errors_margin_is_lower():
    import math

    g = torch.Generator().manual_seed(2)
    y = torch.arange(300) % 3
    x = (torch.randn(3, 6, generator=g)[y] * 1.5 + torch.randn(300, 6, generator=g)).reshape(300, 6, 1, 1)
    u = probe.usable_information([x], y, "linear", seed=0, steps=60)[0]
    n_te = round(0.3 * 300)
    assert u.error_se == __import__("pytest").approx(math.sqrt(u.error * (1 - u.error) / n_te))
    assert 0 < u.error < 2 / 3 and u.fano_floor_low < u.fano_floor  # the margin lowers the provable floor
    assert u.fano_floor_low == __import__("pytest").approx(probe.fano_floor(u.error + 1.96 * u.error_se, 3, None), abs=0.05)


def test_the_probe_and_usable_information_leave_torch_global_generator_as_it_was():
    acts, y = [torch.randn(120, 4, 6, 6)], torch.randint(0, 3, (120,))
    torch.manual_seed(7)
    expected = torch.rand(1)
    torch.manual_seed(7)
    probe.probe_accuracy(acts, y, seed=5)
    probe.usable_information(acts, y, "mlp", seed=5)
    assert torch.equal(torch.rand(1), expected)  # ARCHITECTURE.md: library code never seeds the global generator
