"""Writing TOML: enough for bdr's own config (tables, arrays, inline tables, scalars)."""

from __future__ import annotations

import json
import re


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(value)


def to_toml(data: dict[str, object], prefix: str = "") -> str:
    """Render nested tables as TOML: a table's own keys first, then its sub-tables."""
    # TOML has no null: a key set to None is left out, which means "the default".
    scalars = [(k, v) for k, v in data.items() if v is not None and not isinstance(v, dict)]
    tables = [(key, value) for key, value in data.items() if isinstance(value, dict)]
    lines = [f"[{prefix}]"] if prefix and (scalars or not tables) else []
    lines += [f"{_key(key)} = {_value(value)}" for key, value in scalars]
    for key, value in tables:
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        lines += ["", to_toml(value, name)]
    return "\n".join(lines).strip("\n")
