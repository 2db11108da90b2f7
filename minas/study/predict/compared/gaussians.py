"""The low-variance twins of the NNs (issue 23, item 4): `predictors.SignalGaussian`, a Gaussian per layer whose mean
and log width are linear in one feature, 20 numbers in all, fitted by least squares (thesis sec. 3.1's fitted
Gaussian plus a signal)."""
from minas.study.predict.features import AccuracyFeature, NoiseFeature, SignalFeature
from minas.study.predict.fits import GAUSSIAN
from minas.study.predict.slot import PosteriorPredictor, register

register(PosteriorPredictor("Gaussian + accuracy", AccuracyFeature(), GAUSSIAN, "raw accuracy moves each layer's Gaussian",
                            rank=10))
register(PosteriorPredictor("Gaussian + MI", SignalFeature(), GAUSSIAN, "the primary signal (z) moves each layer's Gaussian",
                            rank=20, against=("Fitted Gaussian", "Gaussian + noise"), compare_rank=5))
register(PosteriorPredictor("Gaussian + params", SignalFeature("params"), GAUSSIAN, "the parameter count moves it",
                            crossval=False, rank=30))
register(PosteriorPredictor("Gaussian + noise", NoiseFeature(), GAUSSIAN, "a noise column moves it (the control)",
                            baseline=True, rank=70, against=("Fitted Gaussian",), compare_rank=6))
