"""What `restic version` printed, remembered per binary: every bdr command needs restic's
version, and starting restic to ask costs more than reading a small file. The binary's path,
inode, size and modification time are the key, so an upgraded restic is asked again."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from bdr.atomic import write_atomic

FILE = "restic-version.json"


def key(binary: str) -> list[object] | None:
    """Return what identifies the file `binary` runs, or None when it is not found."""
    found = shutil.which(binary)
    if found is None:
        return None
    path = os.path.realpath(found)
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [path, info.st_ino, info.st_size, info.st_mtime_ns]


def recall(cache_dir: Path | None, binary: list[object] | None) -> str | None:
    """Return the version text remembered for the binary, if it is this binary's."""
    if cache_dir is None or binary is None:
        return None
    try:
        remembered = json.loads((cache_dir / FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(remembered, dict) or remembered.get("binary") != binary:
        return None
    text = remembered.get("version")
    return text if isinstance(text, str) and text else None


def remember(cache_dir: Path | None, binary: list[object] | None, text: str) -> None:
    """Keep the version text for the binary; a cache that cannot be written is no error."""
    if cache_dir is None or binary is None:
        return
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(cache_dir / FILE, json.dumps({"binary": binary, "version": text}).encode())
