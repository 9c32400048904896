"""What changed between two snapshots of a plan, from `restic diff --json` (restic 0.14 on).

restic prints one `change` message a path: `+` added, `-` removed, `M` content modified, `T`
type changed, `U` metadata only (combined, as `MU`); a folder's path ends with `/`. A file
that moved keeps its name in another folder (a folder renamed); a file renamed keeps its
folder under another name (what ransomware that appends an extension does). Neither is a
deletion.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]

    @property
    def touched(self) -> int:
        return len(self.added) + len(self.removed) + len(self.modified)


class DiffReader:
    """Reads `restic diff --json` a line at a time, as restic prints it; lines that are not
    change messages are skipped. Folders are left out: only files are counted."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.removed: list[str] = []
        self.modified: list[str] = []

    def feed(self, line: str) -> None:
        if '"change"' not in line:
            return
        try:
            message = json.loads(line)
        except ValueError:
            return
        path, modifier = message.get("path"), message.get("modifier")
        if message.get("message_type") != "change" or not isinstance(path, str):
            return
        if path.endswith("/") or not isinstance(modifier, str):
            return
        if "+" in modifier:
            self.added.append(path)
        elif "-" in modifier:
            self.removed.append(path)
        elif "M" in modifier or "T" in modifier:
            self.modified.append(path)

    def changes(self) -> Changes:
        return Changes(tuple(self.added), tuple(self.removed), tuple(self.modified))


def parse_diff(lines: Iterable[str]) -> Changes:
    """The files added, removed and modified in the lines of restic's `diff --json`."""
    reader = DiffReader()
    for line in lines:
        reader.feed(line)
    return reader.changes()


@dataclass(frozen=True)
class Moves:
    """The removed files of a diff, told apart: moved, renamed in their folder, or deleted."""

    moved: int
    renames_by_folder: dict[str, int]
    deleted: tuple[str, ...]
    renamed_to: tuple[str, ...]  # the new names of the renamed files

    @property
    def renamed(self) -> int:
        return sum(self.renames_by_folder.values())


def moves(changes: Changes) -> Moves:
    """Pair each removed file with an added one: same name elsewhere (moved), else another
    name in the same folder (renamed); what is left unpaired was deleted."""
    added_names = Counter(posixpath.basename(path) for path in changes.added)
    moved = 0
    unpaired_removed: dict[str, list[str]] = defaultdict(list)
    for path in changes.removed:
        name = posixpath.basename(path)
        if added_names[name] > 0:
            added_names[name] -= 1
            moved += 1
        else:
            unpaired_removed[posixpath.dirname(path)].append(path)
    # The added files not taken by a move, per folder, in the order restic listed them.
    taken = Counter(posixpath.basename(p) for p in changes.removed) & Counter(
        posixpath.basename(p) for p in changes.added
    )
    unpaired_added: dict[str, list[str]] = defaultdict(list)
    for path in changes.added:
        name = posixpath.basename(path)
        if taken[name] > 0:
            taken[name] -= 1
        else:
            unpaired_added[posixpath.dirname(path)].append(path)
    renames: dict[str, int] = {}
    deleted: list[str] = []
    renamed_to: list[str] = []
    for folder, removed in unpaired_removed.items():
        new = unpaired_added.get(folder, [])
        pairs = min(len(removed), len(new))
        if pairs:
            renames[folder] = pairs
            renamed_to += new[:pairs]
        deleted += removed[pairs:]
    return Moves(moved, renames, tuple(deleted), tuple(renamed_to))


def extension(path: str) -> str:
    name = posixpath.basename(path).lower()
    return name.rsplit(".", 1)[1] if "." in name.lstrip(".") else ""
