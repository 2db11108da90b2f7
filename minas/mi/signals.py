"""The mi room's signals: each MI estimator of `minas.mi.estimate` and the linear probe, registered in
the signal slot (`minas.core.registry.SIGNALS`) so the collection can store them like any other signal.

MI signals are in nats (an estimate of I(C_i; y) per layer, Shannon MI only insofar as the estimator
is tight); the probe is a held-out accuracy (Alain & Bengio 2016), information usable by a linear critic.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from minas.core.registry import SIGNALS, SignalInput, SignalValue
from minas.core.seeding import derive_seed
from minas.mi import probe
from minas.mi.estimate import ESTIMATORS, estimate_layers


@dataclass(frozen=True)
class MISignal:
    """I(C_i; y) per layer of a trained network by one estimator (options: the config's mi section)."""

    name: str
    about: str
    unit: str = "nats"
    per_layer: bool = True
    needs_training: bool = True

    def seed_for(self, base: int, task: str, arch: str) -> int:
        return derive_seed(base, "mi", task, arch, self.name)

    def compute(self, inp: SignalInput, seed: int) -> list[SignalValue]:
        results = estimate_layers(inp.acts, inp.y, method=self.name, seed=seed, **inp.options)
        return [SignalValue(layer, r.value if r.ok else None, r.ok, r.reason, r.seconds, list(map(float, r.curve)))
                for layer, r in enumerate(results, start=1)]


@dataclass(frozen=True)
class ProbeSignal:
    """Held-out accuracy of a linear classifier on each layer's activations (a fraction, not nats)."""

    name: str = probe.NAME
    about: str = "linear-probe accuracy per layer on held-out rows (Alain & Bengio 2016)"
    unit: str = "accuracy"
    per_layer: bool = True
    needs_training: bool = True

    def seed_for(self, base: int, task: str, arch: str) -> int:
        return derive_seed(base, "probe", task, arch)

    def compute(self, inp: SignalInput, seed: int) -> list[SignalValue]:
        t0 = time.perf_counter()
        accs = probe.probe_accuracy(inp.acts, inp.y, seed=seed)
        secs = (time.perf_counter() - t0) / len(accs)
        return [SignalValue(layer, v, True, "", secs) for layer, v in enumerate(accs, start=1)]


for _m in ESTIMATORS.values():
    SIGNALS.register(MISignal(_m.name, _m.about))
SIGNALS.register(ProbeSignal())

