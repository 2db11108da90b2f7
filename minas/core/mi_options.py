"""The options of one MI estimate (`minas.mi`): one typed, commented dataclass, the one place their defaults live.

Options as one typed object (nanoGPT's GPTConfig; STYLE.md): the thesis's MINE settings (Kossmann 2019, A.4) and
those of the label-head and continuous paths, with the measurements that chose them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MIOptions:
    """Options of one MI estimate (`minas.mi`): the one place their defaults live.

    Defined in core, not in the mi room, so that `config.MIConfig` can take its defaults from it (core
    imports no other room); `minas.mi` validates keyword options into it and records it with every result.
    """

    batch_size: int = 256           # rows per critic step (at most; see min_steps)
    min_steps: int = 8              # the batch shrinks (not below 32 rows) so an epoch has at least this many steps:
                                    # at 600 rows, batch 256 meant 1 step per epoch; 8 steps (batch 52) measured 0.04-0.07
                                    # nats closer on K=2 / K=10 mixtures (flat) and 25% faster on image-shaped layers
    lr: float = 1e-3                # critic Adam learning rate
    min_epochs: int = 18            # thesis: train at least this many epochs (mine; see head_min_epochs)
    head_min_epochs: int = 4        # label-head estimators (ba, infonce, ...): at least this many epochs, then held-out
                                    # patience; their best held-out epoch is kept, and on the default suite at 600 rows
                                    # 4 gave the same estimates as 18 in 45% of the time (benchmarks/mi_speed.py)
    max_epochs: int = 60            # hard cap on critic epochs
    threshold: float = 0.01         # nats: stop when the 1- and 2-epoch gains of the bound are both below this
    max_rows: int | None = None     # cap on rows used (seeded subsample; None: every row passed), split train / held-out
    holdout: float = 0.3            # share of rows held out for the reported value
    ema_rate: float = 0.1           # moving-average rate of E_Q[e^T] (MINE gradient correction)
    clip: float = 5.0               # SMILE: partition-term scores clipped to [-clip, clip]
    hidden: int = 128               # hidden units of label-head / pair critics (thesis critic: 64)
    pool: int = 4                   # label head, conv and pool stems: maps average-pooled to at most pool x pool
    stem: str = "linear"            # label head's first stage on (C, H, W): linear, conv3, conv1 or pool (critics.HEAD_STEMS)
    stem_width: int = 32            # channels of the conv3 / conv1 stem
    critic: str = "separable"       # continuous path: separable (f(x)^T g(y), one matmul per batch; measured on the 40
                                    # bmi tasks, benchmarks/mi_bmi.py: 0.9 s per estimate, the pair critic ~60 s) or pair
                                    # (MLP on [x, y]), critics.PAIR_CRITICS
    marginals: str = "rank"         # continuous path: each coordinate through its training rows' empirical CDF and the
                                    # normal quantile (rank), or z-scored; both monotone per coordinate (MI unchanged); on
                                    # the 40 bmi tasks rank fixed the Student-t failures (benchmarks/mi_bmi.py)
    pca_dim: int = 128              # pca stem: leading principal components of the training rows kept per layer
    whiten: bool = False            # pca stem: scale each component to unit variance (measured worse)
    n_layers: int = 4               # L of the network (the thesis critic of layer i has L - i convs)
    layer: int = 1                  # estimate_mi on a 4-D x: which layer it is (1..L)
    warm_start: bool = True         # mine: initialise layer i+1's critic from layer i's
    n_classes: int | None = None    # inferred from y (max label + 1) when None
    max_score: float = 1e4          # |T| above this counts as an exploding critic (exp would overflow)
    heldout_curve: bool | None = None  # held-out bound per epoch (None: label-head and pair paths yes, thesis no)
    patience: int = 3               # epochs without held-out gain before a critic stops (best epoch kept)
    device: str | None = None       # None: x's device if CUDA, else CUDA when available, else CPU

    def __post_init__(self):
        if self.max_epochs < self.min_epochs:
            raise ValueError(f"max_epochs ({self.max_epochs}) must be >= min_epochs ({self.min_epochs})")
