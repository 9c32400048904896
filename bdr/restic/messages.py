"""Typed restic JSON messages, parsed from lines that may also hold plain text.

restic mixes non-JSON lines into its JSON output (prune text after forget, progress lines in
0.19), so every parser here skips what is not a JSON object instead of failing.

One module for every message restic prints, as restic's own documentation lists them: the
parsers share the reading of a line and the refusal of a malformed field, and a new restic
version is checked against all of them in one place (tests/unit/restic/test_messages.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from bdr.errors import BdrError


class MalformedOutput(BdrError):
    """restic printed a message bdr relies on, but not as restic does: bdr does not guess."""


_HEX_ID = re.compile(r"^[0-9a-f]{8,64}$")


def _malformed(what: str, key: str, value: Any) -> MalformedOutput:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return MalformedOutput(f"restic printed a malformed {what}: {key} is {shown}")


def _snapshot_id(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not _HEX_ID.match(value):
        raise _malformed(what, key, value)
    return value


def _float(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def json_objects(lines: Iterable[str]) -> Iterator[dict[str, Any] | list[Any]]:
    """Yield each line of `lines` that is a JSON object or array; skip everything else."""
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped[0] not in "[{":
            continue
        try:
            value = json.loads(stripped)
        except ValueError:
            continue
        if isinstance(value, dict | list):
            yield value


def parse_time(text: str) -> datetime:
    """Parse restic's RFC 3339 times, whose nanoseconds Python cannot hold, to an aware datetime."""
    head, dot, rest = text.partition(".")
    if dot:
        zone = rest.lstrip("0123456789")
        digits = rest[: len(rest) - len(zone)]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class BackupSummary:
    snapshot_id: str
    files_new: int
    files_changed: int
    files_unmodified: int
    data_added: int
    total_files_processed: int
    total_bytes_processed: int
    total_duration: float


@dataclass(frozen=True)
class BackupStatus:
    percent_done: float
    total_bytes: int | None
    bytes_done: int | None


@dataclass(frozen=True)
class ItemError:
    """A file restic could not read or write: the reason a backup is partial."""

    item: str
    during: str
    message: str


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: datetime
    paths: tuple[str, ...]
    hostname: str
    tags: tuple[str, ...]
    # The id of the snapshot this one was copied from (`restic copy` records it).
    original: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    path: str
    type: str
    size: int
    mtime: datetime


@dataclass(frozen=True)
class RestoreStatus:
    percent_done: float
    total_bytes: int | None
    bytes_restored: int | None


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        if not error:
            return ""  # restic 0.14 on its own failures (a tree it cannot load): no reason
        if "message" in error:
            return str(error["message"])
        # restic 0.14 serialises Go's *os.PathError: {"Op": "open", "Path": ..., "Err": 13}.
        errno = error.get("Err")
        reason = "permission denied" if errno == 13 else f"error {errno}"
        return f"{error.get('Op', 'access')} {error.get('Path', '')}: {reason}".strip()
    return str(error)


def backup_messages(
    lines: Iterable[str],
) -> Iterator[BackupSummary | BackupStatus | ItemError]:
    """Yield the typed messages of `restic backup --json` (stdout and stderr lines alike)."""
    for data in json_objects(lines):
        if not isinstance(data, dict):
            continue
        kind = data.get("message_type")
        if kind == "summary":
            yield BackupSummary(
                snapshot_id=_snapshot_id(data, "snapshot_id", "backup summary"),
                files_new=_int(data, "files_new"),
                files_changed=_int(data, "files_changed"),
                files_unmodified=_int(data, "files_unmodified"),
                data_added=_int(data, "data_added"),
                total_files_processed=_int(data, "total_files_processed"),
                total_bytes_processed=_int(data, "total_bytes_processed"),
                total_duration=_float(data, "total_duration", 0.0),
            )
        elif kind == "status":
            yield BackupStatus(
                percent_done=_float(data, "percent_done", 0.0),
                total_bytes=data.get("total_bytes"),
                bytes_done=data.get("bytes_done"),
            )
        elif kind == "error":
            yield ItemError(
                item=str(data.get("item", "")),
                during=str(data.get("during", "")),
                message=_error_text(data.get("error")),
            )


def _time(data: dict[str, Any], key: str, what: str) -> datetime:
    value = data.get(key)
    try:
        return parse_time(value) if isinstance(value, str) else parse_time("")
    except ValueError:
        raise _malformed(what, key, value) from None


def snapshot_from(data: dict[str, Any]) -> Snapshot:
    full_id = _snapshot_id(data, "id", "snapshot")
    return Snapshot(
        id=full_id,
        short_id=str(data.get("short_id") or full_id[:8]),
        time=_time(data, "time", "snapshot"),
        paths=tuple(data.get("paths") or ()),
        hostname=str(data.get("hostname", "")),
        tags=tuple(data.get("tags") or ()),
        original=str(data["original"]) if data.get("original") else None,
    )


def snapshot_list(lines: Iterable[str]) -> list[Snapshot]:
    """Return the snapshots of `restic snapshots --json`, oldest first."""
    found: list[Snapshot] = []
    for data in json_objects(lines):
        items = data if isinstance(data, list) else [data]
        found.extend(
            snapshot_from(item) for item in items if isinstance(item, dict) and "id" in item
        )
    return sorted(found, key=lambda snapshot: snapshot.time)


def ls_nodes(lines: Iterable[str]) -> Iterator[Node]:
    """Yield the nodes of `restic ls --json` (marked struct_type, and message_type from 0.17)."""
    for data in json_objects(lines):
        node = _node(data)
        if node is not None:
            yield node


def _node(data: dict[str, Any] | list[Any]) -> Node | None:
    """The node of one JSON line of `restic ls --json`; None for any other line."""
    if not isinstance(data, dict):
        return None
    kind = data.get("message_type") or data.get("struct_type")
    if kind != "node":
        return None
    path, size = data.get("path"), data.get("size", 0)
    if not isinstance(path, str) or not path.startswith("/"):
        raise _malformed("listing node", "path", path)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _malformed("listing node", "size", size)
    return Node(
        path=path,
        type=str(data.get("type", "")),
        size=size,
        mtime=_time(data, "mtime", "listing node") if data.get("mtime") else datetime.min,
    )


class FileListing:
    """The files of `restic ls --json`, read a line at a time as restic writes them (`feed`):
    each line is parsed once and dropped. Kept as lines until the restore ended, a full drill's
    listing (about 430 bytes a file) was held beside its nodes, and parsed after the restore
    while the drill waited (0.5 s of 100,000 files).

    With a `spool` (an open text file), the files' lines go there instead of into memory, and
    iterating the listing reads them back in restic's order: a full drill of a million files
    holds none of them (its verification goes folder by folder)."""

    def __init__(self, spool: IO[str] | None = None) -> None:
        self.head: list[str] = []  # the lines before the first node: the snapshot's
        self.count = 0  # files
        self.bytes = 0  # their sizes' sum
        self._kept: list[Node] = []
        self._spool = spool
        self._nodes = False

    @classmethod
    def of(cls, lines: Iterable[str]) -> FileListing:
        listing = cls()
        for line in lines:
            listing.feed(line)
        return listing

    @property
    def files(self) -> list[Node]:
        """The files of a listing held in memory (made without a spool)."""
        assert self._spool is None, "a spooled listing is read by iterating it"
        return self._kept

    def feed(self, line: str) -> None:
        for data in json_objects((line,)):
            node = _node(data)
            if node is None:
                if not self._nodes:
                    self.head.append(line)
            else:
                self._nodes = True
                if node.type == "file":
                    self.count += 1
                    self.bytes += node.size
                    if self._spool is None:
                        self._kept.append(node)
                    else:
                        self._spool.write(line.rstrip("\n") + "\n")

    def __iter__(self) -> Iterator[Node]:
        if self._spool is None:
            return iter(self._kept)
        self._spool.flush()
        self._spool.seek(0)
        return (node for node in ls_nodes(self._spool) if node.type == "file")

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()


# How a node's path begins in a line of `restic ls --json`. Inside a JSON string every quote
# is escaped, so this text (a quote right after "path") is only ever the key itself.
_PATH_KEY = '"path":"'


def ls_nodes_where(lines: Iterable[str], wanted: Callable[[str], bool]) -> Iterator[Node]:
    """Yield the nodes of `restic ls --json` whose path (as restic's JSON spells it) is
    `wanted`.

    A listing of 100,000 files takes most of a second to parse, and a sample needs a few
    percent of it: a line whose path holds no escape (its text is then the path itself) and
    is not wanted is skipped unparsed. Any other line is parsed as `ls_nodes` does, and its
    node tested by its parsed path.
    """

    def worth_parsing(line: str) -> bool:
        start = line.find(_PATH_KEY)
        if start < 0:
            return True  # not a node line, or one this test cannot read
        start += len(_PATH_KEY)
        path = line[start : line.find('"', start)]
        return "\\" in path or wanted(path)

    for node in ls_nodes(line for line in lines if worth_parsing(line)):
        if wanted(node.path):
            yield node


def ls_snapshot(lines: Iterable[str]) -> Snapshot | None:
    """Return the snapshot that `restic ls --json` describes on its first JSON line."""
    for data in json_objects(lines):
        if isinstance(data, dict) and "id" in data and "tree" in data:
            return snapshot_from(data)
        break
    return None


_RESTORING = re.compile(r"^restoring <?[Ss]napshot ([0-9a-f]{8,64}) of ")


def restored_snapshot(lines: Iterable[str]) -> str | None:
    """Return the (short) id of the snapshot that `restic restore` says it restores: restic 0.14
    writes `restoring <Snapshot 6975594e of [...] ...>`, later ones `restoring snapshot 6975594e
    of [...]`. None when no line says it (with --json, or a form this does not know)."""
    for line in lines:
        found = _RESTORING.match(line)
        if found:
            return found.group(1)
    return None


def restore_status(lines: Iterable[str]) -> Iterator[RestoreStatus]:
    """Yield the progress of `restic restore --json` (restic 0.16 and newer)."""
    for data in json_objects(lines):
        if isinstance(data, dict) and data.get("message_type") in ("status", "summary"):
            yield RestoreStatus(
                percent_done=_float(data, "percent_done", 1.0),
                total_bytes=data.get("total_bytes"),
                bytes_restored=data.get("bytes_restored"),
            )


@dataclass(frozen=True)
class ForgetGroup:
    """One group of `restic forget --json`: the full ids its policy keeps and removes."""

    keep: tuple[str, ...]
    remove: tuple[str, ...]


def forget_groups(lines: Iterable[str]) -> list[ForgetGroup]:
    """Return the groups of `restic forget --json` (with `--dry-run`, what it would do)."""
    found = []
    for data in json_objects(lines):
        for group in data if isinstance(data, list) else []:
            if isinstance(group, dict):
                found.append(
                    ForgetGroup(
                        keep=_ids(group.get("keep")),
                        remove=_ids(group.get("remove")),
                    )
                )
    return found


def _ids(snapshots: Any) -> tuple[str, ...]:
    items = snapshots if isinstance(snapshots, list) else []
    return tuple(
        _snapshot_id(item, "id", "forget")
        for item in items
        if isinstance(item, dict) and "id" in item
    )


def copied_count(lines: Iterable[str]) -> int:
    """Return how many snapshots `restic copy` saved (one "snapshot ... saved" line each)."""
    return sum(1 for line in lines if line.strip().endswith("saved"))


def stats_total_size(lines: Iterable[str]) -> int | None:
    """Return the `total_size` of `restic stats --json`, or None when it printed none."""
    for data in json_objects(lines):
        if isinstance(data, dict) and isinstance(data.get("total_size"), int):
            return int(data["total_size"])
    return None


# restic check's progress and phase lines, which say nothing about what is wrong.
_CHECK_ROUTINE = (
    "[",
    "using temporary",
    "load ",
    "check ",
    "create ",
    "read ",
    "no errors",
    "Fatal:",
)


def check_errors(lines: Iterable[str]) -> list[str]:
    """Return the lines of `restic check` output that describe what it found wrong."""
    return [
        line.strip()
        for line in lines
        if line.strip()
        and not line.startswith(_CHECK_ROUTINE)
        and "repository contains errors" not in line
    ]


_PRUNE_TOTAL = re.compile(r"^total prune:\s+\d+ blobs / ([\d.]+) (B|KiB|MiB|GiB|TiB)\s*$")
_BINARY = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def pruned_bytes(lines: Iterable[str]) -> int | None:
    """The bytes `restic prune` frees, from its `total prune:` line (text output, 0.14+)."""
    for line in lines:
        match = _PRUNE_TOTAL.match(line.strip())
        if match:
            return round(float(match[1]) * _BINARY[match[2]])
    return None
