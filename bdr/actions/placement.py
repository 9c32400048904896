"""Where a restore puts each file, and what it does with one already there.

restic (0.14 on) restores every file under its full path and overwrites what is there. A
technician often wants less: a file put back relative to its source folder (`--strip`), and
an edited copy in the target kept (`--conflict skip`) or kept beside the restored one
(`--conflict rename`). For those, restic restores into a staging folder inside the target
(one file system: moving is a rename) and the files are moved from there, one by one.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SKIP, OVERWRITE, RENAME = "skip", "overwrite", "rename"
CONFLICTS = (SKIP, OVERWRITE, RENAME)


def source_root(path: str, roots: Sequence[str]) -> str | None:
    """The longest of `roots` that holds snapshot `path`, or None."""
    holding = [
        root
        for root in roots
        if path == root or path.startswith(root.rstrip("/") + "/") or root == "/"
    ]
    return max(holding, key=len, default=None)


def destination(target: Path, path: str, strip: Sequence[str] | None) -> Path | None:
    """Where snapshot `path` lands under `target`: under its full path, or, with `strip` (the
    plan's source roots), under its path relative to the root that holds it. None for a path
    under no root when stripping: bdr's canary, which the client did not back up."""
    if strip is None:
        return target / path.lstrip("/")
    root = source_root(path, strip)
    if root is None:
        return None
    relative = posixpath.relpath(path, root)
    return target if relative == "." else target / relative


def conflicts(
    target: Path, listed: Sequence[tuple[str, int]], strip: Sequence[str] | None
) -> list[Path]:
    """The files a restore of `listed` would put where something already is."""
    found = []
    for path, _ in listed:
        where = destination(target, path, strip)
        if where is not None and os.path.lexists(where):
            found.append(where)
    return found


@dataclass
class Placed:
    moved: int = 0
    skipped: list[Path] = field(default_factory=list)
    renamed: dict[Path, Path] = field(default_factory=dict)  # where it would go -> where it went


def place(
    staging: Path, target: Path, strip: Sequence[str] | None, mode: str, suffix: str
) -> Placed:
    """Move what restic restored into `staging` to its destination under `target`, treating
    a destination that exists by `mode`: skip it, overwrite it, or put the restored file
    beside it as `NAME.<suffix>` (`.restored-20261206-1430`, numbered if that exists too)."""
    placed = Placed()
    for folder, folders, files in os.walk(staging):
        entries = files + [name for name in folders if os.path.islink(os.path.join(folder, name))]
        for name in entries:
            source = Path(folder) / name
            path = "/" + str(source.relative_to(staging))
            where = destination(target, path, strip)
            if where is None:
                continue
            if os.path.lexists(where):
                if mode == SKIP:
                    placed.skipped.append(where)
                    continue
                if mode == RENAME:
                    wanted, where = where, _free(where, suffix)
                    placed.renamed[wanted] = where
            where.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, where)
            placed.moved += 1
        for name in folders:
            if not os.path.islink(os.path.join(folder, name)):
                where = destination(
                    target, "/" + str((Path(folder) / name).relative_to(staging)), strip
                )
                if where is not None:
                    where.mkdir(parents=True, exist_ok=True)
    return placed


def _free(where: Path, suffix: str) -> Path:
    candidate = where.with_name(f"{where.name}.{suffix}")
    number = 1
    while os.path.lexists(candidate):
        number += 1
        candidate = where.with_name(f"{where.name}.{suffix}-{number}")
    return candidate
