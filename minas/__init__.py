"""minas: mutual information for neural architecture search (after Kossmann 2019)."""
from minas import config, report, seeding, space
from minas.config import ConfigError, StudyConfig, load
from minas.space import Architecture, parse_architecture, sample_architecture, sample_architectures

__all__ = [
    "config", "report", "seeding", "space",
    "ConfigError", "StudyConfig", "load",
    "Architecture", "parse_architecture", "sample_architecture", "sample_architectures",
]
__version__ = "0.1.0"
