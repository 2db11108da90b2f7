"""Collection seeds: `collection.seeds` repeats the whole collection, seed 0 keeps every key it had."""
import dataclasses

import numpy as np

import pytest

from minas.core import check, config, describe, keys, migrate
from minas.core.keys import seed_suffix, suffix_seed
from minas.core.store import Store
from minas.nas.space import parse_architecture
from minas.study import collection


def _cfg(tmp_path, **over):
    return config.load("smoke", output_dir=str(tmp_path), **over)


def test_key_defaults_to_one_and_is_validated(tmp_path):
    assert _cfg(tmp_path).collection.seeds == 1
    assert "collection.seeds" in describe.flat_keys()
    assert _cfg(tmp_path, **{"collection.seeds": 3}).collection.seeds == 3
    with pytest.raises(config.ConfigError, match="collection.seeds.*minimum 1"):
        _cfg(tmp_path, **{"collection.seeds": 0})
    with pytest.raises(config.ConfigError, match="collection.seeds: expected int"):
        _cfg(tmp_path, **{"collection.seeds": "two"})
    doc = {r.key: r.doc for r in describe.describe()}["collection.seeds"]
    assert "profile seed + i" in doc


def test_seed_configs_differ_only_in_seed(tmp_path):
    cfg = _cfg(tmp_path, **{"collection.seeds": 3, "seed": 5})
    cfgs = collection.seed_configs(cfg)
    assert cfgs[0] is cfg and [c.seed for c in cfgs] == [5, 6, 7]
    strip = lambda c: {k: v for k, v in c.to_dict().items() if k != "seed"}  # noqa: E731
    assert all(strip(c) == strip(cfg) and c.out == cfg.out for c in cfgs)
    assert cfg.seed == 5  # the profile's config is not changed by deriving the others
    assert collection.seed_configs(_cfg(tmp_path)) == [_cfg(tmp_path)]


def test_seed_0_bracket_key_unchanged_and_other_seeds_distinct(tmp_path):
    cfg = _cfg(tmp_path, **{"collection.seeds": 2})
    c0, c1 = collection.seed_configs(cfg)
    assert keys.bracket_key(c0) == keys.section_hash(cfg, "data", "train", "hyperband")  # the key before seeds
    assert keys.bracket_key(c1) == keys.section_hash(cfg, "data", "train", "hyperband") + "-s1"
    assert (seed_suffix(0), suffix_seed("abc"), suffix_seed("abc-s12")) == ("", None, 12)
    store = Store(tmp_path / "store.sqlite")
    for c in (c0, c1):
        (spec,) = collection.collection_brackets(c, "digits8")[:1]
        store.put_bracket(spec.tag, spec.task, spec.instance, keys.bracket_key(c), [a.id for a in spec.archs],
                          {"rows": [], "survivors": [], "scores": []}, 0.0)
    assert store.count("brackets") == 2  # seed 1 did not overwrite seed 0
    got = [store.get_bracket("collection", "digits8", 0, keys.bracket_key(c))["archs"] for c in (c0, c1)]
    assert got[0] != got[1]
    assert got[0] == [a.id for a in collection.collection_brackets(c0, "digits8")[0].archs]


def test_check_holds_a_seeded_bracket_to_its_own_seeds_trainings(tmp_path):
    a = "10-10-10-10"
    s = Store(tmp_path / "store.sqlite")
    s.put_training({"task": "t", "arch": a, "seed": 0, "epochs": 1, "config": "c", "kind": "fixed", "accuracy": 0.5})
    s.put_training({"task": "t", "arch": a, "seed": 1, "epochs": 1, "config": "c", "kind": "fixed", "accuracy": 0.6})
    res = {"rows": [{"rung": 0, "arch": a, "epochs": 1, "accuracy": 0.5}], "survivors": [a], "scores": [0.5]}
    s.put_bracket("collection", "t", 0, "h", [a], res, 1.0)  # seed 0's key: any seed's training may match
    assert check.check(s.path).ok
    s.put_bracket("collection", "t", 0, "h-s1", [a], res, 1.0)  # seed 1 with seed 0's accuracy
    text = check.check(s.path).text()
    assert "disagree with their stored trainings' accuracy: collection/t/0 (seed 1)" in text


def test_hashes_of_one_collection_stay_as_before(tmp_path):
    one, three = _cfg(tmp_path), _cfg(tmp_path, **{"collection.seeds": 3})
    assert keys.controller_key(one) == keys.controller_key(three)  # the controller reads the profile seed's collection only
    assert keys.result_key(one) != keys.result_key(three)
    assert migrate.old_result_key(one) != migrate.old_result_key(three)  # the old key: seeds left out at 1 only
    before = dataclasses.asdict(one)
    before.pop("output_dir")
    before["collection"].pop("seeds")
    before["mi"]["methods"] = before["mi"].pop("signals")  # the name stores were first keyed with
    before["train"].pop("group_size")  # added since, at their defaults
    for section, added in (("hyperband", ("lam_mode", "max_clean")), ("predict", ("holdout", "power_reps"))):
        for k in added:
            before[section].pop(k)
    import hashlib
    import json
    assert migrate.old_result_key(one) == hashlib.sha256(json.dumps(before, sort_keys=True, default=str).encode()).hexdigest()[:12]


TINY = {"data.tasks": ["digits8"], "data.max_train_per_task": 40, "data.max_test_per_task": 20, "train.max_epochs": 1,
        "collection.n_train_samples": 2, "collection.n_test_samples": 2, "mi.n_standardize": 2, "mi.signals": ["params"],
        "hyperband.n_inputs": 3, "hyperband.survivors": [2, 1], "hyperband.epochs_per_rung": [1, 1, 1]}


def test_two_seeds_collect_apart_and_seed_0_is_the_one_seed_collection(tmp_path):
    from minas.core.engine import Engine

    one = _cfg(tmp_path / "one", **TINY)
    two = _cfg(tmp_path / "two", **TINY, **{"collection.seeds": 2})
    with Engine(workers=0, progress=False) as eng:
        collection.collect(one, Store(one.out / "store.sqlite"), eng)
        summary = collection.collect(two, Store(two.out / "store.sqlite"), eng)
    assert summary.seeds == 2 and summary.brackets == 4
    s1, s2 = Store(one.out / "store.sqlite"), Store(two.out / "store.sqlite")
    a = collection.load_collected(one, s1)
    b0, b1 = (collection.load_collected(c, s2) for c in collection.seed_configs(two))
    assert a.samples.equals(b0.samples) and (a.posteriors["digits8"] == b0.posteriors["digits8"]).all()
    assert list(a.samples.arch) != list(b1.samples.arch)  # seed 1 drew its own architectures
    key = lambda s: sorted(s.frame("brackets").config.unique())  # noqa: E731
    assert key(s1) == [keys.bracket_key(one)] and key(s2) == [keys.bracket_key(one), keys.bracket_key(one) + "-s1"]
    assert sorted(s2.frame("trainings").seed.unique()) == [0, 1]
    assert check.check(s2.path).ok
    with Engine(workers=0, progress=False) as eng:  # the one-seed store resumed with two seeds: seed 0 recomputes nothing
        before = s1.frame("trainings")
        again = collection.collect(dataclasses.replace(one, collection=dataclasses.replace(one.collection, seeds=2)), s1, eng)
    after = s1.frame("trainings")
    assert again.input_jobs == summary.input_jobs / 2  # seed 1's only
    assert after[after.seed == 0].reset_index(drop=True).equals(before)  # not one seed-0 row rewritten


def test_balanced_size_penalty_scores_each_task_with_its_own_lambda(tmp_path):
    from minas.core.engine import Engine
    from minas.core.store import Store
    from minas.nas import hyperband

    cfg = config.load("smoke", output_dir=str(tmp_path), **{**TINY, "hyperband.lam_mode": "balanced"})
    store = Store(tmp_path / "store.sqlite")
    with Engine(workers=0, progress=False) as eng:
        collection.collect(cfg, store, eng)
    lam = collection.runner.task_lambda(cfg, store, "digits8")
    assert lam > 0 and lam != cfg.hyperband.lam
    rows = collection.load_collected(cfg, store).brackets
    want = [hyperband.score(r.accuracy, parse_architecture(r.arch), lam) for r in rows.itertuples()]
    assert len(rows) and np.allclose(rows.score, want)
