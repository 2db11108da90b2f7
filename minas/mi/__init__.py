"""mi: estimators of I(C; y) in nats (`estimate`: the public functions; `continuous`: I(x; y) of two continuous
variables; `estimators`: one class per bound;
`bounds`; `critics` and their training loop), problems with known MI (`known`) and the validation suite
over them (`validation`), and the linear probe (`probe`). Options are one typed `MIOptions`.

May import: core.
"""
from minas.core.config import MIOptions
from minas.mi import bounds, continuous, critics, estimate, estimators, known, probe, validation
from minas.mi.continuous import estimate_mi_continuous
from minas.mi.estimate import (
    CONTINUOUS_METHODS,
    DEFAULTS,
    MIResult,
    estimate_layers,
    estimate_mi,
    options_from_config,
    standardize,
    thesis_critic,
)
from minas.mi.estimators import ESTIMATORS, Estimator

__all__ = [
    "estimate_mi", "estimate_layers", "estimate_mi_continuous", "standardize", "thesis_critic",
    "options_from_config", "MIResult", "MIOptions", "Estimator", "ESTIMATORS",
    "CONTINUOUS_METHODS", "DEFAULTS",
    "bounds", "continuous", "critics", "estimate", "estimators", "known", "probe", "validation",
]
