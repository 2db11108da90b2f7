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
