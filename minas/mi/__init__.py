"""mi: estimators of I(C; y) in nats (`estimate`: the public functions; `estimators`: one class per bound;
`bounds`; `critics` and their training loop), problems with known MI (`known`) and the validation suite
over them (`validation`), and the linear probe (`probe`). Options are one typed `MIOptions`.

May import: core.
"""
from minas.core.config import MIOptions
from minas.mi import bounds, critics, estimate, estimators, known, probe, validation
from minas.mi.estimate import (
    CONTINUOUS_METHODS,
    DEFAULTS,
    MIResult,
    estimate_layers,
    estimate_mi,
    estimate_mi_continuous,
    options_from_config,
    standardize,
    thesis_critic,
)
from minas.mi.estimators import ESTIMATORS, Estimator

__all__ = [
    "estimate_mi", "estimate_layers", "estimate_mi_continuous", "standardize", "thesis_critic",
    "options_from_config", "MIResult", "MIOptions", "Estimator", "ESTIMATORS",
    "CONTINUOUS_METHODS", "DEFAULTS",
    "bounds", "critics", "estimate", "estimators", "known", "probe", "validation",
]
