"""Extension slots: the Signal, DataFamily and Predictor protocols and the registries that hold them.

A slot is a name -> object dict that other rooms fill (the pattern of benchmark-mi's `interface.py`:
one protocol per extension point in a module that imports nothing of the package). Adding a signal
or a data family means writing one object in its own room and registering it; config checks names
against the registry instead of listing them by hand.

The registries know their providers by module name and import them on first use, so this bottom
room never imports a higher one at import time (the same idea as Python's entry points).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


class Registry(Generic[T]):
    """Named objects of one kind, filled by `register` from the provider modules."""

    def __init__(self, kind: str, providers: tuple[str, ...]):
        self.kind = kind
        self.providers = providers
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, item: T) -> T:
        """Add `item` under `item.name`; a second object under one name is a programming error."""
        name = item.name  # type: ignore[attr-defined]
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self.providers:
                importlib.import_module(module)

    def get(self, name: str) -> T:
        """The object registered as `name`; unknown names raise KeyError listing the known ones."""
        self._load()
        if name not in self._items:
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of {self.names()}")
        return self._items[name]

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def items(self) -> list[tuple[str, T]]:
        self._load()
        return sorted(self._items.items())


# ---------------------------------------------------------------- signals

@dataclass
class SignalInput:
    """What a signal may read about one architecture on one task.

    model: the network (trained when the signal `needs_training`, at initialisation otherwise);
    x, y: the rows the signal is measured on, images (N, C, H, W) and integer labels (N,);
    acts: each layer's activations on x (N, C_i, H_i, W_i), filled when a signal needs them;
    options: settings from the config (e.g. the MI estimator options); device: where to compute.
    """

    model: Any
    x: Any
    y: Any
    n_classes: int
    acts: list | None = None
    options: dict = field(default_factory=dict)
    device: Any = "cpu"


@dataclass
class SignalValue:
    """One number of a signal: layer 1..L for per-layer signals, 0 for a whole-network one.

    value is None whenever ok is False, and reason says why: a failure is a result, never a number.
    """

    layer: int
    value: float | None
    ok: bool = True
    reason: str = ""
    seconds: float = 0.0
    curve: list = field(default_factory=list)


@runtime_checkable
class Signal(Protocol):
    """A per-architecture measurement that can feed the predictors: an MI estimate, a probe, a proxy."""

    name: str            # stored as the method of its rows
    unit: str            # "nats", "accuracy", "score", "count"
    per_layer: bool      # one value per layer (True) or one for the network (layer 0)
    needs_training: bool  # read from a trained network (True) or at initialisation (False)
    about: str           # one line for tables and docs

    def seed_for(self, base: int, task: str, arch: str) -> int:
        """The seed of this signal for (task, arch): each signal owns its random stream."""
        ...

    def compute(self, inp: SignalInput, seed: int) -> list[SignalValue]:
        """The signal's values: L per-layer values (layers 1..L) or one (layer 0)."""
        ...


SIGNALS: Registry[Signal] = Registry("signal", ("minas.mi.signals", "minas.nas.proxies"))


# ---------------------------------------------------------------- data families

@runtime_checkable
class DataFamily(Protocol):
    """A source of tasks: names the tasks it offers and builds each one from the config."""

    name: str    # e.g. "embedded", "thesis"
    about: str

    def task_names(self, cfg: Any) -> list[str]:
        ...

    def build(self, cfg: Any, task: str) -> Any:  # -> minas.data.Task
        ...

    def check(self, cfg: Any, names: list[str]) -> None:  # raise DataError naming a missing file and how to get it
        ...


DATA_FAMILIES: Registry[DataFamily] = Registry("data family", ("minas.data.embedded", "minas.data.fashion", "minas.data.thesis",
                                                                  "minas.data.glyphs", "minas.data.folder"))


# ---------------------------------------------------------------- predictors

@runtime_checkable
class PredictorFeature(Protocol):
    """What a predictor reads about one input sample beside its architecture (thesis Def. 2.3): `width` numbers per
    layer, e.g. a signal's z-scored value, the sample's accuracy, the task's descriptors, or nothing."""

    label: str   # a stable name for tables and derived seeds (e.g. "mi:mine"); shown, never parsed
    signal: str  # the collected signal it reads ("" when none); orders Table 3.1 within a rank
    width: int   # numbers per layer

    def bind(self, signals: list[str], primary: str | None) -> "PredictorFeature | None":
        """This feature for a collection holding `signals` (primary: the one NN + MI reads); None: not collected."""
        ...

    def missing(self, collected: Any) -> str:
        """Why `collected` cannot feed it ("" when it can)."""
        ...

    def matrix(self, collected: Any) -> Any:
        """(n_samples, N_LAYERS * width) float64, layer-major, one row per row of `collected.samples`."""
        ...


@runtime_checkable
class Predictor(Protocol):
    """A thing Experiment 1 compares (thesis sec. 3.1, Table 3.1): it reads one feature of each input sample and
    fits a map to the task's clean Hyperband posterior."""

    name: str              # display name in Table 3.1, e.g. "NN + MI"
    about: str             # one line for tables and docs
    feature: Any           # a PredictorFeature
    fit: Any               # how it fits (minas.study.predict.fits): the thesis MLP, Gaussian + X, or a fixed baseline
    baseline: bool         # reads no information about the task (Uniform, the noise column, the architecture alone)
    crossval: bool         # also scored in every fold of the leave-one-source-out cross-validation
    rank: float            # place in Table 3.1 (then the signal it reads, then a Gaussian before its NN twin)
    against: tuple         # names it is compared with: one paired test "this minus that" each
    compare_rank: float    # place of those tests in the comparisons table

    def bind(self, signals: list[str], primary: str | None) -> list:
        """The concrete predictors for a collection of `signals` ([] when what it reads was not collected)."""
        ...


PREDICTORS: Registry[Predictor] = Registry("predictor", ("minas.study.predict.compared",))


# ---------------------------------------------------------------- arithmetic

@runtime_checkable
class Arithmetic(Protocol):
    """A train.precision setting that resolves per machine: the result keys (minas.core.keys) name what it resolves to."""

    name: str  # the setting, e.g. "auto"

    def resolve(self, device: str) -> str:  # the arithmetic on this device ("bf16" or "fp32"); device as in config
        ...


ARITHMETICS: Registry[Arithmetic] = Registry("train.precision setting", ("minas.nas.device",))


# ---------------------------------------------------------------- store checks

@runtime_checkable
class StoreCheck(Protocol):
    """An invariant of a results store that `minas check` verifies (minas.core.check), e.g. a bracket's
    trainings are stored with the accuracies it used; the study room supplies them (it knows the rules)."""

    name: str
    about: str  # one line: what must hold

    def problems(self, con: Any) -> list[str]:  # sqlite3.Connection (read-only) -> one line per kind of problem
        ...


STORE_CHECKS: Registry[StoreCheck] = Registry("store check", ("minas.study.checks",))
