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


@dataclass(frozen=True)
class TreeDiff:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    size_different: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.size_different)

    def describe(self) -> str:
        parts = []
        for label, paths in (
            ("missing", self.missing),
            ("extra", self.extra),
            ("of a different size", self.size_different),
        ):
            if paths:
                parts.append(f"{len(paths)} file(s) {label} (first: {paths[0]})")
        return "; ".join(parts)


def compare_tree(expected: Mapping[str, int], restored: Mapping[str, int]) -> TreeDiff:
    """Compare {path: size} of the snapshot's files with {path: size} of what was restored."""
    missing = sorted(path for path in expected if path not in restored)
    extra = sorted(path for path in restored if path not in expected)
    different = sorted(
        path for path, size in expected.items() if path in restored and restored[path] != size
    )
    return TreeDiff(missing, extra, different)


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
    mismatched: list[str] = field(default_factory=list)
