"""How a posterior predictor fits: a fixed baseline, the 20-parameter Gaussian + X, or the thesis MLP.

Source: Kossmann 2019 (thesis), sec. 3.1 (baselines: uniform, a Gaussian fitted to the mean posterior) and
A.1 (the MLP); the low-variance `SignalGaussian` is issue 23's. A fit turns training pairs into predictions
of the test pairs: `run(train, test, settings) -> list[Scored]`, one `Scored` per predictor seed (one for
the deterministic fits). Fits never share a random stream: seed s of every MLP starts from the same weights
(`derive_seed(base, "predict", s)`), whatever else the lineup holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minas.core.seeding import derive_seed
from minas.nas.space import N_LAYERS, N_OPTIONS, ONE_HOT_SIZE
from minas.study.predict.predictors import Pairs, fit_gaussian, fit_signal_gaussian, train_mlp


@dataclass(frozen=True)
class FitSettings:
    """What the MLP fits read from the config (cfg.predict, cfg.seed) and the caller (seeds, epochs)."""

    seeds: int
    epochs: int
    lr: float
    batch_size: int
    base_seed: int
    softmax: bool = False


@dataclass
class Scored:
    """One fit of one predictor: its training MSE and test predictions (P_test, 92)."""

    seed: int
    train_mse: float
    test_pred: np.ndarray
    curves: dict = field(default_factory=dict)  # split -> MSE per epoch (epoch 0 untrained); MLPs only


def _mse(pred: np.ndarray, y: np.ndarray) -> np.ndarray:  # experiment.pair_mse, without the import cycle
    return ((np.asarray(pred, np.float64) - y) ** 2).mean(axis=1)


@dataclass(frozen=True)
class Fixed:
    """A prediction fixed before any input sample is seen, made from the training targets (92,)."""

    make: Callable[[Pairs], np.ndarray]
    kind = "fixed"
    order = 0  # before a Gaussian or an MLP of the same rank

    def run(self, train: Pairs, test: Pairs, settings: FitSettings) -> list[Scored]:
        f = self.make(train)
        return [Scored(0, float(_mse(np.broadcast_to(f, train.y.shape), train.y).mean()), np.broadcast_to(f, test.y.shape))]


def uniform(train: Pairs) -> np.ndarray:
    """1/23 everywhere (thesis Table 3.1 "Uniform")."""
    return np.full(ONE_HOT_SIZE, 1.0 / N_OPTIONS)


def mean_posterior(train: Pairs) -> np.ndarray:
    """The mean training target, (92,)."""
    return train.y.mean(axis=0).reshape(N_LAYERS, N_OPTIONS).ravel()


def fitted_gaussian(train: Pairs) -> np.ndarray:
    """One Gaussian per layer fitted to the mean training target (thesis Table 3.1 "Fitted Gaussian")."""
    return fit_gaussian(train.y.mean(axis=0).reshape(N_LAYERS, N_OPTIONS)).ravel()


@dataclass(frozen=True)
class GaussianFit:
    """`predictors.SignalGaussian`: per layer a Gaussian whose mean and log width are linear in the feature
    (3 + 2 x width numbers per layer; 20 in all at width 1), least squares, deterministic. grouped: on the distinct
    feature rows (`fit_signal_gaussian`: the same minimizer, far fewer rows; the Gaussians that predate it keep the
    ungrouped fit, so their numbers stay exactly as they were)."""

    grouped: bool = False
    kind = "gaussian"
    order = 1

    def run(self, train: Pairs, test: Pairs, settings: FitSettings) -> list[Scored]:
        g = fit_signal_gaussian(train, self.grouped)
        return [Scored(0, float(_mse(g.predict(train.x), train.y).mean()), g.predict(test.x))]


@dataclass(frozen=True)
class MLPFit:
    """The thesis A.1 MLP (96 -> 128 -> 128 -> 64 -> 92), trained settings.seeds times with Adam on the MSE."""

    kind = "mlp"
    order = 2

    def run(self, train: Pairs, test: Pairs, settings: FitSettings) -> list[Scored]:
        out = []
        for s in range(settings.seeds):  # the same init stream for every feature: seed s starts from the same weights
            fit = train_mlp(train, test, settings.epochs, settings.lr, settings.batch_size,
                            derive_seed(settings.base_seed, "predict", s), settings.softmax)
            out.append(Scored(s, fit.train_curve[-1], fit.test_pred, {"train": fit.train_curve, "test": fit.test_curve}))
        return out


FIXED_UNIFORM, FIXED_GAUSSIAN, FIXED_MEAN = Fixed(uniform), Fixed(fitted_gaussian), Fixed(mean_posterior)
GAUSSIAN, GROUPED_GAUSSIAN, MLP = GaussianFit(), GaussianFit(grouped=True), MLPFit()
