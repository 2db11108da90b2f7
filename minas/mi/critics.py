"""Critics of `minas.mi` and the loop that trains them.

Sources: the thesis critic T(c, y) (Kossmann 2019, section 2.1.1 and A.2; MINE, Belghazi et al.
2018); the label-head critic T(c) -> R^K, whose one forward pass scores c against every class
(the discrete-label form of the separable critics surveyed by Poole et al. 2019); the pair
critic for continuous y. The bounds they are trained on live in `minas.mi.bounds`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from minas.core.config import MIOptions


class ThesisCritic(nn.Module):
    """The thesis MINE critic T(c, y) -> R: n_conv 3x3 convs of 32 (ReLU), spatial mean, FC, scalar.

    The label enters as a one-hot map broadcast over the spatial dims and concatenated to the
    activation channels, so every conv layer sees (c, y) jointly. Flat inputs (B, D) are run as
    (B, D, 1, 1) with n_conv = 0: an MLP on [c, onehot(y)] with one hidden layer.
    """

    def __init__(self, in_channels: int, n_classes: int, n_conv: int, width: int = 32, hidden: int = 64):
        super().__init__()
        self.n_classes = n_classes
        chans = [in_channels + n_classes] + [width] * n_conv
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(chans[:-1], chans[1:]))
        self.fc = nn.Linear(chans[-1], hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, c: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # (B, C, H, W), (B,) -> (B,)
        b, _, h, w = c.shape
        onehot = F.one_hot(y, self.n_classes).to(c.dtype)[:, :, None, None].expand(b, self.n_classes, h, w)
        z = torch.cat([c, onehot], dim=1)
        for conv in self.convs:
            z = F.relu(conv(z))
        z = z.mean(dim=(2, 3))  # (B, width)
        return self.out(F.relu(self.fc(z))).squeeze(1)


def warm_start(dst: ThesisCritic, src: ThesisCritic) -> list[str]:
    """Copy into `dst` every parameter of `src` whose shape matches, convs aligned from the end.

    Layer i's critic has one conv more than layer i+1's; their last convs (32 -> 32), the FC
    and the output layer line up; the first conv (and the FC when there is no conv) reads the
    layer's own channels and transfers only when the channel counts agree. Returns the names copied.
    """
    copied = []
    pairs = list(zip(reversed(dst.convs), reversed(src.convs)))
    pairs += [(dst.fc, src.fc), (dst.out, src.out)]
    with torch.no_grad():
        for i, (d, s) in enumerate(pairs):
            if d.weight.shape == s.weight.shape:
                d.weight.copy_(s.weight)
                d.bias.copy_(s.bias)
                copied.append(f"pair{i}:{type(d).__name__}{tuple(d.weight.shape)}")
    return copied


HEAD_STEMS = ("linear", "pca", "conv3", "conv1", "pool")  # first stage of the label head on (C, H, W) maps


class HeadCritic(nn.Module):
    """Label-head critic T(c) -> R^K: one forward pass scores c against every class.

    A first stage reads (C, H, W) maps, then a 2-hidden-layer MLP gives the K scores. Stems:
    `conv3` / `conv1`: a learned 3x3 / 1x1 conv of `width` channels (ReLU) at full resolution,
    then average-pooling to at most pool x pool; `linear`: the MLP's first layer reads the whole
    flattened map; `pool`: average-pool first, nothing learned before it (the old design, which
    loses information spread over pixels). Flat inputs (D,) go straight to the MLP whatever the
    stem. Also serves as the classifier q(y|c) of the BA bound. The default, `linear`, was chosen on
    known-MI Gaussian mixtures (K = 2, 4, 10) shown as 1x16x16 and 16x8x8 maps, infonce, 2 seeds: mean
    |error| 0.08 / 0.02 nats at 600 / 2,000 rows, against conv3 0.23 / 0.05, conv1 0.38 / 0.11 and
    pool 0.41 / 0.09; at 96x16x16 all four were within 0.05 of each other. `pca` (the leading principal
    components of the training rows, then the MLP) is faster on big maps but measured 0.2-0.5 nats lower
    than `linear` on the same problems (K = 2 and 10, flat and 10x16x16 networks, 600 rows), so it stays an option.
    """

    def __init__(self, in_shape: tuple[int, ...], n_classes: int, hidden: int = 128, pool: int = 4,
                 stem: str = "linear", width: int = 32):
        super().__init__()
        if stem not in HEAD_STEMS:
            raise ValueError(f"unknown head stem {stem!r}; choose one of {HEAD_STEMS}")
        self.pool, self.stem = pool, None
        if len(in_shape) == 3:
            c, h, w = in_shape
            cells = min(pool, h) * min(pool, w)
            if stem in ("conv3", "conv1"):
                k = 3 if stem == "conv3" else 1
                self.stem = nn.Sequential(nn.Conv2d(c, width, k, padding=k // 2), nn.ReLU())
                in_dim = width * cells
            else:
                in_dim = c * h * w if stem == "linear" else c * cells
                self.pool = None if stem == "linear" else pool
        else:
            in_dim = in_shape[0]
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def start_at(self, log_prior: torch.Tensor) -> None:
        """Score every input as the label prior: last layer's weights 0, its bias log p(y) (floored at -20 for an
        absent class). A classifier started here has cross entropy H(y), so the BA bound starts at 0 nats, not at
        the large negative value of a random head, and training moves it only where the rows carry information."""
        last = self.net[-1]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.copy_(log_prior.clamp(min=-20.0).to(last.bias))

    def forward(self, c: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) or (B, D) -> (B, K)
        if c.dim() == 4:
            if self.stem is not None:
                c = self.stem(c)  # (B, width, H, W)
            if self.pool is not None:
                h, w = c.shape[2:]
                c = F.adaptive_avg_pool2d(c, (min(self.pool, h), min(self.pool, w)))
            c = c.flatten(1)
        return self.net(c)


class PairCritic(nn.Module):
    """Continuous-continuous critic T(x, y) -> R on [x, y] concatenated; scores all B x B pairs."""

    def __init__(self, dim_x: int, dim_y: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim_x + dim_y, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # (B, Dx), (B, Dy) -> (B, B)
        b = x.shape[0]
        pairs = torch.cat([x[:, None, :].expand(b, b, -1), y[None, :, :].expand(b, b, -1)], dim=-1)
        return self.net(pairs).squeeze(-1)  # [i, j] = T(x_i, y_j); the diagonal is the joint


class SeparableCritic(nn.Module):
    """Separable critic T(x, y) = f(x)^T g(y) (Poole et al. 2019): two MLP embeddings, all B x B pairs in one matmul."""

    def __init__(self, dim_x: int, dim_y: int, hidden: int = 128, embed: int = 32):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(dim_x, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                               nn.Linear(hidden, embed))
        self.g = nn.Sequential(nn.Linear(dim_y, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                               nn.Linear(hidden, embed))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # (B, Dx), (B, Dy) -> (B, B)
        return self.f(x) @ self.g(y).T  # [i, j] = T(x_i, y_j)


PAIR_CRITICS = ("pair", "separable")  # critics of the continuous path (MIOptions.critic)


# ---------------------------------------------------------------- the training loop

def _stop(curve: list[float], min_epochs: int, threshold: float) -> bool:
    """Thesis A.2: after min_epochs, stop once neither the last epoch's gain nor the gain
    averaged over the last two epochs is above the threshold."""
    if len(curve) < max(min_epochs, 3):
        return False
    return curve[-1] - curve[-2] <= threshold and (curve[-1] - curve[-3]) / 2 <= threshold


@dataclass
class CriticFit:
    """How one critic's training went: its bound per epoch and why it stopped early ("" when fine)."""

    curve: list[float] = field(default_factory=list)    # bound on the training rows, per epoch
    heldout: list[float] = field(default_factory=list)  # bound on the held-out rows, per epoch (when tracked)
    epochs: int = 0                                     # epochs trained
    reason: str = ""                                    # why the critic failed ("" when it did not)


def fit(params, step, n_critics: int, n_train: int, opts: MIOptions, gen: torch.Generator, evaluate=None,
        modules=None, ceiling: float = math.inf, skip_done: bool = False) -> list[CriticFit]:
    """Train n_critics critics together with one Adam; each stops on its own (thesis rule).

    step(idx) -> (loss (m,), bound (m,)) on the training rows idx; a non-finite bound marks that
    critic diverged (its loss is dropped, the others go on). evaluate() -> (m,) held-out bounds,
    called per epoch when given (the held-out curve). With `modules` (one per critic) a critic
    also stops after `patience` epochs without a held-out gain and is restored to its best
    held-out epoch: critics overfit small samples, and the training rule alone misses it. The
    untrained critics are evaluated too (epoch 0): where no trained epoch beats them on held-out rows,
    the untrained state is the one kept, so a critic that only overfits cannot report less than its start.
    A held-out value above `ceiling` (for discrete labels: H(y), which no I(C; y) exceeds) is never kept
    as the best: it is the bound's artefact (e.g. SMILE's clipped partition lets its scores run away).
    With `skip_done`, step(idx, live) and evaluate(live) get the critics still training (a list of bools) and
    need not compute the others (their entries are ignored): a stopped critic's scores were thrown away anyway,
    so every critic's numbers are the same, without the forward passes of those that stopped (issue 32).
    Returns one `CriticFit` per critic.
    """
    # multi-tensor Adam: the same update, element by element, as the one-tensor-at-a-time loop the CPU gets by
    # default (same bits: tests/mi/test_estimators.py), in fewer passes (issue 32: 10-25% of the step's time on
    # ba's four critics; `fused=True` would be 3-5x faster still but differs in the last bit, so it would move keys)
    opt = torch.optim.Adam(params, lr=opts.lr, foreach=True)
    m = n_critics
    fits = [CriticFit() for _ in range(m)]
    alive, done = [True] * m, [False] * m
    bs = min(opts.batch_size, n_train, max(32, n_train // max(opts.min_steps, 1)))  # >= min_steps steps per epoch
    best = [(-math.inf, None, 0)] * m  # (held-out bound, state, epoch) per critic; epoch -1: untrained
    if modules is not None and evaluate is not None:
        start = evaluate()
        best = [(start[k], {n: t.detach().clone() for n, t in modules[k].state_dict().items()}, -1)
                if math.isfinite(start[k]) and start[k] <= ceiling else best[k] for k in range(m)]
    for epoch in range(opts.max_epochs):
        perm = torch.randperm(n_train, generator=gen)
        total, count = torch.zeros(m, dtype=torch.float64), 0
        for start in range(0, n_train - bs + 1, bs):  # full batches only: every step sees bs rows
            live = [alive[k] and not done[k] for k in range(m)]
            loss, bound = step(perm[start:start + bs], live) if skip_done else step(perm[start:start + bs])
            finite = torch.isfinite(loss.detach()) & torch.isfinite(bound.detach())
            for k in range(m):
                if alive[k] and not done[k] and not bool(finite[k]):
                    alive[k] = False
                    fits[k].reason = f"diverged at epoch {epoch + 1}: non-finite or exploding critic output"
            active = torch.tensor([alive[k] and not done[k] for k in range(m)], device=loss.device)
            if not bool(active.any()):
                break
            opt.zero_grad(set_to_none=True)
            loss[active].sum().backward()
            opt.step()
            total += torch.where(finite, bound.detach(), torch.zeros_like(bound)).double().cpu()
            count += 1
        live = [alive[k] and not done[k] for k in range(m)]
        heldout = None if evaluate is None else evaluate(live) if skip_done else evaluate()
        for k in range(m):
            if alive[k] and not done[k]:
                f = fits[k]
                f.curve.append(float(total[k] / max(count, 1)))
                if heldout is not None:
                    f.heldout.append(float(heldout[k]))
                f.epochs = epoch + 1
                done[k] = _stop(f.curve, opts.min_epochs, opts.threshold)
                if modules is not None and heldout is not None and math.isfinite(heldout[k]):
                    if best[k][0] < heldout[k] <= ceiling:
                        state = {n: t.detach().clone() for n, t in modules[k].state_dict().items()}
                        best[k] = (heldout[k], state, epoch)
                    done[k] = done[k] or (epoch + 1 >= opts.min_epochs and epoch - best[k][2] >= opts.patience)
        if not any(alive[k] and not done[k] for k in range(m)):
            break
    if modules is not None:
        for k in range(m):
            if alive[k] and best[k][1] is not None:
                modules[k].load_state_dict(best[k][1])
    return fits
