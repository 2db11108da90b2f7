"""The table of params keys: each key's default, its value in a profile and its meaning (`minas params`).

Read from the schema dataclasses of `minas.core.config` (each field carries its one-line meaning, as
nanoGPT's config comments do), so the table never drifts from what `config.load` accepts.
"""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from minas.core.config import StudyConfig, get_value, load


class ParamRow(typing.NamedTuple):
    """One params key: its dataclass default, its value in a profile (the default when none given), its meaning."""

    key: str
    default: str
    value: str
    doc: str


def describe(profile: str | Path | None = None) -> list[ParamRow]:
    """Every params key with its default, its value in `profile` (when given) and its meaning."""
    cfg = load(profile) if profile is not None else None
    rows = []

    def walk(cls, prefix):
        for f in dataclasses.fields(cls):
            tp = typing.get_type_hints(cls)[f.name]
            if dataclasses.is_dataclass(tp):
                walk(tp, prefix + f.name + ".")
            else:
                default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
                value = get_value(cfg, prefix + f.name) if cfg is not None else default
                rows.append(ParamRow(prefix + f.name, repr(default), repr(value), f.metadata.get("doc", "")))

    walk(StudyConfig, "")
    return rows


def flat_keys() -> set[str]:
    """All dotted params keys."""
    return {row.key for row in describe()}
