"""mi: estimators of I(C; y) in nats (`estimate`), their critics and bounds (`critics`), problems
with known MI (`known`) and the validation suite over them (`validation`), and the linear probe
(`probe`).

May import: core.
"""
from minas.mi import critics, estimate, known, probe, validation
from minas.mi.estimate import (
                               CONTINUOUS_METHODS,
                               DEFAULTS,
                               METHODS,
                               MIResult,
                               estimate_layers,
                               estimate_mi,
                               estimate_mi_continuous,
                               options_from_config,
                               standardize,
                               thesis_critic,
)

__all__ = [
    "estimate_mi", "estimate_layers", "estimate_mi_continuous", "standardize", "thesis_critic",
    "options_from_config", "MIResult", "METHODS", "CONTINUOUS_METHODS", "DEFAULTS",
    "critics", "estimate", "known", "probe", "validation",
]
