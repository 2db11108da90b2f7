"""Reading a collection back (minas.study.collection.readback): a task's reference signals, complete rows only."""
import numpy as np

from minas.core import config, keys
from minas.core.store import Store
from minas.study.collection import input_archs
from minas.study.collection.readback import reference_signals


def _row(cfg, task, arch, signal, layer, value):
    return {"task": task, "arch": arch, "seed": cfg.seed, "method": signal, "layer": layer,
            "config": keys.signal_key(cfg), "value": value, "ok": int(value is not None)}


def test_reference_signals_reads_every_complete_architecture_in_design_order(tmp_path):
    cfg = config.load("smoke", output_dir=str(tmp_path))
    task = cfg.data.tasks[0]
    std, inputs = input_archs(cfg, task)
    archs = std + inputs
    store = Store(tmp_path / "s.sqlite")
    for i, a in enumerate(archs):
        if i == 1:  # the second architecture lacks its layer 4: left out
            store.put_signals([_row(cfg, task, a.id, "ba", l, 0.1 * i) for l in (1, 2, 3)])
            continue
        values = [None if (i, l) == (2, 3) else 0.1 * i + 0.01 * l for l in (1, 2, 3, 4)]  # one failed layer
        store.put_signals([_row(cfg, task, a.id, "ba", l, v) for l, v in zip((1, 2, 3, 4), values)])
    store.put_signals([_row(cfg, task, archs[0].id, "params", 0, 1234.0)])
    got = reference_signals(cfg, store, task, "ba")
    kept = [i for i in range(len(archs)) if i != 1]
    want = np.array([[0.1 * i + 0.01 * l for l in (1, 2, 3, 4)] for i in kept])
    want[kept.index(2), 2] = np.nan  # a failed estimate enters as NaN
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(reference_signals(cfg, store, task, "params"), [[1234.0]])  # whole-network: layer 0
    other = config.load("smoke", output_dir=str(tmp_path), **{"mi.lr": 0.5})  # another signal key: nothing stored
    assert reference_signals(other, store, task, "ba").shape == (0, 4)
