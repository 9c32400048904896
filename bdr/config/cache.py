"""A validated config, kept: a command whose config file is unchanged since it was last
validated starts without importing pydantic (about 0.1 s, the larger part of bdr's own time
before its restic starts).

Kept in state_dir/cache, keyed by the SHA-256 of the file's text and of the code that turns
text into a Config (so an upgrade of bdr or pydantic validates again). Only the checks that
depend on the text alone are kept: what load.py checks on the machine (files, their modes,
programs, paths) runs at every load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from bdr.config import model

FILE = "config.pickle"
DEFAULT_STATE_DIR = model.Appliance.state_dir
# The code whose change changes what a text validates to.
_CODE = ("model.py", "schema.py", "units.py")


def key(text: str) -> str:
    digest = hashlib.sha256(text.encode())
    digest.update(sys.version.encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    spec = importlib.util.find_spec("pydantic")  # found, not imported
    if spec is not None and spec.origin is not None:
        info = os.stat(spec.origin)
        digest.update(f"{spec.origin} {info.st_size} {info.st_mtime_ns}".encode())
    return digest.hexdigest()


def place(raw: dict[str, Any]) -> Path | None:
    """Where the config parsed as `raw` is kept: its state_dir's cache (None: no such place)."""
    appliance = raw.get("appliance", {})
    state_dir = (
        appliance.get("state_dir", str(DEFAULT_STATE_DIR)) if isinstance(appliance, dict) else None
    )
    if not isinstance(state_dir, str) or not state_dir.startswith("/") or "\0" in state_dir:
        return None  # refused by the checks: nowhere to keep it
    return Path(state_dir) / "cache" / FILE


def recall(where: Path | None, text_key: str) -> model.Config | None:
    """The Config kept for the text of `text_key`, or None."""
    if where is None:
        return None
    try:
        data = where.read_bytes()
    except OSError:
        return None
    kept_key, _, body = data.partition(b"\n")
    if kept_key.decode(errors="replace") != text_key:
        return None
    try:
        config = _Unpickler(io.BytesIO(body)).load()
    except Exception:
        return None
    return config if isinstance(config, model.Config) else None


def keep(where: Path | None, text_key: str, config: model.Config) -> None:
    """Keep `config` for the text of `text_key`; a place that cannot be written is no error.
    Written only where the state_dir exists (loading a config creates no appliance), and by
    its owner (a file of root's there would be unreadable to the service user)."""
    try:
        if where is None or where.parent.parent.stat().st_uid != os.geteuid():
            return
    except OSError:
        return
    from bdr.atomic import write_atomic  # its tempfile is not needed to read

    with contextlib.suppress(OSError):
        where.parent.mkdir(mode=0o700, exist_ok=True)
        body = pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(where, text_key.encode() + b"\n" + body, mode=0o600)


# Besides the config's own dataclasses: the paths in them.
_ALLOWED = frozenset({("pathlib", "PosixPath")})


class _Unpickler(pickle.Unpickler):
    """Reads back the config's dataclasses and paths, and nothing else that pickle could
    name: a file put there by someone else builds no other object."""

    def find_class(self, module: str, name: str) -> Any:
        found = getattr(model, name, None) if module == model.__name__ else None
        if isinstance(found, type) and dataclasses.is_dataclass(found):
            return found
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a config")
