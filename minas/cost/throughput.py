"""What a unit of the study's work costs on a machine: a training image, 1,000 rows of a signal call, a predictor.

Measured by `minas.cost.calibration` in seconds on this machine (one torch thread, as every job of the study; on a
CPU in CPU time, so other work on a shared machine does not inflate the plan of an idle one), or read from a JSON
file measured elsewhere (e.g. on a GPU); `minas.cost.plan` turns its counts into hours with it. Training time per
image is interpolated in log-log over the FLOPs of a few networks (`cnn.flops_per_image`): small CNNs are
launch-bound, so time is far from proportional to FLOPs at the narrow end.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from minas.nas import cnn
from minas.nas.space import N_LAYERS, sample_architectures

@dataclass
class Throughput:
    """Seconds per training image as a function of a network's FLOPs, and seconds per 1,000 rows of each signal."""

    device: str
    precision: str
    points: list  # [[forward FLOPs per image, seconds per training image], ...] ascending
    mi_seconds_per_1000: dict  # method -> seconds per 1,000 rows of one network's signal call
    source: str = "calibrated"
    startup_seconds: float = 0.0  # a notebook's start: a Python process importing what the notebooks import
    converge_epochs: float = 0.0  # epochs a training to convergence took on the profile's first task (0: not measured)
    predictor_seconds: list = field(default_factory=list)  # [fixed, per epoch]: one posterior predictor (notebook 04's
    # NN) on the profile's training pairs, seconds; empty: not measured
    power_collection_seconds: float = 0.0  # a planted collection built and shuffled (04's own power check), seconds
    autobuild_seconds: list = field(default_factory=list)  # [per epoch, per epoch and 1,000 rows]: AutoBuild's
    # full-batch epochs on Hyperband rows, seconds; empty: not measured
    figure_seconds: float = 0.0  # a notebook figure drawn, saved as PNG and shown inline (0: not measured)
    problem_seconds_per_1000: dict = field(default_factory=dict)  # method -> {"flat": s, "image": s}: seconds per 1,000
    # rows of one input of a known-MI problem (notebook 02), flat or at a layer shape of the study's networks

    def problem_seconds(self, method: str, kind: str, rows: float) -> float:
        """Seconds of `rows` rows x layers of known-MI problems of `kind`; unmeasured: a quarter of a study call's
        4 layers at the method's study rate (an upper bound: a study call also computes the network's activations)."""
        rate = self.problem_seconds_per_1000.get(method, {}).get(kind)
        if rate is None:
            rate = self.mi_seconds_per_1000.get(method, 0.0) / N_LAYERS
        return rows / 1000 * rate

    def predictor_cost(self, predictors: float, epochs: float, autobuild_epochs: float = 0.0,
                       autobuild_row_epochs: float = 0.0, power_collections: int = 0) -> float:
        """Seconds of `predictors` posterior predictors training `epochs` epochs in all (`Work`'s units), of AutoBuild's
        epochs, which read `autobuild_row_epochs` rows in all, and of building `power_collections` planted collections."""
        fixed, per_epoch = self.predictor_seconds or (0.0, 0.0)
        step, per_1000 = self.autobuild_seconds or (0.0, 0.0)
        return (predictors * fixed + epochs * per_epoch + autobuild_epochs * step + autobuild_row_epochs / 1000 * per_1000
                + power_collections * self.power_collection_seconds)

    def predictor_note(self) -> str:
        """What a predictor, an AutoBuild epoch, a planted collection and a figure cost, in words."""
        unmeasured = "not measured"
        return ("a posterior predictor: " + ("{:.2f} s + {:.4f} s per epoch".format(*self.predictor_seconds)
                                             if self.predictor_seconds else unmeasured)
                + "; an AutoBuild epoch: " + ("{:.4f} s + {:.4f} s per 1,000 rows".format(*self.autobuild_seconds)
                                              if self.autobuild_seconds else unmeasured)
                + f"; a planted collection {self.power_collection_seconds:.2f} s; a figure "
                + (f"{self.figure_seconds:.2f} s" if self.figure_seconds else unmeasured))

    def seconds_per_image(self, flops: float) -> float:
        """Interpolated in log-log between the measured points; below them the smallest network's time (launch-bound),
        above them extended along the last segment (never falling)."""
        f, t = np.log([p[0] for p in self.points]), np.log([p[1] for p in self.points])
        x = math.log(flops)
        if x <= f[0]:
            return float(math.exp(t[0]))
        if x >= f[-1]:
            slope = max(0.0, (t[-1] - t[-2]) / (f[-1] - f[-2])) if len(f) > 1 else 1.0
            return float(math.exp(t[-1] + slope * (x - f[-1])))
        return float(math.exp(np.interp(x, f, t)))

    def save(self, path: str | Path) -> None:
        """Write as JSON (`load_throughput` reads it back; `minas plan --throughput` uses it)."""
        Path(path).write_text(json.dumps(asdict(self), indent=1))


def load_throughput(path: str | Path) -> Throughput:
    """A measured throughput JSON (as `Throughput.save` writes it); a clear error on a bad file."""
    try:
        d = json.loads(Path(path).read_text())
        d.pop("power_seconds", None)  # files written before notebook 06 stopped training its own power curve
        tp = Throughput(**{**d, "source": str(path)})
        if not tp.points or any(len(p) != 2 or p[0] <= 0 or p[1] <= 0 for p in tp.points):
            raise ValueError("points must be [[flops, seconds per image], ...], all positive")
        return tp
    except (OSError, TypeError, ValueError, KeyError) as err:
        raise ValueError(f"throughput file {path}: {err}; write one with `python -m minas plan --save-throughput PATH`") from err

def uniform_seconds(tp: Throughput, channels: int, size: int, n: int = 256) -> float:
    """Expected seconds per training image of a uniformly drawn architecture on images (channels, size, size)."""
    archs = sample_architectures(n, np.random.default_rng(0))
    return float(np.mean([tp.seconds_per_image(cnn.flops_per_image(a, channels, size)) for a in archs]))
