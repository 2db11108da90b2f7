"""Params validation: every bad input is named before any work starts."""
import pytest
import yaml

from minas.core import config, describe, parse
from minas.core.config import ConfigError


@pytest.mark.parametrize("profile", config.PROFILES)
def test_profiles_load(profile):
    cfg = config.load(profile)
    assert cfg.profile == profile
    assert cfg.hyperband.survivors[-1] < cfg.hyperband.n_inputs


def test_profile_yaml_keys_are_all_known():
    keys = describe.flat_keys()
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
        ("mi.signals", ["magic"], "unknown signal 'magic'"),
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


@pytest.mark.parametrize("text,value", [("1e-3", 0.001), ("5E-4", 0.0005), ("1.0e3", 1000.0), ("-2e+1", -20.0), (".5", 0.5)])
def test_numbers_in_any_yaml_spelling(text, value):
    assert parse.parse_yaml(text) == value and isinstance(parse.parse_yaml(text), float)
    cfg = config.load("smoke", **{"train.lr": parse.parse_yaml(text.lstrip("-"))})
    assert cfg.train.lr == abs(value)


def test_exponent_numbers_in_a_params_file(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("train:\n  lr: 1e-3\n  weight_decay: 5E-4\ndata:\n  max_train_per_task: 1e3\n")
    cfg = config.load(p)
    assert (cfg.train.lr, cfg.train.weight_decay) == (0.001, 0.0005)
    assert cfg.data.max_train_per_task == 1000 and isinstance(cfg.data.max_train_per_task, int)


@pytest.mark.parametrize("key,word", [("train.lr", "yes"), ("seed", "no"), ("device", "on"), ("engine.scheduler", "off")])
def test_yes_no_on_off_rejected_for_numbers_and_strings(key, word):
    with pytest.raises(ConfigError, match=f"{key}: '{word}' reads as a YAML boolean"):
        config.load("smoke", **{key: parse.parse_yaml(word)})


def test_yes_no_inside_a_list_is_rejected_but_quoted_is_a_word(tmp_path):
    with pytest.raises(ConfigError, match="data.tasks: 'no' reads as a YAML boolean"):
        config.load("smoke", **{"data.tasks": parse.parse_yaml("[mnist, no]")})
    assert parse.parse_yaml('"no"') == "no" and type(parse.parse_yaml('"no"')) is str


def test_yes_and_true_are_booleans_where_a_boolean_is_wanted():
    assert config.load("smoke", **{"data.download": parse.parse_yaml("yes")}).data.download is True
    assert config.load("smoke", **{"data.download": parse.parse_yaml("false")}).data.download is False


@pytest.mark.parametrize("text", ["- seed: 1\n", "just a string\n", "42\n"])
def test_non_mapping_file_is_a_clear_error(tmp_path, text):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        config.load(p)


def test_section_that_is_not_a_mapping(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("train: 5\n")
    with pytest.raises(ConfigError, match="^train: expected a mapping"):
        config.load(p)


def test_paths_are_made_absolute_at_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.yaml").write_text("data:\n  root: data\nengine:\n  checkpoint_dir: ck\n")
    cfg = config.load("my.yaml", output_dir="results")
    assert cfg.output_dir == str(tmp_path / "results") and cfg.out == tmp_path / "results"
    assert cfg.data.root == str(tmp_path / "data") and cfg.engine.checkpoint_dir == str(tmp_path / "ck")
    assert cfg.profile == "my" and config.profile_path("my.yaml") == tmp_path / "my.yaml"
    home = config.load("smoke").data.root
    assert home.startswith("/") and "~" not in home


def test_describe_shows_profile_values_beside_defaults():
    rows = {r.key: r for r in describe.describe("default")}
    assert rows["controller.iterations"].default == "49"
    assert rows["controller.iterations"].value == repr(config.load("default").controller.iterations) != "49"
    assert all(r.value == r.default for r in describe.describe())
    assert {r.key for r in describe.describe()} == describe.flat_keys()


def test_cell_timeout_per_profile():
    timeouts = {p: config.load(p).engine.cell_timeout for p in config.PROFILES}
    assert 0 < timeouts["smoke"] < timeouts["default"] < timeouts["full"]
    with pytest.raises(ConfigError, match="engine.cell_timeout"):
        config.load("smoke", **{"engine.cell_timeout": -1})


def test_parse_sets_parses_yaml_values_and_names_a_malformed_item():
    assert parse.parse_sets(["train.lr=1e-3", "data.tasks=[a, b]"]) == {"train.lr": 1e-3, "data.tasks": ["a", "b"]}
    with pytest.raises(ValueError, match="'foo': expected KEY=VALUE"):
        parse.parse_sets(["foo"])
    with pytest.raises(ValueError, match="the value is not YAML"):
        parse.parse_sets(["a=[1"])


def test_the_old_name_mi_methods_is_read_as_mi_signals_with_a_message(tmp_path, capsys):
    old = tmp_path / "old.yaml"
    old.write_text("mi:\n  methods: [ba, probe]\n")
    with pytest.warns(DeprecationWarning, match="mi.methods is now called mi.signals"):
        cfg = config.load(old)
    assert cfg.mi.signals == ["ba", "probe"] and "rename it" in capsys.readouterr().err
    with pytest.warns(DeprecationWarning):  # an override by the old name replaces the file's new-name value
        assert config.load("smoke", **{"mi.methods": ["params"]}).mi.signals == ["params"]
    both = tmp_path / "both.yaml"
    both.write_text("mi:\n  methods: [ba]\n  signals: [ba]\n")
    with pytest.raises(ConfigError, match="keep only mi.signals"):
        config.load(both)
