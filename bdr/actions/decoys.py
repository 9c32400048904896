"""Planting a plan's decoy files in its source roots, and seeing whether any was touched.

bdr writes a decoy only where no file of that name exists, records each one it wrote (path and
hash, in `state_dir/decoys/<plan>.json`), and removes only those, unchanged, when the plan's
`decoys` is turned off: bdr never deletes what it did not create.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from bdr.atomic import write_atomic
from bdr.detection.decoys import DECOYS, sha256
from bdr.fsutil import read_head

log = logging.getLogger(__name__)

# Larger than any decoy: a decoy grown past it reads as changed all the same.
DECOY_LIMIT = 1 << 20


def _record_path(state_dir: Path, plan: str) -> Path:
    return state_dir / "decoys" / f"{plan}.json"


def _planted(state_dir: Path, plan: str) -> dict[str, str]:
    try:
        data = json.loads(_record_path(state_dir, plan).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.error(
            "decoys of plan %s: %s unreadable (%s)", plan, _record_path(state_dir, plan), error
        )
        return {}
    return (
        {str(path): str(digest) for path, digest in data.items()} if isinstance(data, dict) else {}
    )


def _save(state_dir: Path, plan: str, planted: dict[str, str]) -> None:
    path = _record_path(state_dir, plan)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    write_atomic(path, json.dumps(planted, indent=1, sort_keys=True).encode(), mode=0o640)


def _digest(path: str) -> str | None:
    """The hash of the regular file at `path`; None when it is gone or not a file."""
    data = read_head(path, DECOY_LIMIT)
    return None if data is None else sha256(data)


def check(state_dir: Path, plan: str, roots: list[str]) -> tuple[str, ...]:
    """The planted decoys of `plan` in `roots` that are changed, renamed or gone; they are
    forgotten, and the next `plant` writes fresh ones where their names are free again. A
    decoy of a root not among `roots` (a source missing today, an unmounted share, one taken
    out of the plan) is not judged: its absence is the source's, not ransomware's."""
    planted = _planted(state_dir, plan)
    present = [root.rstrip("/") + "/" for root in roots]
    judged = {p: d for p, d in planted.items() if any(p.startswith(r) for r in present)}
    touched = tuple(path for path, digest in sorted(judged.items()) if _digest(path) != digest)
    if touched:
        _save(state_dir, plan, {p: d for p, d in planted.items() if p not in touched})
    return touched


def plant(state_dir: Path, plan: str, roots: list[str]) -> None:
    """Write the decoys into each folder of `roots` where their names are free. A root bdr
    cannot write into (read-only, a file) is logged and left."""
    planted = _planted(state_dir, plan)
    before = dict(planted)
    for root in roots:
        if not os.path.isdir(root):
            continue
        for name, data in DECOYS.items():
            path = os.path.join(root, name)
            if path in planted or os.path.lexists(path):
                continue
            try:
                with open(path, "xb") as handle:
                    handle.write(data)
            except OSError as error:
                log.warning("plan %s: decoy %s not planted: %s", plan, path, error.strerror)
                continue
            planted[path] = sha256(data)
    if planted != before:
        _save(state_dir, plan, planted)


def remove(state_dir: Path, plan: str) -> None:
    """Remove the decoys bdr planted for `plan` that are still as it wrote them."""
    planted = _planted(state_dir, plan)
    if not planted:
        return
    for path, digest in planted.items():
        if _digest(path) == digest:
            try:
                os.unlink(path)
            except OSError as error:
                log.warning("plan %s: decoy %s not removed: %s", plan, path, error.strerror)
    _record_path(state_dir, plan).unlink(missing_ok=True)
