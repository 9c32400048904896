"""A small appliance's config for unit tests of actions: state under tmp_path, one local
repository with its password file, and plan `office`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bdr.config.model import Config
from bdr.config.schema import validate


def office_config(tmp_path: Path, *, plan: dict[str, Any] | None = None, **sections: Any) -> Config:
    """The config of an appliance with plan `office` (of /srv unless `plan` says otherwise)
    into repository `local`; `sections` are further top-level tables."""
    password = tmp_path / "pass"
    password.write_text("a password long enough\n")
    password.chmod(0o600)
    return validate(
        {
            "appliance": {"state_dir": str(tmp_path / "state")},
            "repositories": {
                "local": {"url": str(tmp_path / "repo"), "password_file": str(password)}
            },
            "plans": {"office": {"sources": ["/srv"], "repository": "local", **(plan or {})}},
            **sections,
        }
    )
