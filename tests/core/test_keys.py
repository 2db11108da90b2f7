"""Result keys (minas.core.keys): one rule for every kind, and the keys stores already hold stay as they were."""
import dataclasses

import pytest

from minas.core import config, keys, migrate

WHERE = {"data.root": "/srv/minas-data", "output_dir": "/srv/minas-out"}  # fixed paths: the old keys hashed some

# Computed by running the key builders of commit f1f9941 (before this module: StudyConfig.section_hash,
# jobs.train_config_hash / mi_config_hash, collection.bracket_config, controller.training.config_hash,
# views.report._settings_key) on config.load(profile, **WHERE), train.precision=auto resolved as named.
BEFORE = {
    ("smoke", "fp32"): {"training": "0c0bb8c6fd12", "signal": "e4a27cbb90f1", "bracket": "b90c859b3d38",
                        "bracket_s1": "b90c859b3d38-s1", "controller": "b6940838e6c2", "result": "37f5560b8d83"},
    ("default", "fp32"): {"training": "f00b9723c8fe-fp32", "signal": "a03fff3673b5-fp32", "bracket": "53e8b32126ad-fp32",
                          "bracket_s1": "53e8b32126ad-s1-fp32", "controller": "22373a9adab8", "result": "7b79a22d6c5f"},
    ("default", "bf16"): {"training": "f00b9723c8fe-bf16", "signal": "a03fff3673b5-bf16", "bracket": "53e8b32126ad-bf16",
                          "bracket_s1": "53e8b32126ad-s1-bf16", "controller": "350435217fc0", "result": "7b79a22d6c5f"},
}

# The controller and saved-result keys by this module's rule (paths and engine left out), as first computed
# by it: pinned so that a new params key moves them only on purpose (`keys.FIRST_KEYED`, CONTRIBUTING.md).
NOW = {("smoke", "fp32"): ("a62911cc3cab", "ae161b2e98d4"),  # smoke result key: predict.power_reps 3 (issue 23)
       ("default", "fp32"): ("69dbbbdb446a", "1b2bfd18ab3f"),
       ("default", "bf16"): ("5188eda24fbd", "285b73e6c335")}


def _all(cfg, resolved="bf16") -> dict[str, str]:
    """Every key of `cfg` (train.precision=auto taken as `resolved`)."""
    return {"training": keys.training_key(cfg, resolved), "signal": keys.signal_key(cfg, resolved),
            "bracket": keys.bracket_key(cfg, resolved), "controller": keys.controller_key(cfg, resolved),
            "result": keys.result_key(cfg, resolved)}


@pytest.mark.parametrize("profile,resolved", sorted(BEFORE))
def test_stored_keys_are_byte_identical_to_those_of_before(profile, resolved):
    cfg = config.load(profile, **WHERE)
    want = BEFORE[(profile, resolved)]
    assert keys.training_key(cfg, resolved) == want["training"]
    assert keys.signal_key(cfg, resolved) == want["signal"]
    assert keys.bracket_key(cfg, resolved) == want["bracket"]
    assert keys.bracket_key(dataclasses.replace(cfg, seed=1), resolved) == want["bracket_s1"]
    assert migrate.old_controller_key(cfg, resolved) == want["controller"]  # the old key, migrated from
    assert migrate.old_result_key(cfg) == want["result"]
    # the old controller and result keys hashed paths: elsewhere they differ; the new ones do not
    moved = config.load(profile, **{"data.root": "/elsewhere", "output_dir": "/elsewhere/out"})
    assert migrate.old_controller_key(moved, resolved) != want["controller"]
    assert keys.controller_key(moved, resolved) == keys.controller_key(cfg, resolved)
    assert (keys.controller_key(moved, resolved), keys.result_key(moved, resolved)) == NOW[(profile, resolved)]


def test_auto_precision_names_what_it_resolves_to_and_fixed_precisions_add_nothing():
    auto = config.load("smoke", **{"train.precision": "auto"})
    assert keys.training_key(auto, "fp32").endswith("-fp32") and keys.training_key(auto, "bf16").endswith("-bf16")
    assert keys.training_key(auto, "fp32")[:-5] == keys.training_key(auto, "bf16")[:-5]
    for name, fn in (("controller", keys.controller_key), ("result", keys.result_key)):
        assert fn(auto, "fp32") != fn(auto, "bf16"), name  # a store moved between machines is not mixed
    fixed = config.load("smoke", **{"train.precision": "bf16"})
    assert keys.arithmetic(fixed, "fp32") == "bf16" and keys.precision_suffix(fixed) == ""
    here = keys.arithmetic(auto)  # asked of the trainer through the ARITHMETICS slot
    from minas.nas import device

    assert here == device.resolve_precision("auto", device.pick_device(auto.device))
    assert keys.training_key(auto) == keys.training_key(auto, here)


@pytest.mark.parametrize("setting,value", [
    ("data.root", "/somewhere/else"), ("output_dir", "/other/out"), ("engine.checkpoint_dir", "/ck"),
    ("engine.workers", 7), ("engine.scheduler", "tcp://10.0.0.1:8786"), ("engine.cell_timeout", 99),
    ("engine.snapshots", 0), ("data.download", True),
])
@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_paths_engine_and_download_change_no_key(profile, setting, value):
    assert _all(config.load(profile, **{setting: value})) == _all(config.load(profile))


# setting -> the keys whose numbers it changes (every other key must stay)
CHANGES = {
    "train.lr": {"training", "signal", "bracket", "controller", "result"},
    "data.max_train_per_task": {"training", "signal", "bracket", "controller", "result"},
    "mi.lr": {"signal", "controller", "result"},
    "hyperband.lam": {"bracket", "controller", "result"},
    "collection.n_train_samples": {"controller", "result"},
    "controller.lr": {"controller", "result"},
    "predict.epochs": {"result"},
    "seed": {"bracket", "controller", "result"},  # trainings and signal rows carry their seed in their own key
}
CHANGED = {"train.lr": 0.07, "data.max_train_per_task": 123, "mi.lr": 3e-3, "hyperband.lam": 1e-3,
           "collection.n_train_samples": 12, "controller.lr": 3.0, "predict.epochs": 7, "seed": 4}


@pytest.mark.parametrize("setting", sorted(CHANGES))
def test_a_number_changes_exactly_the_keys_that_depend_on_it(setting):
    base, other = _all(config.load("smoke")), _all(config.load("smoke", **{setting: CHANGED[setting]}))
    assert {k for k in base if base[k] != other[k]} == CHANGES[setting]


def test_the_controller_key_ignores_how_long_or_how_often_it_runs():
    base = config.load("smoke")
    for setting, value in (("controller.iterations", 99), ("controller.seeds", 5), ("collection.seeds", 3)):
        assert keys.controller_key(config.load("smoke", **{setting: value})) == keys.controller_key(base), setting


def _with_new_field(cfg, value=None):
    """`cfg` as if a field `new_knob` (default 3) had just been added to its train section, set to `value`."""
    extended = dataclasses.make_dataclass("TrainConfig", [("new_knob", int, dataclasses.field(default=3))],
                                          bases=(config.TrainConfig,))
    train = extended(**dataclasses.asdict(cfg.train), **({} if value is None else {"new_knob": value}))
    return dataclasses.replace(cfg, train=train)


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_a_field_added_at_its_default_keeps_every_key_with_no_entry_anywhere(profile):
    cfg = config.load(profile)
    assert _all(_with_new_field(cfg)) == _all(cfg)  # at its default: hashed nowhere
    moved = _all(_with_new_field(cfg, 4))
    assert {k for k in moved if moved[k] != _all(cfg)[k]} == {"training", "signal", "bracket", "controller", "result"}


def test_the_first_keyed_record_names_every_field_of_before_and_nothing_added_since():
    sections = {f.name: f.type for f in dataclasses.fields(config.StudyConfig)}
    for name, fields in keys.FIRST_KEYED.items():
        if name:
            have = {f.name for f in dataclasses.fields(getattr(config.StudyConfig(), name))}
            assert set(fields) <= have, name  # a field of the record was removed or renamed without HASHED_AS
    assert set(keys.FIRST_KEYED[""]) <= set(sections)
    added = {"train": {"group_size"}, "hyperband": {"lam_mode", "max_clean"}, "predict": {"holdout", "power_reps"}}
    for name, fields in added.items():  # the fields added after the first keying are hashed only off their default
        assert not fields & set(keys.FIRST_KEYED[name])


def test_the_names_that_carry_a_seed_or_a_controller_run():
    assert (keys.seed_suffix(0), keys.seed_suffix(3)) == ("", "-s3")
    assert (keys.suffix_seed("abc"), keys.suffix_seed("abc-s12"), keys.suffix_seed(keys.seed_suffix(7))) == (None, 12, 7)
    assert (keys.controller_kind("exp1"), keys.controller_kind("exp2", 2)) == ("controller-exp1", "controller-exp2-s2")
    assert (keys.eval_tag("uniform"), keys.eval_tag("exp1_as_trained", 1)) == ("controller-eval-uniform",
                                                                                "controller-eval-exp1_as_trained-s1")
