"""The canary: a small file of fresh random content added to every backup of a plan.

It lives in the state directory, not in the client's sources (which may be read-only), and is
backed up as an extra path. A drill that restores it with the hash recorded here proves the
whole path from backup to restore end to end.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from bdr.atomic import write_atomic
from bdr.config.ownership import CANARY_NAME, canary_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Canary:
    path: Path
    sha256: str


def write_canary(state_dir: Path, plan: str) -> Canary:
    """Write a canary with new random content for `plan` and return its path and hash."""
    directory = canary_dir(state_dir, plan)
    directory.mkdir(parents=True, exist_ok=True, mode=0o750)
    content = (
        f"bdr canary for plan {plan}\n"
        f"If a restore holds this file with this token, the restore path works.\n"
        f"token: {secrets.token_hex(32)}\n"
    ).encode()
    path = directory / CANARY_NAME
    write_atomic(path, content, mode=0o640)
    return Canary(path=path, sha256=hashlib.sha256(content).hexdigest())


def renew_canary(state_dir: Path, plan: str) -> Canary:
    """Write a new canary; when state_dir is full, keep the one there (the snapshot then holds
    that one, and its hash is what a drill checks). Raises OSError when there is none."""
    try:
        return write_canary(state_dir, plan)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        path = canary_dir(state_dir, plan) / CANARY_NAME
        canary = Canary(path=path, sha256=file_sha256(path))
        log.warning(
            "canary of plan %s not renewed (%s is full): the last one is backed up", plan, state_dir
        )
        return canary


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
