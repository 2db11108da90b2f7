"""Params validation: every bad input is named before any work starts."""
import pytest
import yaml

from minas.core import config
from minas.core.config import ConfigError


@pytest.mark.parametrize("profile", config.PROFILES)
def test_profiles_load(profile):
    cfg = config.load(profile)
    assert cfg.profile == profile
    assert cfg.hyperband.survivors[-1] < cfg.hyperband.n_inputs


def test_profile_yaml_keys_are_all_known():
    keys = config.flat_keys()
    for profile in config.PROFILES:
        raw = yaml.safe_load((config.PARAMS_DIR / f"{profile}.yaml").read_text())

        def walk(d, prefix=""):
            for k, v in d.items():
                if isinstance(v, dict):
                    yield from walk(v, prefix + k + ".")
                else:
                    yield prefix + k

        assert set(walk(raw)) <= keys


def test_full_keeps_thesis_numbers():
    cfg = config.load("full")
    assert cfg.hyperband.n_inputs == 12 and cfg.hyperband.survivors == [8, 4]
    assert sum(s * e for s, e in zip([12, 8, 4], cfg.hyperband.epochs_per_rung)) == 96
    assert (cfg.collection.n_train_samples, cfg.collection.n_test_samples) == (11, 5)
    assert cfg.controller.iterations == 49 and cfg.controller.datasets_per_iteration == 5
    assert cfg.mi.n_standardize == 7 and cfg.mi.min_epochs == 18 and cfg.data.source == "thesis"


def test_unknown_profile():
    with pytest.raises(ConfigError, match="unknown profile 'nope'.*smoke"):
        config.load("nope")


def test_unknown_key_names_it():
    with pytest.raises(ConfigError, match="train.lrr"):
        config.load("smoke", **{"train.lrr": 0.1})


def test_unknown_section_key(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("seed: 1\nbogus: 3\n")
    with pytest.raises(ConfigError, match="'bogus'"):
        config.load(p)


def test_wrong_type():
    with pytest.raises(ConfigError, match="train.epochs|train.max_epochs.*expected int"):
        config.load("smoke", **{"train.max_epochs": "ten"})


def test_bool_is_not_an_int():
    with pytest.raises(ConfigError, match="seed"):
        config.load("smoke", seed=True)


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("train.max_epochs", -1, "below the minimum"),
        ("hyperband.lam", -0.1, "hyperband.lam"),
        ("hyperband.survivors", [8, 9], "not an elimination"),
        ("hyperband.survivors", [12, 4], "not an elimination"),
        ("hyperband.epochs_per_rung", [4, 4], "needs 3 entries"),
        ("hyperband.epochs_per_rung", [4, -4, 4], "positive"),
        ("device", "tpu", "choose one of"),
        ("mi.methods", ["magic"], "unknown estimator 'magic'"),
        ("collection.n_train_samples", 1, "n_clean"),
    ],
)
def test_out_of_range(key, value, match):
    with pytest.raises(ConfigError, match=match):
        config.load("default", **{key: value})


def test_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_overrides_apply_with_dots_or_underscores():
    a = config.load("smoke", **{"train.lr": 0.2})
    b = config.load("smoke", train__lr=0.2)
    assert a.train.lr == b.train.lr == 0.2
    assert isinstance(config.load("smoke", **{"train.lr": 1}).train.lr, float)


def test_section_hash_changes_with_settings():
    a, b = config.load("smoke"), config.load("smoke", **{"train.lr": 0.2})
    assert a.section_hash("train") != b.section_hash("train")
    assert a.section_hash("hyperband") == b.section_hash("hyperband")
