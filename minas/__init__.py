"""minas: mutual information for neural architecture search (after Kossmann 2019).

Rooms, bottom to top: `core` (config, keys, store, engine, seeding, registry) <- `data`, `nas`, `mi` <-
`study` <- `views` <- `pipeline` and the command line. docs/ARCHITECTURE.md draws the picture.
"""
from minas.core import config, seeding
from minas.core.config import ConfigError, StudyConfig, load
from minas.nas import space
from minas.nas.space import (
    Architecture,
    parse_architecture,
    sample_architecture,
    sample_architectures,
)
from minas.views import report

__all__ = [
    "config", "report", "seeding", "space",
    "ConfigError", "StudyConfig", "load",
    "Architecture", "parse_architecture", "sample_architecture", "sample_architectures",
]
__version__ = "0.1.0"
