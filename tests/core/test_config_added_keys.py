"""Keys added for issue 23 (hyperband.lam_mode, hyperband.max_clean, predict.holdout) leave every stored key as it was."""
import dataclasses
import hashlib
import json

import pytest

from minas.core import config, describe, keys

SECTIONS = [("data", "train"), ("data", "train", "mi"), ("data", "train", "hyperband")]  # training, signal, bracket keys
NEW = {"hyperband": ("lam_mode", "max_clean"), "predict": ("holdout", "power_reps"), "train": ("group_size",)}


def _hash_before(cfg, *names) -> str:
    """The section hash as it was before these keys existed: the same dict without them, location keys at their
    defaults, mi.signals under its first name."""
    d = cfg.to_dict()
    for section, new in NEW.items():
        d[section] = {k: v for k, v in d[section].items() if k not in new}
    d["data"] = {**d["data"], "root": config.DataConfig().root, "download": config.DataConfig().download}
    d["mi"]["methods"] = d["mi"].pop("signals")
    blob = json.dumps({n: d[n] for n in names}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@pytest.mark.parametrize("profile", config.PROFILES)
def test_added_keys_at_their_defaults_keep_every_hash(profile):
    cfg = config.load(profile)
    assert (cfg.hyperband.lam_mode, cfg.hyperband.max_clean, cfg.predict.holdout) == ("fixed", 0, "family")
    if profile == "full":  # full trains in populations (group_size 0), never run before: its keys moved on purpose
        assert cfg.train.group_size == 0
        assert keys.section_hash(cfg, "data", "train") != _hash_before(cfg, "data", "train")
        cfg = config.load(profile, **{"train.group_size": 1})
    assert not any(set(new) & set(keys.FIRST_KEYED[section]) for section, new in NEW.items())  # hashed off default only
    for names in SECTIONS:
        assert keys.section_hash(cfg, *names) == _hash_before(cfg, *names)


def test_an_added_key_off_its_default_changes_the_hash_it_belongs_to():
    base = config.load("default")
    for key, value in (("hyperband.lam_mode", "balanced"), ("hyperband.max_clean", 100)):
        cfg = config.load("default", **{key: value})
        assert keys.bracket_key(cfg, "bf16") != keys.bracket_key(base, "bf16")
        assert keys.signal_key(cfg, "bf16") == keys.signal_key(base, "bf16")
    src = config.load("default", **{"predict.holdout": "source"})
    assert all(keys.section_hash(src, *n) == keys.section_hash(base, *n) for n in SECTIONS)  # keys no training
    assert keys.result_key(src, "bf16") != keys.result_key(base, "bf16")  # but a saved Experiment 1 is stale
    with pytest.raises(config.ConfigError, match="predict.holdout"):
        config.load("default", **{"predict.holdout": "tasks"})
    doc = {r.key: r.doc for r in describe.describe()}
    assert "accuracy only" in doc["hyperband.lam_mode"] and "C(n, n_clean)" in doc["hyperband.max_clean"]
