"""Params text into typed settings: minas's YAML rules, `--set` items, and each value checked against its field.

Read by `minas.core.config.load` (nanoGPT-style plain config with loud failure, docs/ARCHITECTURE.md): a
bad key, type or range raises `ConfigError` naming the key, the value and what is allowed, before any work.
YAML 1.1 (PyYAML) reads `1e-3` as a string and a bare `no` as a boolean; the loader here fixes both traps.
"""
from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any

import yaml


class ConfigError(ValueError):
    """A params file or override is invalid; the message names the key and the fix."""


class _Word(str):
    """A bare yes/no/on/off in YAML: a boolean only where the key wants one (YAML 1.1 reads it as bool)."""

    @property
    def truth(self) -> bool:
        return self.lower() in ("yes", "on")


class _Loader(yaml.SafeLoader):
    """YAML for params files and `--set` values.

    Differs from YAML 1.1 in two traps a user falls into: `1e-3` and `5E-4` (no dot, or no sign
    in the exponent) are floats, not strings; bare yes/no/on/off become `_Word`s, so a number or
    string key rejects them instead of silently reading a boolean.
    """


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in rs if tag != _BOOL] for ch, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver("!minas/word", re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$"), list("yYnNoO"))
_Loader.add_implicit_resolver(  # checked after YAML 1.1's own float and int patterns
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))
_Loader.add_constructor("!minas/word", lambda loader, node: _Word(loader.construct_scalar(node)))


def parse_yaml(text: str) -> Any:
    """Parse params YAML (a file's text or one `--set` value) with minas's number and yes/no rules."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def parse_sets(items: list[str]) -> dict:
    """`--set KEY=VALUE` items -> {key: parsed YAML value}; ValueError naming the item when one is malformed."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. train.lr=0.1")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = parse_yaml(value)
        except Exception as err:  # a YAML syntax error in the value
            raise ValueError(f"--set {item!r}: the value is not YAML ({err})") from err
    return out


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def check_value(key: str, value: Any, fld: dataclasses.Field, tp) -> Any:
    """`value` of params key `key` as field `fld` of type `tp` wants it (1e3 -> 1000 for an int); ConfigError if not."""
    meta = fld.metadata
    if isinstance(value, _Word):
        if tp is bool:
            return value.truth
        raise ConfigError(f"{key}: {str(value)!r} reads as a YAML boolean; write it in quotes if you mean the word, "
                          f"or give a {_type_name(tp)}. {meta.get('doc', '')}")
    if tp is list:
        words = [v for v in value if isinstance(v, _Word)] if isinstance(value, list) else []
        if words:
            raise ConfigError(f"{key}: {str(words[0])!r} reads as a YAML boolean; quote it if you mean the word")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if tp is int and isinstance(value, float) and value.is_integer():
        value = int(value)  # 1e3 is a whole number however it is spelled
    ok = isinstance(value, tp) and not (tp in (int, float) and isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r} ({type(value).__name__}). {meta.get('doc', '')}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{key}: {value!r} is not allowed; choose one of {list(meta['choices'])}")
    if meta.get("lo") is not None and value < meta["lo"]:
        raise ConfigError(f"{key}: {value!r} is below the minimum {meta['lo']}. {meta.get('doc', '')}")
    if meta.get("hi") is not None and value > meta["hi"]:
        raise ConfigError(f"{key}: {value!r} is above the maximum {meta['hi']}. {meta.get('doc', '')}")
    return value


def build(cls, raw: dict, prefix: str = ""):
    """A `cls` dataclass from a mapping of params keys (nested sections too); ConfigError naming a bad or unknown key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'params'}: expected a mapping of keys (key: value lines), got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown params key {prefix + unknown[0]!r}; allowed keys here: {sorted(fields)}"
        )
    kwargs = {}
    for name, value in raw.items():
        tp = hints[name]
        key = prefix + name
        if dataclasses.is_dataclass(tp):
            kwargs[name] = build(tp, value, key + ".")
        else:
            kwargs[name] = check_value(key, value, fields[name], tp)
    return cls(**kwargs)


def set_path(d: dict, dotted: str, value: Any) -> None:
    """Put `value` at a dotted (or double-underscored) key of a nested mapping: the override of `train.lr`."""
    parts = dotted.replace("__", ".").split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
        if not isinstance(d, dict):
            raise ConfigError(f"override {dotted!r}: {p!r} is not a section")
    d[parts[-1]] = value
