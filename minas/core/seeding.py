"""Seeds derived from the profile seed plus names, so results don't depend on scheduling.

docs/ARCHITECTURE.md (seeds): every random choice derives from the profile seed and the names of what it is
for (task, architecture, purpose); the same inputs give the same seed on any worker.
"""
from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(base: int, *names: object) -> int:
    """A 63-bit seed from a base seed and any names (hashed with sha256, stable across runs)."""
    text = "|".join([str(int(base))] + [str(n) for n in names])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def rng_for(base: int, *names: object) -> np.random.Generator:
    """A numpy Generator seeded by derive_seed(base, *names)."""
    return np.random.default_rng(derive_seed(base, *names))
