"""Where a network trains: train.precision resolved per machine, and named in the store keys."""
import pytest

from minas.core import config
from minas.nas import device


def test_precision_auto_resolves_by_hardware_and_rejects_unknown():
    assert device.resolve_precision("fp32", "cpu") == "fp32" and device.resolve_precision("bf16", "cpu") == "bf16"
    assert device.resolve_precision("auto", "cpu") == ("bf16" if device.native_bf16("cpu") else "fp32")
    with pytest.raises(ValueError, match="auto, fp32 or bf16"):
        device.resolve_precision("fp16", "cpu")
    with pytest.raises(config.ConfigError, match="precision"):
        config.load("smoke", **{"train.precision": "fp16"})


def test_auto_precision_is_named_in_the_store_keys():
    """A store filled with auto = bf16 is not reused where auto means fp32 (and fp32/bf16 keys are unchanged)."""
    from minas.core import keys
    from minas.study import jobs

    auto = config.load("smoke", **{"train.precision": "auto"})
    fixed = config.load("smoke", **{"train.precision": "fp32"})
    resolved = device.resolve_precision("auto", device.pick_device(auto.device))
    assert keys.training_key(auto).endswith("-" + resolved)
    assert keys.signal_key(auto).endswith("-" + resolved)
    assert keys.bracket_key(auto).endswith("-" + resolved)
    assert "-" not in keys.training_key(fixed)
    name = jobs.checkpoint_path(auto, "mnist", "10-10-10-10", 0, 2).name  # pruning must still recognise it
    assert jobs._CHECKPOINT.match(name)["config"] == keys.training_key(auto)
    pinned = config.load("smoke", **{"train.precision": resolved})
    assert keys.controller_key(auto) != keys.controller_key(pinned)  # auto keeps its own key, resolution included
    assert keys.result_key(auto) != keys.result_key(pinned)
