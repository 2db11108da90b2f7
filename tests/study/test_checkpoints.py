"""Checkpoints: an eliminated architecture's are deleted as soon as no rung can continue it; a resumed run still works."""
import numpy as np
import pytest

from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
from minas.nas.space import sample_architectures
from minas.study import collection, jobs

TINY = {"data.tasks": ["digits8"], "data.max_train_per_task": 60, "data.max_test_per_task": 30,
        "data.image_size": 8, "train.batch_size": 32}


def _cfg(out):
    return config.load("smoke", output_dir=str(out), **TINY)


def _fixed_checkpoints(cfg, task="digits8"):
    """{(arch, epochs)} of the task's fixed-epoch checkpoints on disk."""
    out = set()
    for p in (jobs.checkpoint_dir(cfg) / task).glob("*.pt"):
        m = jobs._CHECKPOINT.match(p.name)
        if m and int(m["epochs"]):
            out.add((m["arch"], int(m["epochs"])))
    return out


def test_prune_keeps_what_is_asked_and_every_converged_sample(tmp_path):
    cfg = _cfg(tmp_path)
    for arch, e in [("10-10-10-10", 0), ("10-10-10-10", 1), ("20-10-10-10", 1), ("20-10-10-10", 2)]:
        p = jobs.checkpoint_path(cfg, "digits8", arch, cfg.seed, e)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * 10)
    other = jobs.checkpoint_dir(cfg) / "digits8" / "10-10-10-10_s0_e1_000000000000.pt"  # another training config
    other.write_bytes(b"x")
    assert jobs.prune_checkpoints(cfg, "digits8", {("20-10-10-10", 2)}) == 2
    assert _fixed_checkpoints(cfg) == {("20-10-10-10", 2), ("10-10-10-10", 1)}  # the foreign file stays
    assert jobs.checkpoint_path(cfg, "digits8", "10-10-10-10", cfg.seed, 0).exists()
    assert jobs.checkpoint_bytes(cfg) == 10 + 10 + 1


def test_eliminated_checkpoints_go_as_soon_as_their_rung_closes(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    archs = sample_architectures(cfg.hyperband.n_inputs, np.random.default_rng(3))
    on_disk = []  # the task's fixed checkpoints after each prune
    prune = jobs.prune_checkpoints

    def watched(cfg_, task, keep):
        n = prune(cfg_, task, keep)
        on_disk.append(_fixed_checkpoints(cfg_, task))
        assert on_disk[-1] <= keep, "a checkpoint no rung can continue survived the prune"
        return n

    monkeypatch.setattr(jobs, "prune_checkpoints", watched)
    bars = []

    class Bar:  # records the total a bar starts with and every step
        def __init__(self, total, desc, **kw):
            self.total, self.n, self.totals = total, kw.get("initial", 0), []
            bars.append(self)

        def update(self, k=1):
            self.n += k
            self.totals.append(self.total)

        def close(self):
            pass

    monkeypatch.setattr(collection.runner, "bar", Bar)
    with Engine(workers=0, progress=True) as eng:
        (res,) = collection.run_brackets(cfg, Store(tmp_path / "store.sqlite"), eng,
                                         [collection.BracketSpec("t", "digits8", 0, archs)])
    hb = cfg.hyperband
    # one bar, its total known from the start (6 + 4 + 2 trainings) and reached exactly
    (b,) = bars
    assert b.total == hb.n_inputs + sum(hb.survivors) == b.n and set(b.totals) == {b.total}
    # after rung 0 closes: only its survivors' checkpoints (at 1 epoch) are left
    assert len(on_disk[1]) == hb.survivors[0] and {e for _, e in on_disk[1]} == {hb.epochs_per_rung[0]}
    assert _fixed_checkpoints(cfg) == set()  # the finished bracket needs none
    assert len(res.survivors) == hb.survivors[-1]


def test_resume_after_an_interrupted_rung_gives_the_same_result(tmp_path, monkeypatch):
    """Killed in rung 1: the survivors' rung-0 checkpoints must still be there for the rerun (nothing retrained)."""
    archs = sample_architectures(6, np.random.default_rng(4))
    spec = lambda: [collection.BracketSpec("t", "digits8", 0, archs)]  # noqa: E731
    clean_cfg = _cfg(tmp_path / "clean")
    with Engine(workers=0, progress=False) as eng:
        (clean,) = collection.run_brackets(clean_cfg, Store(tmp_path / "clean.sqlite"), eng, spec())

    cfg = _cfg(tmp_path / "killed")
    store = Store(tmp_path / "killed.sqlite")
    put = store.put_training

    def dies_in_rung_1(row):
        put(row)
        if row["epochs"] > cfg.hyperband.epochs_per_rung[0]:
            raise KeyboardInterrupt  # the driver is stopped after its first rung-1 training
    monkeypatch.setattr(store, "put_training", dies_in_rung_1)
    with pytest.raises(KeyboardInterrupt), Engine(workers=0, progress=False) as eng:
        collection.run_brackets(cfg, store, eng, spec())
    monkeypatch.undo()
    assert len(_fixed_checkpoints(cfg)) >= cfg.hyperband.survivors[0] - 1  # the rest of rung 1 can continue

    stored = store.count("trainings")
    continued = []  # (epochs, from_epochs, was the checkpoint there) of every training the rerun ran
    train = jobs.train_fixed

    def watched(cfg_, task, arch, epochs, frm):
        there = frm > 0 and jobs.checkpoint_path(cfg_, task, arch, cfg_.seed, frm).exists()
        continued.append((epochs, frm, there))
        return train(cfg_, task, arch, epochs, frm)
    monkeypatch.setattr(jobs, "train_fixed", watched)
    with Engine(workers=0, progress=False) as eng:
        (resumed,) = collection.run_brackets(cfg, store, eng, spec())
    assert resumed.survivors == clean.survivors and resumed.rows == clean.rows
    assert len(continued) == Store(tmp_path / "clean.sqlite").count("trainings") - stored  # nothing twice
    assert all(there for _, frm, there in continued if frm > 0), continued  # every continuation found its checkpoint
    assert _fixed_checkpoints(cfg) == set()
