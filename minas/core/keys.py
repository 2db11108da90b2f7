"""Result keys: the one module that builds the settings key of every kind of stored result.

The store is the thesis's cache and the resume mechanism at once (Kossmann 2019, A.5; docs/ARCHITECTURE.md,
Keys), so every key follows one rule: what changes a number changes the key; where things live
(output_dir, data.root, engine.checkpoint_dir), how jobs run (every `engine.*` key: workers, scheduler,
timeouts, snapshots) and data.download never do. One function per kind of result:

- `training_key`    a training, besides (task, arch, seed, epochs): the data and train sections;
- `signal_key`      a signal value (an MI estimate, the probe, a proxy), besides (task, arch, seed, signal, layer):
                    data, train, mi;
- `bracket_key`     a Hyperband instance, besides (tag, task, instance): data, train, hyperband, and `seed_suffix`;
- `controller_key`  a controller iteration, besides (`controller_kind`, iteration);
- `result_key`      a notebook's saved typed result (`minas.views.report.save_result`).

New params keys keep every stored key by one rule: the fields stores were first keyed under (`FIRST_KEYED`, a
record that never grows) are hashed always; any field added since is hashed only when off its default, so a new
key at its default changes no key and needs no entry here. Keys of stores written before this module are
carried to these by `minas.core.migrate` when a store opens.

train.precision=auto resolves per machine (bf16 where the device computes bfloat16 natively, else fp32):
the arithmetic it resolves to is part of every key (`precision_suffix`), so a store moved to a machine
that resolves it otherwise recomputes instead of mixing two arithmetics. The trainer (`minas.nas`)
owns that rule and offers it through the `ARITHMETICS` slot, read on first use: core imports no higher room.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import TYPE_CHECKING

from minas.core.registry import ARITHMETICS

if TYPE_CHECKING:  # typing only: config imports minas.core.migrate, which imports this module
    from minas.core.config import StudyConfig

# section -> keys that say where the inputs live or whether to fetch them, not what is computed: hashed at
# their dataclass defaults, so moving the data keeps every stored key
LOCATION = {"data": ("root", "download")}
# whole top-level settings that never change a number: where results go, how jobs are run
NOT_NUMBERS = ("output_dir", "engine")
# The settings stores were first keyed under (top level, then per section), hashed always whatever their value.
# A record of the past: it never grows. Every field not named here is hashed only when off its default.
FIRST_KEYED: dict[str, tuple[str, ...]] = {
    "": ("profile", "seed", "device"),
    "data": ("source", "root", "download", "tasks", "max_train_per_task", "max_test_per_task", "image_size",
             "n_test_tasks"),
    "train": ("batch_size", "lr", "weight_decay", "max_epochs", "patience", "val_fraction", "schedule", "precision"),
    "mi": ("signals", "batch_size", "lr", "min_epochs", "head_min_epochs", "max_epochs", "threshold", "max_rows",
           "n_standardize", "validation_rows", "validation_seeds", "curve_rows", "suite_ks"),
    "hyperband": ("n_inputs", "survivors", "epochs_per_rung", "lam", "smoothing", "n_clean"),
    "collection": ("n_train_samples", "n_test_samples", "seeds"),
    "target": ("tasks", "n_archs", "n_seeds", "reliability_tasks"),
    "predict": ("seeds", "epochs", "lr", "batch_size", "max_pairs_per_task"),
    "controller": ("iterations", "datasets_per_iteration", "lr", "optimizer", "seeds", "eval_instances"),
}
# section -> {field: the name it is hashed under}: fields renamed since stores were first keyed keep their hash
HASHED_AS = {"mi": {"signals": "methods"}}


def digest(blob: dict, **dump) -> str:
    """The 12 hex digits every settings hash is: sha256 of the blob as sorted JSON."""
    return hashlib.sha256(json.dumps(blob, sort_keys=True, **dump).encode()).hexdigest()[:12]


def _defaults(cfg: StudyConfig, name: str) -> dict:
    return dataclasses.asdict(type(getattr(cfg, name))())


def _section(cfg: StudyConfig, name: str) -> dict:
    """One section as hashed: LOCATION keys at their defaults, fields added since the first keying left out at
    their default, renamed fields under their first names."""
    value, defaults, first = dataclasses.asdict(getattr(cfg, name)), _defaults(cfg, name), FIRST_KEYED.get(name, ())
    value |= {k: defaults[k] for k in LOCATION.get(name, ())}
    value = {k: v for k, v in value.items() if k in first or v != defaults[k]}
    return {HASHED_AS.get(name, {}).get(k, k): v for k, v in value.items()}


def _sections(cfg: StudyConfig, names: tuple[str, ...]) -> dict:
    """`cfg`'s settings `names` (sections or top-level values) by the rule; a section or top-level value added
    since the first keying is left out while it is at its default."""
    out = {}
    for name in names:
        value = getattr(cfg, name)
        if dataclasses.is_dataclass(value):
            value = _section(cfg, name)
            if name not in FIRST_KEYED and not value:
                continue
        elif name not in FIRST_KEYED[""] and value == getattr(type(cfg)(), name):
            continue
        out[name] = value
    return out


def section_hash(cfg: StudyConfig, *names: str) -> str:
    """Short hash of some of `cfg`'s sections (e.g. "data", "train"), by the rule (where things live changes nothing)."""
    return digest(_sections(cfg, names))


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


def seed_suffix(seed: int) -> str:
    """What a bracket's key carries for its seed: nothing for seed 0 (keys stored before brackets were keyed by
    seed stay valid), `-s<seed>` for any other, so two seeds' brackets never overwrite each other."""
    return f"-s{seed}" if seed else ""


def suffix_seed(key: str) -> int | None:
    """The seed a bracket's key names (`seed_suffix`), or None when it names none (seed 0 or older rows)."""
    m = re.search(r"-s(\d+)$", key)
    return int(m[1]) if m else None


def training_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a training result besides (task, arch, seed, epochs): the data and train settings."""
    return section_hash(cfg, "data", "train") + precision_suffix(cfg, resolved)


def signal_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a signal value (an MI estimate, the probe, a proxy) besides (task, arch, seed, signal, layer)."""
    return section_hash(cfg, "data", "train", "mi") + precision_suffix(cfg, resolved)


def bracket_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a Hyperband instance besides (tag, task, instance): its settings and its seed (`seed_suffix`)."""
    return section_hash(cfg, "data", "train", "hyperband") + seed_suffix(cfg.seed) + precision_suffix(cfg, resolved)


def controller_kind(experiment: str, run: int = 0) -> str:
    """The store kind of a controller run's iterations (and its Hyperband tag): controller-<exp> for run 0,
    controller-<exp>-s<run> else."""
    return f"controller-{experiment}" + (f"-s{run}" if run else "")


def eval_tag(label: str, run: int = 0) -> str:
    """The Hyperband tag of a prior's evaluation runs (notebook 05): controller-eval-<label>, -s<run> for a controller
    run after the first (the uniform prior is one for every run: run 0)."""
    return f"controller-eval-{label}" + (f"-s{run}" if run else "")


def controller_blob(cfg: StudyConfig, d: dict, resolved: str | None) -> dict:
    """What a controller key hashes, from `d` (`cfg`'s settings as some formula reads them)."""
    blob = {k: d[k] for k in ("seed", "data", "train", "mi", "hyperband", "collection")}
    blob["collection"].pop("seeds", None)  # the controller reads the profile seed's collection only
    blob["train"]["precision"] += precision_suffix(cfg, resolved)  # auto as it resolves here
    blob["controller"] = {k: d["controller"][k] for k in ("lr", "datasets_per_iteration", "optimizer")}
    return blob  # not controller.iterations, seeds or eval_instances: a longer run resumes a shorter one


def controller_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a controller iteration: what the collection it reads and Algorithm 1's step depend on."""
    d = {"seed": cfg.seed, **_sections(cfg, ("data", "train", "mi", "hyperband", "collection", "controller"))}
    return digest(controller_blob(cfg, d, resolved))


def result_key(cfg: StudyConfig, resolved: str | None = None) -> str:
    """Key of a notebook's saved result: every setting that can change one of its numbers (the profile name too:
    it picks notebook 02's suite), with train.precision as it resolves here."""
    top = [f.name for f in dataclasses.fields(cfg) if f.name not in NOT_NUMBERS]
    d = _sections(cfg, tuple(top))
    d["train"]["precision"] += precision_suffix(cfg, resolved)
    return digest(d, default=str)
