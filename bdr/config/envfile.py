"""The env_file format: KEY=VALUE lines for backend credentials (AWS_ACCESS_KEY_ID=...)."""

from __future__ import annotations

import re
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env(text: str) -> dict[str, str]:
    """Return the variables in `text`; raise ValueError naming the line of the first bad one.

    Blank lines and `#` comments are skipped, an `export ` prefix is allowed, and a value may be
    wrapped in single or double quotes. Values are never echoed in errors: they are secrets.
    """
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise ValueError(f"line {number} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        variables[key] = value
    return variables


def read_env_file(path: Path) -> dict[str, str]:
    """Return the variables of the env_file at `path`; raise OSError or ValueError."""
    return parse_env(path.read_text(encoding="utf-8"))
