"""The thesis MLP (Kossmann 2019, A.1) fed one feature each: the thesis's NN + MI and NN + accuracy, their
like-for-like twins (issue 14), the architecture alone and the noise column (issue 23), one NN per further signal.
"""
from __future__ import annotations

from dataclasses import dataclass

from minas.mi import ESTIMATORS
from minas.study.predict.features import AccuracyFeature, NoFeature, NoiseFeature, SignalFeature
from minas.study.predict.fits import MLP
from minas.study.predict.slot import PosteriorPredictor, register

register(PosteriorPredictor("NN + accuracy", AccuracyFeature(), MLP, "raw accuracy in every layer's slot (thesis)",
                            rank=10, against=("NN + noise",), compare_rank=3))
register(PosteriorPredictor("NN + MI", SignalFeature(), MLP, "the primary signal z-scored within its task (thesis A.4)",
                            rank=20, against=("NN + accuracy", "Fitted Gaussian", "NN + arch only", "NN + accuracy (z)",
                                              "NN + noise"), compare_rank=0))
register(PosteriorPredictor("NN + params", SignalFeature("params"), MLP, "the parameter count (a training-free proxy)",
                            crossval=False, rank=30, against=("NN + noise",), compare_rank=4))
register(PosteriorPredictor("NN + MI (raw)", SignalFeature(z=False), MLP, "the primary signal raw, as accuracy is fed",
                            rank=40, against=("NN + accuracy",), compare_rank=1))
register(PosteriorPredictor("NN + arch only", NoFeature(), MLP, "the architecture alone", baseline=True, rank=50))
register(PosteriorPredictor("NN + accuracy (z)", AccuracyFeature(z=True), MLP,
                            "accuracy z-scored against the task's reference architectures, as MI is", rank=60))
register(PosteriorPredictor("NN + noise", NoiseFeature(), MLP, "a unit-variance column without information",
                            baseline=True, rank=70, against=("NN + arch only",), compare_rank=2))


@dataclass(frozen=True)
class EverySignal:
    """One NN per collected signal beyond the primary: "NN + MI (<name>)" for an MI estimator, "NN + <name>" else."""

    name = "NN + <signal>"
    about = "the thesis MLP fed each further collected signal, z-scored within its task"
    feature, fit = SignalFeature(), MLP  # each bound to one signal
    baseline, crossval, rank, against, compare_rank = False, False, 30.0, (), 100.0

    def bind(self, signals: list[str], primary: str | None) -> list[PosteriorPredictor]:
        return [PosteriorPredictor(f"NN + MI ({m})" if m in ESTIMATORS else f"NN + {m}", SignalFeature(m), self.fit,
                                   self.about, self.baseline, self.crossval, self.rank, self.against, self.compare_rank)
                for m in sorted(signals) if m != primary]


register(EverySignal())
