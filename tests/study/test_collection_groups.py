"""Population training inside the collection: Hyperband rungs and input samples trained in groups give the
trainings, brackets and signals one-at-a-time training gives (to float noise), with fewer jobs."""
import sqlite3

import pytest

from minas.core import config
from minas.core.engine import Engine
from minas.core.store import Store
from minas.study import collection
from minas.study.collection import runner

OVERRIDES = {
    "data.tasks": ["mnist-parity", "digits8"],
    "collection.n_train_samples": 2,
    "collection.n_test_samples": 2,
    "mi.n_standardize": 2,
}


class CountingEngine(Engine):
    """The in-process engine, counting the jobs it runs by function name."""

    def __init__(self):
        super().__init__(workers=0, progress=False)
        self.counts: dict[str, int] = {}

    def run(self, jobs, desc="jobs", follow=None):
        def counted(job, result):
            self.counts[job.fn.__name__] = self.counts.get(job.fn.__name__, 0) + 1
            return follow(job, result) if follow else []
        yield from super().run(jobs, desc, follow=counted)


def _collect(out, **over):
    cfg = config.load("smoke", output_dir=str(out), **OVERRIDES, **over)
    eng = CountingEngine()
    store = Store(cfg.out / "store.sqlite")
    collection.collect(cfg, store, eng)
    con = sqlite3.connect(cfg.out / "store.sqlite")
    rows = con.execute("SELECT task, arch, epochs, kind, accuracy, engine, device FROM trainings").fetchall()
    brackets = con.execute("SELECT task, instance, result FROM brackets").fetchall()
    mi = con.execute("SELECT task, arch, method, layer, value FROM mi").fetchall()
    con.close()
    return cfg, eng.counts, rows, brackets, mi


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    base = tmp_path_factory.mktemp("groups")
    return _collect(base / "alone"), _collect(base / "grouped", **{"train.group_size": 4})


def test_groups_train_what_one_at_a_time_trains(both):
    (_, n1, alone, b1, mi1), (cfg, n4, grouped, b4, mi4) = both
    assert {r[:4] for r in alone} == {r[:4] for r in grouped}  # the same trainings, brackets and signals
    assert {r[:2] for r in b1} == {r[:2] for r in b4}
    assert {r[:4] for r in mi1} == {r[:4] for r in mi4}
    acc = {r[:4]: r[4] for r in alone}
    assert max(abs(acc[r[:4]] - r[4]) for r in grouped) <= 0.05  # float noise, not another training
    assert {r[5] for r in alone} == {"cnn"}
    assert "population" in {r[5] for r in grouped} and {r[6] for r in alone + grouped} == {"cpu"}
    assert n4["train_group"] > 0 and n4["converge_group"] > 0
    assert n4.get("train_fixed", 0) + n4["train_group"] < n1["train_fixed"]


def test_a_rerun_of_a_grouped_collection_trains_nothing(both):
    cfg = both[1][0]
    eng = CountingEngine()
    store = Store(cfg.out / "store.sqlite")
    collection.collect(cfg, store, eng)
    assert eng.counts == {}
    engines = collection.work_done(cfg, store)["engines"]
    assert engines["population"] > 0 and sum(engines.values()) == store.count("trainings")


def test_groups_follow_the_setting():
    cfg1 = config.load("smoke")
    ids = ["10-10-10-10", "20-20-20-20", "15-15-15-15", "10-20-10-20", "120-120-120-120"]
    assert runner.groups_for(cfg1, ids) == [[i] for i in range(5)]
    groups = runner.groups_for(config.load("smoke", **{"train.group_size": 2}), ids)
    assert sorted(i for g in groups for i in g) == list(range(5)) and max(map(len, groups)) == 2
    auto = runner.groups_for(config.load("smoke", **{"train.group_size": 0, "device": "cpu"}), ids)
    assert [4] in auto and max(map(len, auto)) == 4  # on the CPU only narrow networks share a step
