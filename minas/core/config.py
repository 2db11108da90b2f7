"""The study's settings: `params/<profile>.yaml` validated into one typed `StudyConfig`.

Every key, type and range is checked before any work starts; a bad value raises
`ConfigError` naming the key, the value and what is allowed (docs/ARCHITECTURE.md; nanoGPT-style
plain config with loud failure on unknown keys).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from minas.core import migrate
from minas.core.parse import ConfigError, build, parse_yaml, set_path
from minas.core.mi_options import MIOptions  # MIConfig's defaults; minas.mi imports it from here too
from minas.core.registry import DATA_FAMILIES, SIGNALS

ROOT = Path(__file__).resolve().parents[2]  # the repository (minas/core/config.py -> ../..)
PARAMS_DIR = ROOT / "params"
PROFILES = tuple(sorted(p.stem for p in PARAMS_DIR.glob("*.yaml")))  # every params/<name>.yaml, run by its name


def _f(default, *, lo=None, hi=None, choices=None, doc=""):
    """A dataclass field carrying its allowed range/choices and a one-line meaning."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: json.loads(json.dumps(d)), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    source: str = _f("embedded", doc="data families, joined by + : embedded (pip-shipped digits), fashion (Fashion-MNIST), thesis (the 27 data sets), "
                                          "glyphs (fonts in matplotlib), glyphs-noto (fonts-noto-core)")
    root: str = _f("~/.cache/minas/data", doc="folder holding the thesis data sets (full profile)")
    download: bool = _f(False, doc="let torchvision download missing data sets (needs internet)")
    tasks: list = _f([], doc="restrict to these task names (empty: all)")
    max_train_per_task: int = _f(1000, lo=10, doc="training rows kept per task (class-balanced)")
    max_test_per_task: int = _f(500, lo=10, doc="test rows kept per task")
    image_size: int = _f(16, lo=8, hi=64, doc="embedded tasks: side length in pixels")
    n_test_tasks: int = _f(4, lo=1, doc="embedded tasks: how many tasks are held out (whole families)")


@dataclass
class TrainConfig:
    batch_size: int = _f(128, lo=1, doc="images per SGD step")
    lr: float = _f(0.05, lo=0.0, doc="SGD learning rate (momentum 0.9, nesterov)")
    weight_decay: float = _f(5e-4, lo=0.0, doc="L2 weight decay")
    max_epochs: int = _f(30, lo=1, doc="cap when training an input sample to convergence")
    patience: int = _f(3, lo=1, doc="convergence: stop after this many epochs without held-out loss improvement")
    val_fraction: float = _f(0.15, lo=0.0, hi=0.5, doc="share of training rows held out for the convergence rule")
    schedule: str = _f("constant", choices=("constant", "rung_cosine"),
                       doc="learning rate within one training call (a Hyperband rung): constant, or cosine decay to 0 restarted each rung")
    precision: str = _f("fp32", choices=("auto", "fp32", "bf16"),
                        doc="training arithmetic: fp32, bf16 (mixed precision: bfloat16 convolutions, float32 weights), "
                            "or auto (bf16 where the device computes bfloat16 natively, else fp32)")
    group_size: int = _f(1, lo=0, doc="networks trained as one (minas.nas.population: grouped convolutions, same results "
                                      "to float noise): 1 = one at a time, 0 = chosen per device")


@dataclass
class MIConfig:
    signals: list = _f(["mine"], doc="signals of each input sample: MI estimators, the probe (linear-probe accuracy), training-free proxies; the first feeds NN + MI")
    batch_size: int = _f(MIOptions.batch_size, lo=2, doc="rows per critic step")
    lr: float = _f(MIOptions.lr, lo=0.0, doc="critic Adam learning rate")
    min_epochs: int = _f(MIOptions.min_epochs, lo=1, doc="thesis: train MINE at least this many epochs")
    head_min_epochs: int = _f(MIOptions.head_min_epochs, lo=1, doc="label-head estimators (ba, infonce, ...): at least this many epochs, then held-out patience")
    max_epochs: int = _f(MIOptions.max_epochs, lo=1, doc="hard cap on critic epochs")
    threshold: float = _f(MIOptions.threshold, lo=0.0, doc="stop when the bound's gain averaged over 2 epochs is below this (nats)")
    max_rows: int = _f(2000, lo=20, doc="activation rows the study reads per MI estimate (split train/held-out)")
    n_standardize: int = _f(7, lo=2, doc="thesis A.4: random architectures per data set seeding the z-score")
    validation_rows: int = _f(2000, lo=100, doc="notebook 02: rows per known-MI validation problem")
    validation_seeds: int = _f(5, lo=1, doc="notebook 02: seeds per estimator and problem")
    curve_rows: list = _f([300, 600, 1200, 2400, 4800, 12000], doc="notebook 02: rows per estimate along the bias-vs-rows curve")
    suite_ks: list = _f([2, 10, 100], doc="notebook 02: classes K of the known-MI problems at the study's layer shapes")


@dataclass
class HyperbandConfig:
    n_inputs: int = _f(12, lo=2, doc="architectures into one instance")
    survivors: list = _f([8, 4], doc="how many survive each elimination round")
    epochs_per_rung: list = _f([4, 4, 4], doc="epochs trained before each evaluation (one more entry than survivors)")
    lam: float = _f(5e-4, lo=0.0, doc="score penalty per filter: hs = acc - lam * sum(filters)")
    smoothing: float = _f(0.25, lo=0.0, hi=1.0, doc="thesis A.3: share of each neighbour added")
    n_clean: int = _f(5, lo=1, doc="posteriors summed into one clean posterior")
    lam_mode: str = _f("fixed", choices=("fixed", "balanced"),
                       doc="fixed: hs = acc - lam * sum(filters) (lam 0: accuracy only); balanced: per task, lam = "
                           "sd(accuracy) / sd(sum of filters) over its reference architectures (both weigh equally)")
    max_clean: int = _f(0, lo=0, doc="clean posteriors kept per task, a seeded draw of the C(n, n_clean) (0: all; "
                                      "k = 20 of 25 would be 53,130)")


@dataclass
class CollectionConfig:
    n_train_samples: int = _f(11, lo=1, doc="input samples + posteriors per training data set")
    n_test_samples: int = _f(5, lo=1, doc="input samples + posteriors per held-out data set")
    seeds: int = _f(1, lo=1, doc="whole collections: collection seed i uses profile seed + i for every draw, training and MI estimate (notebook 04 pools Experiment 1 over them)")


@dataclass
class TargetConfig:
    tasks: list = _f([], doc="notebook 01: tasks whose architecture signal (ICC of accuracy) is measured (empty: none)")
    n_archs: int = _f(8, lo=2, doc="random architectures per task for the ICC")
    n_seeds: int = _f(3, lo=2, doc="training seeds per architecture for the ICC")
    reliability_tasks: list = _f([], doc="notebook 06: tasks whose signals' test-retest ICC is measured (convergence trainings: costly)")


@dataclass
class PredictConfig:
    seeds: int = _f(5, lo=1, doc="predictor trainings per method (spread)")
    epochs: int = _f(30, lo=1, doc="predictor training epochs")
    lr: float = _f(1e-3, lo=0.0, doc="Adam learning rate")
    batch_size: int = _f(256, lo=1, doc="pairs per step")
    max_pairs_per_task: int = _f(0, lo=0, doc="subsample training pairs per data set (0: all)")
    holdout: str = _f("family", choices=("family", "source"),
                      doc="fixed split: family keeps the data's meta split; source also drops training tasks that "
                          "share an image source with a test task (cross-validation always holds out whole sources)")
    power_reps: int = _f(40, lo=1, doc="notebook 04: planted collections per strength when it sizes its own test's power "
                                       "in the world it measured (power.calibrated_power)")


@dataclass
class ControllerConfig:
    iterations: int = _f(49, lo=1, doc="thesis Algorithm 1 iterations")
    datasets_per_iteration: int = _f(5, lo=1, doc="M: training data sets visited per iteration")
    lr: float = _f(10.0, lo=0.0, doc="policy learning rate (of the plain step lr * R * grad CE, or of Adam)")
    optimizer: str = _f("sgd", choices=("sgd", "adam"), doc="sgd: thesis Algorithm 1's plain step scaled by R; adam: Adam on R * CE")
    seeds: int = _f(3, lo=1, doc="controller runs per experiment (policy init, data sets, draws); Table 3.2's CI spans them")
    eval_instances: int = _f(3, lo=1, doc="Hyperband runs per data set when evaluating a prior")


@dataclass
class EngineConfig:
    workers: int = _f(2, lo=0, doc="local Dask worker processes (0: run jobs in this process)")
    scheduler: str = _f("", doc="address of an existing Dask scheduler (empty: start a local cluster)")
    checkpoint_dir: str = _f("", doc="checkpoint folder all workers can read (empty: outputs/<profile>/checkpoints)")
    snapshots: int = _f(3, lo=0, doc="store snapshots kept (one taken after each finished notebook; 0: none)")
    cell_timeout: int = _f(0, lo=0, doc="seconds one notebook cell may run under `minas run` before it fails (0: no limit)")


@dataclass
class StudyConfig:
    profile: str = _f("default", doc="name of the params profile")
    seed: int = _f(0, lo=0, doc="base seed; every random choice derives from it")
    device: str = _f("auto", choices=("auto", "cpu", "cuda"), doc="auto: CUDA when present")
    output_dir: str = _f("", doc="results folder (empty: outputs/<profile>)")
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    mi: MIConfig = field(default_factory=MIConfig)
    hyperband: HyperbandConfig = field(default_factory=HyperbandConfig)
    collection: CollectionConfig = field(default_factory=CollectionConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    controller: ControllerConfig = field(default_factory=ControllerConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)

    @property
    def out(self) -> Path:
        """The profile's output folder."""
        root = ROOT / "outputs" / self.profile
        return Path(self.output_dir).expanduser() if self.output_dir else root

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PATH_KEYS = ("output_dir", "data.root", "engine.checkpoint_dir")  # made absolute by `load`


def _check_cross(cfg: StudyConfig) -> None:
    hb = cfg.hyperband
    sizes = [hb.n_inputs] + list(hb.survivors)
    for i, s in enumerate(hb.survivors):
        if not isinstance(s, int) or s < 1:
            raise ConfigError(f"hyperband.survivors[{i}]: {s!r} must be a positive integer")
        if s >= sizes[i]:
            raise ConfigError(
                f"hyperband.survivors: {sizes[i + 1]} survivors out of {sizes[i]} is not an elimination; "
                f"each round must keep fewer than it gets (n_inputs={hb.n_inputs}, survivors={hb.survivors})"
            )
    if len(hb.epochs_per_rung) != len(hb.survivors) + 1:
        raise ConfigError(
            f"hyperband.epochs_per_rung: needs {len(hb.survivors) + 1} entries (one per rung, survivors={hb.survivors}), "
            f"got {hb.epochs_per_rung}"
        )
    for i, e in enumerate(hb.epochs_per_rung):
        if not isinstance(e, int) or e < 1:
            raise ConfigError(f"hyperband.epochs_per_rung[{i}]: {e!r} must be a positive number of epochs")
    if cfg.mi.max_epochs < cfg.mi.min_epochs:
        raise ConfigError(f"mi.max_epochs ({cfg.mi.max_epochs}) must be >= mi.min_epochs ({cfg.mi.min_epochs})")
    for name in cfg.data.source.split("+"):
        if name not in DATA_FAMILIES:
            raise ConfigError(f"data.source: {cfg.data.source!r} is not allowed; choose one of {DATA_FAMILIES.names()} "
                              "or several joined by '+' (e.g. embedded+fashion)")
    for m in cfg.mi.signals:
        if m not in SIGNALS:  # every registered signal: the MI estimators, the probe, the proxies
            raise ConfigError(f"mi.signals: unknown signal {m!r}; choose from {SIGNALS.names()}")
    if not cfg.mi.signals:
        raise ConfigError("mi.signals: name at least one signal, e.g. [ba]")
    for key in ("n_train_samples", "n_test_samples"):
        n = getattr(cfg.collection, key)
        if n < hb.n_clean:
            raise ConfigError(
                f"collection.{key} ({n}) must be >= hyperband.n_clean ({hb.n_clean}): a clean posterior "
                f"sums {hb.n_clean} posteriors of one data set; raise {key} or lower n_clean"
            )


def profile_path(profile_or_path: str | Path) -> Path:
    """The absolute params file of a profile name (params/<name>.yaml) or of a YAML path (relative to the current folder)."""
    text = str(profile_or_path)
    path = Path(text).expanduser()
    if text in PROFILES or not (path.suffix in (".yaml", ".yml") or path.exists()):
        path = PARAMS_DIR / f"{text}.yaml"
        if not path.exists():
            raise ConfigError(f"unknown profile {text!r}; choose one of {list(PROFILES)} or give a path to a YAML file")
    if not path.exists():
        raise ConfigError(f"params file {path.absolute()} does not exist")
    return Path(os.path.abspath(path))


def _absolute(value: str) -> str:
    return os.path.abspath(os.path.expanduser(value)) if value else value


def load(profile_or_path: str | Path = "default", **overrides: Any) -> StudyConfig:
    """Load and validate `params/<profile>.yaml` (or a YAML path), applying dotted overrides.

    Overrides use dots or double underscores: `load("smoke", **{"train.lr": 0.1})` or
    `load("smoke", train__lr=0.1)`. Raises ConfigError on any bad key, type or value.
    Every path (`PATH_KEYS`) comes back absolute, resolved against the current folder once here,
    so notebooks running elsewhere see the same folders.
    """
    path = profile_path(profile_or_path)
    try:
        raw = parse_yaml(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} cannot be read: {err}") from err
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of params keys (key: value lines, as in "
                          f"{PARAMS_DIR / 'default.yaml'}), got a {type(raw).__name__}")
    raw.setdefault("profile", path.stem)
    migrate.rename_params(raw, path.name)  # a key renamed since the file was written: read under its name now
    for key, value in overrides.items():
        set_path(raw, migrate.rename_override(key.replace("__", ".")), value)  # an old name replaces the file's value
    cfg = build(StudyConfig, raw)
    _check_cross(cfg)
    cfg.output_dir = _absolute(cfg.output_dir)
    cfg.data.root = _absolute(cfg.data.root)
    cfg.engine.checkpoint_dir = _absolute(cfg.engine.checkpoint_dir)
    return cfg


def get_value(cfg: StudyConfig, key: str) -> Any:
    """The value of a dotted params key in a loaded config, e.g. `get_value(cfg, "train.lr")`."""
    obj: Any = cfg
    for part in key.replace("__", ".").split("."):
        obj = getattr(obj, part)
    return obj
