"""Result keys: the one module that builds the settings key of every kind of stored result.

The store is the thesis's cache and the resume mechanism at once (Kossmann 2019, A.5; docs/ARCHITECTURE.md,
Keys), so every key follows one rule: what changes a number changes the key; where things live
(output_dir, data.root, engine.checkpoint_dir), how jobs run (every `engine.*` key: workers, scheduler,
timeouts, snapshots) and data.download never do. One function per kind of result:

- `training_key`    a training, besides (task, arch, seed, epochs): the data and train sections;
- `signal_key`      an MI estimate or other signal value, besides (task, arch, seed, signal, layer): data, train, mi;
- `bracket_key`     a Hyperband instance, besides (tag, task, instance): data, train, hyperband, and `-s<seed>`;
- `controller_key`  a controller iteration, besides (kind, iteration);
- `result_key`      a notebook's saved typed result (`minas.views.report.save_result`).

train.precision=auto resolves per machine (bf16 where the device computes bfloat16 natively, else fp32):
the arithmetic it resolves to is part of every key (`precision_suffix`), so a store moved to a machine
that resolves it otherwise recomputes instead of mixing two arithmetics. The trainer (`minas.nas.cnn`)
owns that rule and offers it through the `ARITHMETICS` slot, read on first use: core imports no higher room.

Training, signal and bracket keys are the strings stored before this module existed (tests/core/test_keys.py
pins them). The controller and saved-result keys used to hash paths and engine settings by mistake; their
old formulas stay here (`controller_keys(cfg)[1]`, `result_keys(cfg)[1]`) so that what was stored under them
is still read, and carried over to the new key by its reader (`controller.training`, `views.report`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from minas.core.config import RENAMED_KEYS, StudyConfig
from minas.core.registry import ARITHMETICS
from minas.core.store import seed_suffix

# section -> keys that say where the inputs live or whether to fetch them, not what is computed: hashed at
# their dataclass defaults, so moving the data keeps every stored key
LOCATION = {"data": ("root", "download")}
# whole top-level settings that never change a number: where results go, how jobs are run
NOT_NUMBERS = ("output_dir", "engine")
# section -> keys added after stores were written under the section's hash: hashed only when off their
# default, so a new key at its default keeps every stored key and saved result (list every new field of a
# section here, or tests/core/test_keys.py fails: the pinned keys moved)
ADDED_LATER: dict[str, tuple[str, ...]] = {"train": ("group_size",), "hyperband": ("lam_mode", "max_clean"),
                                          "predict": ("holdout", "power_reps")}


def _renamed_by_section() -> dict[str, dict[str, str]]:
    """config.RENAMED_KEYS the other way round: section -> {key's name now: its name when stores were first keyed}."""
    out: dict[str, dict[str, str]] = {}
    for old, new in RENAMED_KEYS.items():
        section, now = new.split(".")
        out.setdefault(section, {})[now] = old.split(".")[1]
    return out


RENAMED = _renamed_by_section()  # hashed under the old name, so stores keep their keys


def _digest(blob: dict, **dump) -> str:
    return hashlib.sha256(json.dumps(blob, sort_keys=True, **dump).encode()).hexdigest()[:12]


def _as_first_keyed(cfg: StudyConfig) -> dict:
    """`cfg.to_dict()` as stores were first keyed: renamed keys under their old names (RENAMED), keys added
    later (ADDED_LATER) left out."""
    d = cfg.to_dict()
    for name, added in ADDED_LATER.items():  # none of them existed then, whatever their value now
        d[name] = {k: v for k, v in d[name].items() if k not in added}
    return {name: ({RENAMED[name].get(k, k): v for k, v in value.items()} if name in RENAMED else value)
            for name, value in d.items()}


def _sections(cfg: StudyConfig, names: tuple[str, ...]) -> dict:
    """`cfg`'s sections as plain dicts by the rule: LOCATION keys at their defaults, ADDED_LATER keys at
    their default left out."""
    d = cfg.to_dict()
    out = {}
    for name in names:
        value = d[name]
        if isinstance(value, dict):
            defaults = dataclasses.asdict(type(getattr(cfg, name))())
            value = {**value, **{k: defaults[k] for k in LOCATION.get(name, ())}}
            value = {k: v for k, v in value.items() if not (k in ADDED_LATER.get(name, ()) and v == defaults[k])}
            value = {RENAMED.get(name, {}).get(k, k): v for k, v in value.items()}
        out[name] = value
    return out


def section_hash(cfg: StudyConfig, *names: str) -> str:
    """Short hash of some of `cfg`'s sections (e.g. "data", "train"), by the rule (where things live changes nothing)."""
    return _digest(_sections(cfg, names))


def arithmetic(cfg: StudyConfig, resolved: str | None = None) -> str:
    """The arithmetic trainings run in: train.precision, with auto resolved on this machine ('bf16' or 'fp32').

    `resolved` is what auto resolves to, when the caller knows it (tests; a record of another machine);
    None asks the trainer through the ARITHMETICS slot (imports torch on first use).
    """
    if cfg.train.precision != "auto":
        return cfg.train.precision
    return resolved or ARITHMETICS.get("auto").resolve(cfg.device)


def precision_suffix(cfg: StudyConfig, resolved: str | None = None) -> str:
    """'' unless train.precision is auto; then '-bf16' or '-fp32', what it resolves to (keys stored before auto keep theirs)."""
    return "" if cfg.train.precision != "auto" else "-" + arithmetic(cfg, resolved)


def training_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a training result besides (task, arch, seed, epochs): the data and train settings."""
    return section_hash(cfg, "data", "train") + precision_suffix(cfg, resolved)


def signal_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a signal value (an MI estimate, the probe, a proxy) besides (task, arch, seed, signal, layer)."""
    return section_hash(cfg, "data", "train", "mi") + precision_suffix(cfg, resolved)


def bracket_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a Hyperband instance besides (tag, task, instance): its settings and its seed (`store.seed_suffix`:
    none for seed 0, so keys stored before brackets were keyed by seed stay valid)."""
    return section_hash(cfg, "data", "train", "hyperband") + seed_suffix(cfg.seed) + precision_suffix(cfg, resolved)


def _controller_blob(cfg: StudyConfig, d: dict, resolved: str | None) -> dict:
    blob = {k: d[k] for k in ("seed", "data", "train", "mi", "hyperband", "collection")}
    blob["collection"].pop("seeds", None)  # the controller reads the profile seed's collection only
    blob["train"]["precision"] += precision_suffix(cfg, resolved)  # auto as it resolves here
    blob["controller"] = {k: d["controller"][k] for k in ("lr", "datasets_per_iteration", "optimizer")}
    return blob  # not controller.iterations, seeds or eval_instances: a longer run resumes a shorter one


def controller_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a controller iteration: what the collection it reads and Algorithm 1's step depend on."""
    d = {"seed": cfg.seed, **_sections(cfg, ("data", "train", "mi", "hyperband", "collection", "controller"))}
    return _digest(_controller_blob(cfg, d, resolved))


def controller_keys(cfg: StudyConfig, resolved: str | None = None) -> tuple[str, str]:
    """(key, key stored before this module): the old one hashed data.root and data.download too; read both."""
    return controller_key(cfg, resolved), _digest(_controller_blob(cfg, _as_first_keyed(cfg), resolved))


def result_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a notebook's saved result: every setting that can change one of its numbers (the profile name too:
    it picks notebook 02's suite), with train.precision as it resolves here."""
    top = [f.name for f in dataclasses.fields(cfg) if f.name not in NOT_NUMBERS]
    d = _sections(cfg, tuple(top))
    d["train"]["precision"] += precision_suffix(cfg, resolved)
    return _digest(d, default=str)


def result_keys(cfg: StudyConfig, resolved: str | None = None) -> tuple[str, str]:
    """(key, key saved before this module): the old one hashed data.root, data.download and engine.* too; read both."""
    d = _as_first_keyed(cfg)
    d.pop("output_dir", None)
    if d["collection"]["seeds"] == 1:  # one collection: the key results saved before collection.seeds existed carry
        d["collection"].pop("seeds")
    return result_key(cfg, resolved), _digest(d, default=str)
