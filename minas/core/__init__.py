"""core: what every room may use: the params schema (`config`), the results store (`store`) and its guard
(`guard`: lock, snapshots, consistency check), the job engine (`engine`), seed derivation (`seeding`) and
the extension slots (`registry`).

May import: nothing else of minas (it is the bottom room).
"""
from minas.core import config, engine, guard, registry, seeding, store

__all__ = ["config", "engine", "guard", "registry", "seeding", "store"]
