"""minas: mutual information for neural architecture search (after Kossmann 2019).

Rooms, bottom to top: `core` (config, keys, store, engine, seeding, registry) <- `data`, `nas`, `mi` <-
`study` <- `views` <- `pipeline` and the command line. docs/ARCHITECTURE.md draws the picture.

The names below are imported on first use (PEP 562 module `__getattr__`), so `import minas` and the command
line's `--help` load neither torch nor pandas.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minas.core import config, seeding
    from minas.core.config import ConfigError, StudyConfig, load
    from minas.nas import space
    from minas.nas.space import Architecture, parse_architecture, sample_architecture, sample_architectures
    from minas.views import report

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "config": ("minas.core.config", None), "seeding": ("minas.core.seeding", None),
    "space": ("minas.nas.space", None), "report": ("minas.views.report", None),
    "ConfigError": ("minas.core.config", "ConfigError"), "StudyConfig": ("minas.core.config", "StudyConfig"),
    "load": ("minas.core.config", "load"),
    "Architecture": ("minas.nas.space", "Architecture"), "parse_architecture": ("minas.nas.space", "parse_architecture"),
    "sample_architecture": ("minas.nas.space", "sample_architecture"),
    "sample_architectures": ("minas.nas.space", "sample_architectures"),
}
__all__ = list(_LAZY)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'minas' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
