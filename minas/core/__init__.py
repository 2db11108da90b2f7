"""core: what every room may use: the params schema (`config`, read by `parse`, tabled by `describe`), the
result keys (`keys`), the results store (`store`) with its lock (`lock`), checks (`check`) and snapshots
(`snapshot`), the job engine (`engine`), progress bars (`progress`), seed derivation (`seeding`) and the
extension slots (`registry`).

May import: nothing else of minas (it is the bottom room).
"""
from minas.core import check, config, describe, engine, keys, lock, parse, registry, seeding, snapshot, store

__all__ = ["check", "config", "describe", "engine", "keys", "lock", "parse", "registry", "seeding", "snapshot", "store"]
