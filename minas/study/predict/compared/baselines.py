"""The fixed baselines of thesis Table 3.1 (Kossmann 2019, sec. 3.1): one prediction for every input sample."""
from minas.study.predict.features import NoFeature
from minas.study.predict.fits import FIXED_GAUSSIAN, FIXED_MEAN, FIXED_UNIFORM
from minas.study.predict.slot import PosteriorPredictor, register

register(PosteriorPredictor("Uniform", NoFeature(), FIXED_UNIFORM, "1/23 for every option", baseline=True, rank=0))
register(PosteriorPredictor("Fitted Gaussian", NoFeature(), FIXED_GAUSSIAN,
                            "one Gaussian per layer fitted to the mean training posterior", baseline=True, rank=1))
register(PosteriorPredictor("Mean train posterior", NoFeature(), FIXED_MEAN,
                            "the mean training posterior itself (nonparametric)", baseline=True, rank=2))
