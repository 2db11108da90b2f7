"""Rows and labels going into an estimate: checks of bad input, the seeded row split, standardisation.

A caller's mistake (y not integer, wrong shape, labels out of range) is a ValueError; a property of
the data that admits no estimate (one class, fewer rows than classes, NaN) is a reason string the
estimators turn into ok=False. MI is invariant under the per-channel z-score (an invertible map).
"""
from __future__ import annotations


import torch

from minas.core.config import MIOptions
from minas.core.seeding import derive_seed


def device(x: torch.Tensor, opts: MIOptions) -> torch.device:
    """Where the critics run: opts.device, else x's CUDA device, else CUDA when present, else the CPU."""
    if opts.device is not None:
        return torch.device(opts.device)
    return x.device if x.is_cuda else torch.device("cuda" if torch.cuda.is_available() else "cpu")


def split(n: int, opts: MIOptions, seed: int, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded subsample to max_rows, then train / held-out row indices.

    With discrete labels y the split is stratified: the rows are ordered by class (randomly within a
    class) and every 1/holdout-th goes to the held-out side, so both sides have the label proportions of
    the sample up to one row per class. Otherwise the held-out label entropy and the prior learned on the
    training rows differ by chance, and the BA bound of a label-free critic is -KL(held-out || training
    proportions), about -(K - 1) / (2 N_heldout) nats (-0.03 at K = 10 and 180 held-out rows), not 0.
    """
    gen = torch.Generator().manual_seed(derive_seed(seed, "mi", "split"))
    perm = torch.randperm(n, generator=gen)[: opts.max_rows]
    n_test = max(2, int(round(len(perm) * opts.holdout)))
    if y is None:
        return perm[n_test:], perm[:n_test]
    ordered = perm[torch.sort(y[perm], stable=True).indices]  # by class, random order within a class
    pos = torch.arange(len(ordered), dtype=torch.float64)
    held = torch.floor((pos + 1) * n_test / len(ordered)) > torch.floor(pos * n_test / len(ordered))  # n_test evenly spaced
    return ordered[~held], ordered[held]


def standardize_input(x: torch.Tensor, tr: torch.Tensor) -> torch.Tensor:
    """Per-channel (or per-feature) z-score from training rows: invertible, so MI is unchanged."""
    dims = (0, 2, 3) if x.dim() == 4 else (0,)
    mean = x[tr].mean(dim=dims, keepdim=True)
    std = x[tr].std(dim=dims, keepdim=True).clamp_min(1e-6)
    return (x - mean) / std


MARGINALS = ("zscore", "rank")  # per-coordinate maps of the continuous path (MIOptions.marginals)


def gauss_rank(x: torch.Tensor, tr: torch.Tensor) -> torch.Tensor:
    """Each column of x (N, D) through its training rows' empirical CDF (mid-ranks), then the normal quantile.

    A non-decreasing map per coordinate, so MI is unchanged up to the resolution of the training rows, while heavy
    tails (a Student-t with 1 degree of freedom) and squashed scales (a normal CDF) reach the critic as N(0, 1).
    Held-out rows are placed among the training rows; values outside their range go to the outermost half-rank.
    """
    ref = x[tr].T.contiguous().sort(dim=1).values  # (D, n_train)
    vals = x.T.contiguous()  # (D, N)
    lo = torch.searchsorted(ref, vals, right=False)
    hi = torch.searchsorted(ref, vals, right=True)
    u = ((lo + hi).double() / 2 + 0.5) / (ref.shape[1] + 1)  # in (0, 1)
    return torch.special.ndtri(u).float().T.contiguous()


def continuous_input(x: torch.Tensor, tr: torch.Tensor, marginals: str) -> torch.Tensor:
    """The continuous path's per-coordinate map (`MARGINALS`), fitted on the training rows."""
    return gauss_rank(x, tr) if marginals == "rank" else standardize_input(x, tr)


def label_stats(y: torch.Tensor, k: int) -> tuple[torch.Tensor, float]:
    """log p(y) per class (K,) from label counts, and the entropy H(y) in nats."""
    p = torch.bincount(y, minlength=k).double() / len(y)
    return p.log().float(), float(-(p[p > 0] * p[p > 0].log()).sum())


_INT = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
NONFINITE = "input contains NaN or inf values: check the activations (diverged network?)"
MIN_ROWS = 8  # fewer rows cannot be split into training and held-out rows that mean anything


def labels(y: torch.Tensor, xs: list[torch.Tensor], opts: MIOptions) -> torch.Tensor:
    """y as int64 on the CPU; a ValueError for what is a caller's mistake (wrong dtype, shape or range)."""
    if not isinstance(y, torch.Tensor) or y.dtype not in _INT:
        raise ValueError(f"y must be integer class labels (an integer tensor), got {getattr(y, 'dtype', type(y).__name__)}")
    for x in xs:
        if y.dim() != 1 or len(y) != len(x):
            raise ValueError(f"y must be integer labels of shape ({len(x)},), got {tuple(y.shape)}")
        if x.dim() not in (2, 4):
            raise ValueError(f"x must be (N, D) or (N, C, H, W), got shape {tuple(x.shape)}")
    y = y.long().cpu()
    if len(y) and int(y.min()) < 0:
        raise ValueError(f"labels must be 0..K-1, got {int(y.min())}")
    if len(y) and opts.n_classes is not None and int(y.max()) >= opts.n_classes:
        raise ValueError(f"label {int(y.max())} is out of range for n_classes={opts.n_classes}")
    return y


def unusable(y: torch.Tensor, opts: MIOptions) -> str:
    """Why these labels admit no estimate ("" when they do): a property of the data, reported as ok=False."""
    n = len(y) if opts.max_rows is None else min(len(y), opts.max_rows)
    k = opts.n_classes or (int(y.max()) + 1 if len(y) else 0)
    if len(y) == 0 or int(torch.unique(y).numel()) < 2:
        return "a single class in y: I(C; y) = 0 by definition, there is nothing to estimate"
    if n < k:
        return f"fewer rows ({n}) than classes ({k}): too few to estimate I(C; y)"
    if n < MIN_ROWS:
        return f"too few rows ({n} < {MIN_ROWS}) for a training / held-out split"
    return ""


def project(x: torch.Tensor, tr: torch.Tensor, dim: int, whiten: bool = False) -> torch.Tensor:
    """(N, ...) -> (N, r): the top r = min(dim, rows - 1, features) principal components of the training rows.

    Used by the `pca` stem. A learned linear first layer only ever moves inside the span of the training
    rows (its gradients are combinations of them), so keeping the leading components of that span loses
    little of what the critic could learn, and makes every later step cost r instead of C*H*W. The
    components come from the (rows x rows) Gram matrix when rows < features (cheaper than an SVD).
    Unwhitened, the components keep their variances (one common scale: unit mean variance).
    """
    flat = x.reshape(len(x), -1).double()
    mean = flat[tr].mean(0, keepdim=True)
    a = flat[tr] - mean  # (n_tr, D)
    r = int(min(dim, a.shape[0] - 1, a.shape[1]))
    if a.shape[0] < a.shape[1]:
        evals, u = torch.linalg.eigh(a @ a.T)  # ascending
        evals, u = evals.flip(0)[:r].clamp_min(1e-12), u.flip(1)[:, :r]
        v = a.T @ u / evals.sqrt()  # (D, r) right singular vectors
    else:
        evals, v = torch.linalg.eigh(a.T @ a)
        evals, v = evals.flip(0)[:r].clamp_min(1e-12), v.flip(1)[:, :r]
    var = evals / max(a.shape[0] - 1, 1)  # (r,) component variances
    z = (flat - mean) @ v  # (N, r)
    z = z / var.sqrt() if whiten else z / var.mean().sqrt()
    return z.float()
