"""Comparing a restored tree with the snapshot listing and with the live source.

Pure functions over what the drill action gathered (sizes, mtimes, hashes); no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bdr.restic.messages import Node

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_NAMED = 20


def mtime_us(moment: datetime) -> int:
    """Return microseconds since the epoch, exactly (a float timestamp would round)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass
class Named:
    """How many paths were found, and the first MAX_NAMED of them: a million-file drill that
    found everything missing names twenty, not a million."""

    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, path: str) -> None:
        self.count += 1
        if len(self.first) < MAX_NAMED:
            self.first.append(path)


@dataclass
class TreeDiff:
    """What differs between the snapshot's files and the restored ones, added folder by folder."""

    missing: Named = field(default_factory=Named)
    extra: Named = field(default_factory=Named)
    size_different: Named = field(default_factory=Named)

    @property
    def ok(self) -> bool:
        return not (self.missing.count or self.extra.count or self.size_different.count)

    def add(
        self, expected: Mapping[str, int], restored: Mapping[str, int], prefix: str = ""
    ) -> list[str]:
        """Compare one folder's files, {name: size} in the snapshot with {name: size} restored;
        add what differs, named `prefix` + name; return the names restored intact."""
        for name in sorted(expected.keys() - restored.keys()):
            self.missing.add(prefix + name)
        for name in sorted(restored.keys() - expected.keys()):
            self.extra.add(prefix + name)
        intact = []
        for name in sorted(expected.keys() & restored.keys()):
            if expected[name] == restored[name]:
                intact.append(name)
            else:
                self.size_different.add(prefix + name)
        return intact

    def describe(self) -> str:
        parts = []
        for label, found in (
            ("missing", self.missing),
            ("extra", self.extra),
            ("of a different size", self.size_different),
        ):
            if found.count:
                parts.append(f"{found.count} file(s) {label} (first: {found.first[0]})")
        return "; ".join(parts)


def compare_tree(expected: Mapping[str, int], restored: Mapping[str, int]) -> TreeDiff:
    """Compare {path: size} of the snapshot's files with {path: size} of what was restored."""
    diff = TreeDiff()
    diff.add(expected, restored)
    return diff


UNCHANGED = "unchanged"
CHANGED = "changed"
GONE = "gone"


def source_state(node: Node, live: tuple[int, int] | None) -> str:
    """Return whether the live file (size, mtime in µs) still matches the snapshot's node."""
    if live is None:
        return GONE
    size, modified = live
    if size == node.size and modified == mtime_us(node.mtime):
        return UNCHANGED
    return CHANGED


@dataclass
class SourceComparison:
    """Counts of the content comparison against the live source."""

    compared: int = 0
    matched: int = 0
    changed: int = 0
    gone: int = 0
    mismatched: Named = field(default_factory=Named)
