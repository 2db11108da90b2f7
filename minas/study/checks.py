"""The study's invariants of a results store, supplied to `minas check` through the STORE_CHECKS slot.

docs/ARCHITECTURE.md (results store; thesis, Kossmann 2019, A.5: the store is the cache): core checks that a
store is a sound SQLite file of the right schema (`minas.core.check`); the rules below are the study's,
so they live in the study room and register here:
- `brackets`: every Hyperband instance's trainings are stored with the accuracies the instance used, and
  its posterior (rebuilt with `minas.nas.hyperband.posterior`) sums to 1 per layer;
- `mi-trainings`: no MI row lacks its converged training;
- `priors`: the controller's stored priors sum to 1 per layer.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Callable

import numpy as np

from minas.core.registry import STORE_CHECKS
from minas.core.keys import suffix_seed
from minas.nas.hyperband import posterior


@dataclass(frozen=True)
class Rule:
    """A store check (the StoreCheck protocol): `problems(con)` lists what breaks it, one line per kind of problem."""

    name: str
    about: str
    problems: Callable[[sqlite3.Connection], list[str]]


def _bracket_problems(con: sqlite3.Connection) -> list[str]:
    """Each bracket's rows against the stored fixed-epoch trainings; its scores finite, its posterior summing to 1."""
    trained, seeded = {}, {}
    for task, arch, seed, epochs, acc in con.execute("SELECT task, arch, seed, epochs, accuracy FROM trainings WHERE kind='fixed'"):
        trained.setdefault((task, arch, epochs), []).append(acc)
        seeded.setdefault((task, arch, epochs, seed), []).append(acc)
    missing, differ, bad_post = [], [], []
    for tag, task, instance, config, result in con.execute("SELECT tag, task, instance, config, result FROM brackets"):
        res, seed = json.loads(result), suffix_seed(config)
        name = f"{tag}/{task}/{instance}" + (f" (seed {seed})" if seed is not None else "")
        for r in res.get("rows", []):
            # a key naming its seed is checked against that seed's trainings; an older key against any seed's
            accs = trained.get((task, r["arch"], r["epochs"])) if seed is None else seeded.get((task, r["arch"], r["epochs"], seed))
            if accs is None:
                missing.append(name)
                break
            if not any(a is not None and abs(a - r["accuracy"]) < 1e-9 for a in accs):
                differ.append(name)
                break
        scores = np.asarray(res.get("scores", []), dtype=np.float64)
        if len(scores) != len(res.get("survivors", [])) or not np.isfinite(scores).all():
            bad_post.append(name)
        else:
            p = np.asarray(posterior(res["survivors"], list(scores)))
            if not np.allclose(p.sum(axis=-1), 1.0, atol=1e-6):
                bad_post.append(name)
    out = []
    for what, names in (("lack stored trainings", missing), ("disagree with their stored trainings' accuracy", differ),
                        ("have a posterior that does not sum to 1 per layer", bad_post)):
        if names:
            out.append(f"{len(names)} bracket(s) {what}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}")
    return out


def _prior_problems(con: sqlite3.Connection) -> list[str]:
    """Stored controller priors ((M, 4, 23), rounded to 6 decimals) must sum to 1 per layer."""
    bad = []
    for kind, key, value in con.execute("SELECT kind, key, value FROM results WHERE value LIKE '%\"priors\"%'"):
        priors = json.loads(value).get("priors")
        if priors is not None and not np.allclose(np.asarray(priors, dtype=np.float64).sum(axis=-1), 1.0, atol=1e-4):
            bad.append(f"{kind}/{key}")
    return [f"{len(bad)} stored prior(s) do not sum to 1 per layer: {', '.join(bad[:3])}"] if bad else []


def _orphan_problems(con: sqlite3.Connection) -> list[str]:
    """An MI row is computed on a network trained to convergence: its training must be stored too."""
    orphans = con.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT task, arch, seed FROM mi) m WHERE NOT EXISTS "
        "(SELECT 1 FROM trainings t WHERE t.task=m.task AND t.arch=m.arch AND t.seed=m.seed AND t.kind='converge')"
    ).fetchone()[0]
    return [f"{orphans} MI estimate(s) without their converged training"] if orphans else []


for _rule in (Rule("brackets", "a bracket's trainings are stored with the accuracies it used; its posterior sums to 1",
                   _bracket_problems),
              Rule("mi-trainings", "no MI row lacks its converged training", _orphan_problems),
              Rule("priors", "the controller's stored priors sum to 1 per layer", _prior_problems)):
    STORE_CHECKS.register(_rule)
