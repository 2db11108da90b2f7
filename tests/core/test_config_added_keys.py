"""Keys added for issue 23 (hyperband.lam_mode, hyperband.max_clean, predict.holdout) leave every stored key as it was."""
import dataclasses
import hashlib
import json

import pytest

from minas.core import config

SECTIONS = [("data", "train"), ("data", "train", "mi"), ("data", "train", "hyperband")]  # jobs.py and collection.py keys


def _hash_before(cfg, *names) -> str:
    """section_hash as it was before the keys existed: the same dict without them, location keys at their defaults."""
    d = cfg.to_dict()
    for section, keys in config._ADDED_KEYS.items():
        d[section] = {k: v for k, v in d[section].items() if k not in keys}
    for section, keys in config._LOCATION_KEYS.items():
        defaults = dataclasses.asdict(type(getattr(cfg, section))())
        d[section] = {**d[section], **{k: defaults[k] for k in keys}}
    blob = json.dumps({n: d[n] for n in names}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@pytest.mark.parametrize("profile", config.PROFILES)
def test_added_keys_at_their_defaults_keep_every_hash(profile):
    cfg = config.load(profile)
    assert (cfg.hyperband.lam_mode, cfg.hyperband.max_clean, cfg.predict.holdout) == ("fixed", 0, "family")
    for names in SECTIONS:
        assert cfg.section_hash(*names) == _hash_before(cfg, *names)


def test_an_added_key_off_its_default_changes_the_hash_it_belongs_to():
    base = config.load("default")
    for key, value in (("hyperband.lam_mode", "balanced"), ("hyperband.max_clean", 100)):
        cfg = config.load("default", **{key: value})
        assert cfg.section_hash("data", "train", "hyperband") != base.section_hash("data", "train", "hyperband")
        assert cfg.section_hash("data", "train", "mi") == base.section_hash("data", "train", "mi")
    src = config.load("default", **{"predict.holdout": "source"})
    assert all(src.section_hash(*n) == base.section_hash(*n) for n in SECTIONS)  # a predictor setting keys no training
    with pytest.raises(config.ConfigError, match="predict.holdout"):
        config.load("default", **{"predict.holdout": "tasks"})
    doc = {r.key: r.doc for r in config.describe()}
    assert "accuracy only" in doc["hyperband.lam_mode"] and "C(n, n_clean)" in doc["hyperband.max_clean"]
