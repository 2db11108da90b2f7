"""Variational lower bounds on MI (nats), written over critic scores.

Sources: Donsker-Varadhan and MINE's moving-average gradient correction (Belghazi et al. 2018);
NWJ (Nguyen, Wainwright & Jordan 2010); InfoNCE (van den Oord et al. 2018); SMILE (Song & Ermon
2020); the Barber-Agakov bound (Barber & Agakov 2003); the overview of Poole et al. 2019.

Every bound is written over *scores*: `joint` (B,) are critic values on joint pairs (c_j, y_j);
`marg` (any shape) are critic values on pairs from the product of marginals, each with a log
weight `logw` (same shape, the weights sum to 1), so that E_Q[f(T)] = sum exp(logw) f(marg).
With a label head and known p(y), marg = T(c)_k for every row and class with logw =
log p(k) - log B: the expectation over the discrete label is then exact, not sampled.
`label_scores` and `pair_scores` build these terms from a critic's output.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def dv_bound(joint: torch.Tensor, marg: torch.Tensor, logw: torch.Tensor) -> torch.Tensor:
    """Donsker-Varadhan: E_P[T] - log E_Q[e^T] (log-sum-exp, never overflows)."""
    return joint.mean() - torch.logsumexp((marg + logw).flatten(), 0)


def nwj_bound(joint: torch.Tensor, marg: torch.Tensor, logw: torch.Tensor) -> torch.Tensor:
    """NWJ / f-divergence bound: E_P[T] - E_Q[e^(T - 1)]."""
    return joint.mean() - torch.exp(torch.logsumexp((marg - 1.0 + logw).flatten(), 0))


def smile_bound(joint: torch.Tensor, marg: torch.Tensor, logw: torch.Tensor, clip: float = 5.0) -> torch.Tensor:
    """SMILE: DV with the partition term's scores clipped to [-clip, clip] (lower variance, biased)."""
    return joint.mean() - torch.logsumexp((marg.clamp(-clip, clip) + logw).flatten(), 0)


def dv_ema_loss(joint: torch.Tensor, marg: torch.Tensor, logw: torch.Tensor, state: dict, rate: float) -> torch.Tensor:
    """Loss whose gradient is the MINE bias-corrected DV gradient (Belghazi et al. 2018, sec. 3.2).

    grad log E_Q[e^T] = E_Q[e^T grad T] / E_Q[e^T]; the batch denominator is replaced by a moving
    average kept in log space (`state["log_ema"]`), which removes the mini-batch bias.
    """
    log_part = torch.logsumexp((marg + logw).flatten(), 0)
    cur = log_part.detach()
    if "log_ema" not in state or not torch.isfinite(state["log_ema"]):
        state["log_ema"] = cur
    else:
        state["log_ema"] = torch.logaddexp(state["log_ema"] + math.log1p(-rate), cur + math.log(rate))
    return -(joint.mean() - torch.exp(log_part - state["log_ema"]))


def label_infonce_bound(scores: torch.Tensor, y: torch.Tensor, log_p: torch.Tensor) -> torch.Tensor:
    """InfoNCE with the label head: E[T(c)_y - log sum_k p(k) e^T(c)_k].

    The batch InfoNCE contrasts each c with the B labels of its batch and is capped at log B;
    here the inner average over the batch's labels is replaced by its B -> infinity limit,
    the exact expectation over p(y). The bound is then capped at H(y) <= log K, not log B. It
    equals the Barber-Agakov bound of the classifier softmax(T + log p), trained contrastively.
    """
    joint = scores.gather(1, y[:, None]).squeeze(1)
    return (joint - torch.logsumexp(scores + log_p, dim=1)).mean()


def pair_infonce_bound(scores: torch.Tensor) -> torch.Tensor:
    """Batch InfoNCE on a (B, B) score matrix (diagonal = joint): capped at log B."""
    b = scores.shape[0]
    return (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean() + math.log(b)


def ba_bound(logits: torch.Tensor, y: torch.Tensor, entropy_y: float) -> torch.Tensor:
    """Barber-Agakov: H(y) - E[-log q(y|c)], q = softmax(logits)."""
    return entropy_y - F.cross_entropy(logits, y)


def label_scores(scores: torch.Tensor, y: torch.Tensor, log_p: torch.Tensor):
    """(joint, marg, logw) from label-head scores (B, K): exact marginal over the discrete label."""
    b = scores.shape[0]
    joint = scores.gather(1, y[:, None]).squeeze(1)
    logw = (log_p - math.log(b)).expand_as(scores)
    return joint, scores, logw


def pair_scores(scores: torch.Tensor):
    """(joint, marg, logw) from a (B, B) pair score matrix: off-diagonal pairs are the marginal."""
    b = scores.shape[0]
    off = ~torch.eye(b, dtype=torch.bool, device=scores.device)
    marg = scores[off]
    return scores.diagonal(), marg, torch.full_like(marg, -math.log(b * (b - 1)))
