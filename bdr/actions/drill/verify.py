"""Verifying a drill's restore on disk: the tree against the listing, the canary, the source.

The I/O half of verification; the comparisons themselves are pure, in `bdr/drill/`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from bdr.actions import scratch as scratch_area
from bdr.actions.canary import file_sha256
from bdr.config.model import Drill
from bdr.drill.verification import UNCHANGED, SourceComparison, TreeDiff, source_state
from bdr.errors import BdrError
from bdr.fsnames import REPLACEMENT, json_name, shown
from bdr.fsutil import same_content
from bdr.restic.messages import Node
from bdr.store.outcomes import DrillOutcome


@dataclass(frozen=True)
class ExpectedCanary:
    path: str
    # The hash recorded when the snapshot was made; None when no backup run of it is known.
    sha256: str | None


def verify(
    drill: Drill,
    canary: ExpectedCanary,
    selection: Iterable[Node],
    scratch: Path,
    outcome: DrillOutcome,
) -> tuple[DrillOutcome, list[str]]:
    """Verify the restored tree against `selection`, the snapshot's files restored in restic's
    order (a folder's files and subfolders together); return the outcome with its counts, and
    the data problems.

    The listing and the tree are compared folder by folder as the listing goes: what is held
    at a time is the folders from the snapshot's root to the current one, never the snapshot's
    million files (a full drill of a large share stays in bounded memory).
    """
    walk = _Walk(drill, canary, str(scratch))
    for node in selection:
        walk.feed(node)
    walk.finish()
    diff, comparison = walk.diff, walk.comparison
    problems: list[str] = []
    if not diff.ok:
        problems.append(shown(diff.describe()))
    canary_state = walk.canary_state()
    if canary_state in ("mismatch", "missing"):
        problems.append(
            f"canary {canary_state}: the restore does not hold the canary written at backup time "
            f"({canary.path})"
        )
    if comparison.mismatched.count:
        problems.append(
            f"{comparison.mismatched.count} file(s) differ from the unchanged live source "
            f"(first: {shown(comparison.mismatched.first[0])})"
        )
    bad = diff.missing.count + diff.size_different.count + comparison.mismatched.count
    if not walk.sources:
        problems.append(
            "the snapshot holds no file of the plan's sources: nothing of the client's data "
            "was restored or proven"
        )
    verified = replace(
        outcome,
        missing=tuple(shown(path) for path in diff.missing.first),
        extra=tuple(shown(path) for path in diff.extra.first),
        size_different=tuple(shown(path) for path in diff.size_different.first),
        canary=canary_state,
        compared_files=comparison.compared,
        changed_files=comparison.changed,
        gone_files=comparison.gone,
        content_mismatches=tuple(shown(path) for path in comparison.mismatched.first),
        verified_files=walk.files - bad,
        mismatched_files=bad + diff.extra.count + (1 if canary_state == "mismatch" else 0),
    )
    return verified, problems


@dataclass
class _Folder:
    """A folder of the snapshot the listing is in (or under): its files so far, and the
    subfolders it opened."""

    path: str  # as restic's JSON spells it; "" for the snapshot's root
    disk: str | None  # where it was restored (its own bytes); None: it was not
    files: dict[str, Node] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)


class _Walk:
    """The restored tree compared with the listing, each folder once the listing has left it."""

    def __init__(self, drill: Drill, canary: ExpectedCanary, scratch: str) -> None:
        self.drill = drill
        self.canary = canary
        self.scratch = scratch
        self.diff = TreeDiff()
        self.comparison = SourceComparison()
        self.files = 0  # listed
        self.sources = 0  # listed, the canary left out
        self.canary_listed = False
        self.canary_restored: str | None = None
        self._open = [_Folder("", scratch)]

    def feed(self, node: Node) -> None:
        parent, _, name = node.path.rpartition("/")
        if parent != self._open[-1].path:
            self._enter(parent)
        self._open[-1].files[name] = node
        self.files += 1
        if node.path == self.canary.path:
            self.canary_listed = True
        else:
            self.sources += 1

    def finish(self) -> None:
        while self._open:
            self._close(self._open.pop())

    def canary_state(self) -> str:
        """Return ok, mismatch, missing (recorded or listed, not restored), unknown or absent."""
        if not self.canary_listed:
            # A backup that recorded a canary made a snapshot that must hold it.
            return "missing" if self.canary.sha256 is not None else "absent"
        if self.canary_restored is None:
            return "missing"
        if self.canary.sha256 is None:
            return "unknown"
        return "ok" if file_sha256(self.canary_restored) == self.canary.sha256 else "mismatch"

    def _enter(self, path: str) -> None:
        """Make `path` the current folder: close the open ones it is not in, open its own."""
        parts = path.split("/")[1:]  # "" (the root) has none
        depth = 0
        for folder, part in zip(self._open[1:], parts, strict=False):
            if folder.path.rpartition("/")[2] != part:
                break
            depth += 1
        while len(self._open) > depth + 1:
            self._close(self._open.pop())
        for part in parts[depth:]:
            parent = self._open[-1]
            if part in parent.folders:
                # restic lists a folder's content together; were it not, a folder compared
                # twice would report its first part's files as extra.
                raise BdrError(
                    f"the snapshot's listing named folder {shown(parent.path)}/{shown(part)} "
                    "twice, apart: it cannot be verified folder by folder"
                )
            parent.folders.add(part)
            self._open.append(_Folder(f"{parent.path}/{part}", _restored_folder(parent.disk, part)))

    def _close(self, folder: _Folder) -> None:
        """Compare a folder the listing has left with what was restored in it."""
        restored: dict[str, str] = {}  # restic's spelling of a name: its restored path
        sizes: dict[str, int] = {}
        for entry in _entries(folder.disk):
            name = json_name(entry.name)
            if entry.is_file(follow_symlinks=False):
                if not folder.path and entry.name == scratch_area.MARKER:
                    continue
                restored[name] = entry.path
                sizes[name] = entry.stat(follow_symlinks=False).st_size
            elif entry.is_dir(follow_symlinks=False) and name not in folder.folders:
                # A folder the listing has no file in: anything restored there is extra.
                for path in _files_under(entry.path):
                    self.diff.extra.add(json_name(path[len(self.scratch) :]))
        canary_folder, _, canary_name = self.canary.path.rpartition("/")
        if folder.path == canary_folder and canary_name in restored:
            self.canary_restored = restored[canary_name]
        expected = {name: node.size for name, node in folder.files.items()}
        for name in self.diff.add(expected, sizes, folder.path + "/"):
            node = folder.files[name]
            # Files already found missing or of the wrong size are not compared a second time.
            if node.path != self.canary.path:
                self._compare_with_source(node, restored[name])

    def _compare_with_source(self, node: Node, restored: str) -> None:
        """Compare a restored file with its live file when that did not change since the
        snapshot. `restored` has the bytes the live file's name has (the listing's name may
        hold U+FFFD where the name was not UTF-8)."""
        comparison = self.comparison
        if self.drill.source_compare == "none":
            return
        live_path = restored[len(self.scratch) :]  # restored files are all under scratch
        try:
            info = os.stat(live_path)
            live: tuple[int, int] | None = (info.st_size, info.st_mtime_ns // 1000)
        except OSError:
            live = None
        state = source_state(node, live)
        if state != UNCHANGED:
            if live is None:
                comparison.gone += 1
            else:
                comparison.changed += 1
            return
        comparison.compared += 1
        # One thread: measured faster than two on 500 MB in 10,000 files, the reads being cheap
        # and the GIL handed back and forth on every chunk.
        if self.drill.source_compare == "metadata" or same_content(restored, live_path):
            comparison.matched += 1
        else:
            comparison.mismatched.add(live_path)


def _restored_folder(parent: str | None, name: str) -> str | None:
    """Where subfolder `name` (restic's spelling) of the restored folder `parent` is; None when
    it was not restored."""
    if parent is None:
        return None
    path = os.path.join(parent, name)
    if _is_folder(path):
        return path
    if REPLACEMENT in name:
        # A name that is not UTF-8: restic's spelling has lost its bytes; the restored folder
        # spelled that way is the one.
        for entry in _entries(parent):
            if entry.is_dir(follow_symlinks=False) and json_name(entry.name) == name:
                return entry.path
    return None


def _is_folder(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _entries(folder: str | None) -> list[os.DirEntry[str]]:
    if folder is None:
        return []
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _files_under(top: str) -> Iterator[str]:
    """Yield the paths of the regular files under folder `top`."""
    for directory, _, names in os.walk(top):
        for filename in names:
            path = os.path.join(directory, filename)
            if stat.S_ISREG(os.lstat(path).st_mode):
                yield path
