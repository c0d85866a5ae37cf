"""Strict construction of the frozen config dataclasses used across dlsr.

Every config (model architectures, preprocessing, later training and synthesis) is a frozen dataclass; this
module owns how they are built from plain dicts (JSON metadata, TOML files): unknown keys are an error that
lists the valid ones, and list values become tuples so configs stay hashable and comparable.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, TypeVar

from dlsr.errors import ConfigError

ConfigT = TypeVar("ConfigT")


def config_from_dict(cls: type[ConfigT], values: dict[str, Any], *, what: str | None = None) -> ConfigT:
    """Build the frozen dataclass `cls` from `values`, rejecting unknown keys.

    Args:
        cls: a dataclass type.
        values: field name -> value; missing fields take their defaults.
        what: how to name the config in error messages (defaults to the class name).

    Raises:
        ConfigError: on an unknown key or a value the dataclass rejects.
    """
    name = what or cls.__name__
    if not isinstance(values, dict):
        raise ConfigError(f"{name}: expected a table of settings, found {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{name}: unknown key(s) {', '.join(unknown)}; valid keys are {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    converted = {key: _coerce(hints[key], value, f"{name}.{key}") for key, value in values.items()}
    try:
        return cls(**converted)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {exc}") from exc


def config_to_dict(config: Any) -> dict[str, Any]:
    """The JSON-able dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(config)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Check `value` against a simple type hint and convert lists to tuples (JSON has no tuples)."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(hint):
            try:
                return _coerce(option, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected nothing, found {value!r}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, found {value!r}")
        (item_hint, *_rest) = typing.get_args(hint)
        return tuple(_coerce(item_hint, item, where) for item in value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, found {value!r}")
        # TOML and Python both spell inf and nan; no setting means anything with them, and an infinite
        # learning rate or weight silently trains to NaN.
        if not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, found {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, found {value!r}")
        return value
    if hint in (str, bool):
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: expected {hint.__name__}, found {value!r}")
        return value
    return value
