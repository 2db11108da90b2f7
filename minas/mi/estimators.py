"""The estimators of I(C; y): a small base class, one thin subclass per bound, and the name -> estimator dict.

Sources: MINE (Belghazi et al. 2018) as the thesis used it (Kossmann 2019, 2.1.1 and A.2); NWJ,
InfoNCE, SMILE and the Barber-Agakov bound as surveyed by Poole et al. 2019 and Song & Ermon 2020.
The shape follows torch-mist's `MIEstimator`: a subclass states its bound and, only where it trains
on something else, its loss.

An estimator turns critic scores into (loss, bound): from generic terms (joint, marg, logw) (see
`minas.mi.bounds`), from label-head scores (B, K), or from a (B, B) pair score matrix. Adding an
estimator means one subclass here and one entry in `ESTIMATORS`.
"""
from __future__ import annotations

import torch

from minas.core.config import MIOptions
from minas.mi import bounds

Tensor = torch.Tensor


class Estimator:
    """Base: a variational bound on I written over critic scores; the training loss defaults to -bound."""

    name: str = ""
    about: str = ""
    lower_bound: bool = True   # a lower bound on I in expectation (SMILE's clipping makes it biased either way)
    path: str = "head"         # "head": label-head critics of all layers in one loop; "thesis": a conv T(c, y) per layer
    continuous: bool = True    # also estimates I(x; y) for continuous y (`estimate_mi_continuous`: B x B pair scores)
    prior_start: bool = False  # label head starts by scoring every row as the label prior (critics.HeadCritic.start_at)

    def bound(self, joint: Tensor, marg: Tensor, logw: Tensor, opts: MIOptions) -> Tensor:
        """The bound in nats from joint scores (B,) and weighted marginal scores."""
        raise NotImplementedError(f"{self.name} has no bound over generic (joint, marg, logw) terms")

    def loss(self, bound: Tensor, joint: Tensor, marg: Tensor, logw: Tensor, opts: MIOptions, state: dict) -> Tensor:
        """The training loss; `bound` is self.bound of the same terms, `state` persists across steps."""
        return -bound

    def objective(self, joint: Tensor, marg: Tensor, logw: Tensor, opts: MIOptions, state: dict) -> tuple[Tensor, Tensor]:
        """(loss, bound) from generic terms."""
        b = self.bound(joint, marg, logw, opts)
        return self.loss(b, joint, marg, logw, opts, state), b

    def head_objective(self, scores: Tensor, y: Tensor, log_p: Tensor, h_y: float, opts: MIOptions,
                       state: dict) -> tuple[Tensor, Tensor]:
        """(loss, bound) from label-head scores (B, K), the marginal exact under log p(y) (K,)."""
        return self.objective(*bounds.label_scores(scores, y, log_p), opts, state)

    def pair_objective(self, scores: Tensor, opts: MIOptions, state: dict) -> tuple[Tensor, Tensor]:
        """(loss, bound) from a (B, B) pair score matrix whose diagonal is the joint."""
        return self.objective(*bounds.pair_scores(scores), opts, state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class DV(Estimator):
    """Donsker-Varadhan, trained with MINE's moving-average gradient correction (`mine_fast`)."""

    name = "mine_fast"
    about = "DV with a label-head critic, exact marginal over p(y), all layers at once"

    def bound(self, joint, marg, logw, opts):
        return bounds.dv_bound(joint, marg, logw)

    def loss(self, bound, joint, marg, logw, opts, state):
        return bounds.dv_ema_loss(joint, marg, logw, state, opts.ema_rate)


class MINE(DV):
    """The thesis MINE: DV and its moving-average correction on a conv critic T(c, y), labels shuffled."""

    name = "mine"
    about = "thesis MINE: conv critic T(c, y), shuffled labels, DV + moving-average correction"
    path = "thesis"
    continuous = False


class NWJ(Estimator):
    """NWJ (f-divergence) bound: unbiased on mini-batches, higher variance than DV."""

    name = "nwj"
    about = "NWJ bound E_P[T] - E_Q[e^(T-1)], label head"

    def bound(self, joint, marg, logw, opts):
        return bounds.nwj_bound(joint, marg, logw)


class SMILE(Estimator):
    """SMILE: DV with the partition term's scores clipped (lower variance, biased)."""

    name = "smile"
    about = "SMILE: DV with partition scores clipped to [-5, 5] (biased, low variance)"
    lower_bound = False

    def bound(self, joint, marg, logw, opts):
        return bounds.smile_bound(joint, marg, logw, opts.clip)


class InfoNCE(Estimator):
    """InfoNCE: with a label head the partition is exact over the K classes; with pairs, over the batch."""

    name = "infonce"
    about = "InfoNCE with the exact K-class partition (cap H(y) <= log K), label head"

    def head_objective(self, scores, y, log_p, h_y, opts, state):
        b = bounds.label_infonce_bound(scores, y, log_p)
        return -b, b

    def pair_objective(self, scores, opts, state):
        b = bounds.pair_infonce_bound(scores)  # capped at log B
        return -b, b


class BarberAgakov(Estimator):
    """Barber-Agakov: the label head read as a classifier q(y|c); needs a discrete y."""

    name = "ba"
    about = "Barber-Agakov: H(y) - held-out cross entropy of a classifier q(y|c)"
    continuous = False
    prior_start = True  # the classifier starts at the label prior (bound 0), HeadCritic.start_at

    def head_objective(self, scores, y, log_p, h_y, opts, state):
        b = bounds.ba_bound(scores, y, h_y)
        return -b, b


ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (MINE(), DV(), NWJ(), InfoNCE(), SMILE(), BarberAgakov())}


def get(name: str) -> Estimator:
    """The estimator called `name`; an unknown name is a ValueError listing the known ones."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown MI method {name!r}; choose one of {sorted(ESTIMATORS)}")
    return ESTIMATORS[name]
