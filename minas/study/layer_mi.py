"""Per-layer MI of networks trained on the study's own tasks, and the data-processing-inequality check.

`layer_mi_on_tasks` trains random architectures (Kossmann 2019, 2.1.1) and estimates I(C_i; y) for each
layer; `dpi_check` tests I(C_{i+1}; y) <= I(C_i; y), which per-layer Shannon MI obeys because each layer is
a function of the one before (Cover & Thomas 2006, 2.8). For notebook 02 (issue 12): `study_networks` (the layer
shapes the known-MI suite is presented at), `noisy_label_suite` (known MI on real images: labels through a
symmetric channel, Lee & Rhee, NeurIPS 2024), `real_layers` (MI estimates beside usable information under
linear and small-MLP probes, Xu et al., ICLR 2020, on training and held-out rows) and `fano_shares` (the share
of estimates under the Fano floor that a held-out probe's error implies).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from minas import data
from minas.core.config import StudyConfig
from minas.core.seeding import derive_seed
from minas.mi import estimate_layers, options_from_config
from minas.mi import probe as mi_probe
from minas.nas import cnn, space
from minas.nas.device import pick_device


def trained_networks(cfg: StudyConfig, n_tasks: int, n_archs: int):
    """Yield (task, arch, TrainResult, model): n_archs random architectures trained to convergence on each of
    the first n_tasks training tasks, seeded by (profile seed, "mi-real", task / arch)."""
    for task in [t for t in data.build_tasks(cfg) if t.split == "train"][:n_tasks]:
        rng = np.random.default_rng(derive_seed(cfg.seed, "mi-real", task.name))
        for arch in space.sample_architectures(n_archs, rng):
            result, model = cnn.train_to_convergence(task, arch, derive_seed(cfg.seed, "mi-real", arch.id) % 2**31,
                                                     cfg.train, pick_device(cfg.device))
            yield task, arch, result, model


def layer_mi_on_tasks(cfg: StudyConfig, methods: list, n_tasks: int = 1, n_archs: int = 2, seeds: int = 1,
                      **options) -> pd.DataFrame:
    """Per-layer MI of trained networks on the study's tasks -> DataFrame (task, arch, method, seed, layer, value, curve).

    Each of n_archs random architectures is trained to convergence (minas.nas.cnn) on each of the
    first n_tasks training tasks; its activations on the task's training rows feed every method.
    """
    opts = {**options_from_config(cfg.mi), **options}
    rows = []
    for task, arch, result, model in trained_networks(cfg, n_tasks, n_archs):
        acts = cnn.activations(model, task.x_train[: opts["max_rows"]])
        y = task.y_train[: opts["max_rows"]]
        for m in methods:
            for s in range(seeds):
                for layer, r in enumerate(estimate_layers(acts, y, m, seed=s, **opts), start=1):
                    rows.append({"task": task.name, "arch": arch.id, "accuracy": result.accuracy, "method": m,
                                 "seed": s, "layer": layer, "value": r.value, "ok": r.ok, "seconds": r.seconds,
                                 "curve": r.curve, "ceiling": math.log(task.n_classes)})
    return pd.DataFrame(rows)


def dpi_check(frame: pd.DataFrame, tol: float = 0.05) -> pd.DataFrame:
    """Share of (task, arch, method, seed) whose MI never rises from one layer to the next by more than tol nats.

    The data-processing inequality: I(C_{i+1}; y) <= I(C_i; y), since C_{i+1} is a function of C_i.
    """
    def holds(g):
        v = g.sort_values("layer")["value"].to_numpy()
        return bool(np.all(np.diff(v) <= tol))

    keys = ["task", "arch", "method", "seed"]
    per = frame.groupby(keys).apply(holds, include_groups=False).rename("dpi_holds").reset_index()
    return per.groupby("method")["dpi_holds"].mean().rename("share_dpi_holds").reset_index()


# ---------------------------------------------------------------- issue 12, items 3 and 5

def study_networks(cfg: StudyConfig, channels=(10, 120)) -> dict:
    """Layer shapes of the study's networks at the profile's image size: name -> 4 (C, H, W), every layer C filters."""
    side, ch = cfg.data.image_size, 1
    arch = space.Architecture(tuple([channels[0]] * 4))
    model = cnn.new_model(arch, ch, 2, 0, "cpu")
    spatial = [tuple(a.shape[2:]) for a in model.features(torch.zeros(1, ch, side, side))]
    return {f"C{c}": [(c, *hw) for hw in spatial] for c in channels}


def symmetric_channel(y: torch.Tensor, k: int, flip: float, seed: int) -> torch.Tensor:
    """Labels through a symmetric channel: kept with probability 1 - flip, else uniform over the other K - 1."""
    gen = torch.Generator().manual_seed(seed)
    flip_mask = torch.rand(len(y), generator=gen) < flip
    other = (y + torch.randint(1, k, (len(y),), generator=gen)) % k
    return torch.where(flip_mask, other, y)


def channel_truth(y: torch.Tensor, k: int, flip: float) -> float:
    """I(x; y') in nats when y is a function of x: H(y') - h(b) - b log(K - 1), p(y') the channel's output of p(y)."""
    p = torch.bincount(y, minlength=k).double() / len(y)
    q = (1 - flip) * p + flip * (1 - p) / (k - 1)
    h_out = float(-(q[q > 0] * q[q > 0].log()).sum())
    h_b = 0.0 if flip in (0.0, 1.0) else -(flip * math.log(flip) + (1 - flip) * math.log(1 - flip))
    return h_out - h_b - flip * math.log(k - 1)


def noisy_label_suite(cfg: StudyConfig, methods: list, flips=(0.0, 0.1, 0.3), seeds: int = 1, **options) -> pd.DataFrame:
    """Known MI on real images (Lee & Rhee, NeurIPS 2024): the first training task's images with labels through a
    symmetric channel of flip rate b; truth log K - h(b) - b log(K - 1) (for uniform labels) up to the data's own
    label ambiguity. Every row the task has (training and test rows), images as the input x.
    """
    opts = {**options_from_config(cfg.mi), **options, "max_rows": None}
    task = [t for t in data.build_tasks(cfg) if t.split == "train"][0]
    x = torch.cat([task.x_train, task.x_test]).float().div(255.0)  # (N, C, H, W)
    y = torch.cat([task.y_train, task.y_test])
    rows = []
    for b in flips:
        for s in range(seeds):
            y2 = symmetric_channel(y, task.n_classes, b, derive_seed(cfg.seed, "flip", b, s) % 2**31)
            truth = channel_truth(y, task.n_classes, b)
            for m in methods:
                r = estimate_layers([x], y2, m, seed=s, **opts)[0]
                rows.append({"task": task.name, "flip": b, "method": m, "seed": s, "rows": len(y), "truth": truth,
                             "ceiling": math.log(task.n_classes), "value": r.value, "ok": r.ok, "seconds": r.seconds})
    frame = pd.DataFrame(rows)
    frame["error"] = frame["value"] - frame["truth"]
    return frame


def real_layers(cfg: StudyConfig, methods: list, n_tasks: int = 1, n_archs: int = 2, families=("linear", "mlp"),
                **options) -> pd.DataFrame:
    """MI estimates and usable information of trained networks' layers, on the rows the CNN trained on and on
    the task's held-out rows.

    One row per (task, arch, rows, quantity, method, layer): quantity "mi" (method: an estimator; value: its
    held-out-split estimate on those rows) or "usable" (method: a probe family; value: held-out cross-entropy
    gain over the prior; on "train" rows the probe trains and tests on a split of the training rows, on
    "heldout" rows it trains on the training rows and tests on the held-out ones). `fano_floor` comes from the
    linear probe's error on the same rows; that error is the best of the probe's early-stopping checks on those
    rows, so `fano_floor_low` takes the error's upper bound (e + 1.96 SE, `mi.probe.Usable`): only an MI estimate
    below that conservative floor is provably too low.
    """
    opts = {**options_from_config(cfg.mi), **options, "max_rows": None}
    rows = []
    for task, arch, result, model in trained_networks(cfg, n_tasks, n_archs):
        sets = {"train": (cnn.activations(model, task.x_train), task.y_train),
                "heldout": (cnn.activations(model, task.x_test), task.y_test)}
        base = {"task": task.name, "arch": arch.id, "accuracy": result.accuracy,
                "ceiling": math.log(task.n_classes)}
        for where, (acts, y) in sets.items():
            probes = {}
            for fam in families:
                test = None if where == "train" else sets["heldout"]
                train_acts, train_y = sets["train"]
                probes[fam] = mi_probe.usable_information(train_acts, train_y, fam, seed=0, test=test)
            floor = [u.fano_floor for u in probes[families[0]]]
            floor_low = [u.fano_floor_low for u in probes[families[0]]]
            for fam, us in probes.items():
                for layer, u in enumerate(us, start=1):
                    rows.append({**base, "rows": where, "quantity": "usable", "method": fam, "layer": layer,
                                 "value": u.value, "ok": True, "seconds": 0.0, "probe_error": u.error,
                                 "probe_error_se": u.error_se, "fano_floor": floor[layer - 1],
                                 "fano_floor_low": floor_low[layer - 1]})
            for m in methods:
                for layer, r in enumerate(estimate_layers(acts, y, m, seed=0, **opts), start=1):
                    rows.append({**base, "rows": where, "quantity": "mi", "method": m, "layer": layer,
                                 "value": r.value, "ok": r.ok, "seconds": r.seconds, "probe_error": math.nan,
                                 "probe_error_se": math.nan, "fano_floor": floor[layer - 1],
                                 "fano_floor_low": floor_low[layer - 1]})
    return pd.DataFrame(rows)


def fano_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (rows, method) of the MI estimates: the share below the Fano floor of the same layer, and the share below
    its conservative floor at the probe error's upper bound (`fano_floor_low`: those are provably too low)."""
    m = frame[(frame.quantity == "mi") & frame.ok]
    keys = [m["rows"], m["method"]]
    out = (m.value < m.fano_floor).groupby(keys).mean().rename("share_below_fano").to_frame()
    if "fano_floor_low" in m:
        out["share_provably_low"] = (m.value < m.fano_floor_low).groupby(keys).mean()
    return out.reset_index()
