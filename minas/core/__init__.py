"""core: what every room may use: the params schema (`config`, read by `parse`, tabled by `describe`), the
result keys (`keys`), the results store (`store`) with its migrations (`migrate`), lock (`lock`), checks
(`check`) and snapshots (`snapshot`), the notebook series (`series`), the job engine (`engine`), progress bars
(`progress`), seed derivation (`seeding`) and the extension slots (`registry`).

May import: nothing else of minas (it is the bottom room).
"""
import importlib

__all__ = ["check", "config", "describe", "engine", "keys", "lock", "mi_options", "migrate", "parse", "registry", "seeding",
           "series", "snapshot", "store"]


def __getattr__(name: str):
    """Each module on first use (PEP 562), so reading the params (`config`) loads neither pandas nor Dask."""
    if name not in __all__:
        raise AttributeError(f"module 'minas.core' has no attribute {name!r}")
    return importlib.import_module(f"minas.core.{name}")
