"""The env_file format: KEY=VALUE lines for backend credentials (AWS_ACCESS_KEY_ID=...)."""

from __future__ import annotations

import re
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Backend credentials and settings restic's backends read; anything else (RESTIC_REPOSITORY,
# PATH, LD_PRELOAD) would change which repository, program or library a backup uses.
CREDENTIAL_PREFIXES = ("AWS_", "B2_", "AZURE_", "GOOGLE_", "OS_", "ST_", "RCLONE_")
_PROXY_VARIABLES = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}
# A REST server's login (restic's own names, from 0.16.1 on); bdr puts it into the `rest:` URL
# it hands restic in the environment, which every restic version reads.
REST_LOGIN = ("RESTIC_REST_USERNAME", "RESTIC_REST_PASSWORD")


def refused_variables(variables: dict[str, str]) -> list[str]:
    """Return the names in `variables` that are not backend credentials or proxy settings."""
    return [
        key
        for key in variables
        if not key.startswith(CREDENTIAL_PREFIXES)
        and key.upper() not in _PROXY_VARIABLES
        and key not in REST_LOGIN
    ]


def refusal(path: Path, key: str) -> str:
    allowed = ", ".join(f"{prefix}*" for prefix in CREDENTIAL_PREFIXES)
    return (
        f"{path}: {key} is not a backend credential variable (allowed: {allowed}, "
        "RESTIC_REST_USERNAME, RESTIC_REST_PASSWORD, HTTP(S)_PROXY, NO_PROXY)"
    )


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
    """Return the variables of the env_file at `path`; raise OSError or ValueError, the latter
    also for a variable that is not a backend credential."""
    variables = parse_env(path.read_text(encoding="utf-8"))
    refused = refused_variables(variables)
    if refused:
        raise ValueError(refusal(path, refused[0]))
    return variables
