"""`state_dir/evidence/chain.jsonl`: one canonical JSON line per finished run, each linked to
the one before by `prev`, the SHA-256 of the previous line's bytes (its newline included).

The first line names a random `chain` id instead of a `prev`. Every line carries `seq` (1, 2,
...). Appends take a lock, are one write to a file opened for appending, and are fsynced; a
crash can leave only the last line torn, which the next append (or the daemon's start) cuts
off, noting the repair in the record it appends. Earlier lines are never rewritten.

After every append, a checkpoint signs the head: `checkpoints/<seq>.head` (canonical JSON
with the chain id, seq and the last line's SHA-256) and `<seq>.head.sig`, an SSH signature
that `ssh-keygen -Y verify` checks; `head` and `head.sig` are the newest. The daemon's
catch-up of many runs signs one checkpoint per month of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bdr.atomic import write_atomic
from bdr.evidence.keys import SigningKey, evidence_dir
from bdr.evidence.records import encode, from_rfc3339, rfc3339

CHAIN = "chain.jsonl"
CHECKPOINTS = "checkpoints"
TAIL_BYTES = 1 << 16


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / "chain.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Tail:
    """The chain's last whole line (None when empty), and bytes of a torn line after it."""

    last: bytes | None
    torn: int


def _tail(path: Path) -> Tail:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return Tail(None, 0)
    with open(path, "rb") as handle:
        handle.seek(max(0, size - TAIL_BYTES))
        chunk = handle.read()
    cut = chunk.rfind(b"\n") + 1  # 0 when no line in the chunk is whole
    torn = len(chunk) - cut
    if cut == 0:
        if size > len(chunk):
            raise ValueError(f"{path}: its last line is longer than {TAIL_BYTES} bytes")
        return Tail(None, torn)
    last = chunk[: cut - 1].rsplit(b"\n", 1)[-1] + b"\n"
    return Tail(last, torn)


def _repair(path: Path, tail: Tail) -> str | None:
    """Cut a torn last line off; return a note of what was cut, None when nothing was."""
    if tail.torn == 0:
        return None
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size - tail.torn)
        handle.flush()
        os.fsync(handle.fileno())
    return f"a torn last line of {tail.torn} bytes was cut off (a crash during an append)"


# How far back an append looks for its own run: a daemon's catch-up may have appended it
# (with every other run the chain lacked) between the history's write and this append.
RECENT_BYTES = 1 << 23


def append(state_dir: Path, fields: dict[str, Any], key: SigningKey) -> int:
    """Append a record of `fields` to the chain, sign the new head; return its seq. A run the
    chain's recent records hold already is not appended again: its seq is returned."""
    directory = evidence_dir(state_dir)
    with _locked(directory):
        held = _recent_seq_of(directory / CHAIN, fields)
        return held if held is not None else _append(directory, fields, key)


def _recent_seq_of(path: Path, fields: dict[str, Any]) -> int | None:
    """The seq of the record of the run `fields` describe among the chain's last
    RECENT_BYTES, or None."""
    run = fields.get("run")
    if not isinstance(run, int):
        return None
    # Canonical JSON: keys sorted, no spaces, and quotes inside strings escaped, so the key
    # "run" followed by its value appears as these bytes and nowhere else ("seq" follows it).
    needle = b'"run":%d,' % run
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - RECENT_BYTES))
            chunk = handle.read()
    except FileNotFoundError:
        return None
    at = chunk.rfind(needle)
    while at >= 0:
        start = chunk.rfind(b"\n", 0, at) + 1
        end = chunk.find(b"\n", at)
        if end >= 0:  # a whole line, not a torn one
            with contextlib.suppress(ValueError, KeyError, TypeError):
                record = json.loads(chunk[start:end])
                if _run_key(record) == _run_key(fields):
                    return int(record["seq"])
        at = chunk.rfind(needle, 0, at)
    return None


def append_missing(
    state_dir: Path,
    records: list[dict[str, Any]],
    key: SigningKey,
    period: Callable[[dict[str, Any]], object] = lambda record: None,
) -> list[dict[str, Any]]:
    """Append those of `records` whose run the chain does not hold yet; return them.

    Under one lock: a run that records itself meanwhile waits, and is not appended twice. The
    records are written at once and checkpoints signed where `period` (a record's month)
    changes from one record to the next, and after the last: what a month's export needs (the
    checkpoint of its last record and of the one before its first), without a signature and
    two files for each of the 100,000 runs of an appliance's first year.
    """
    directory = evidence_dir(state_dir)
    with _locked(directory):
        held = recorded_runs(state_dir)
        missing = [record for record in records if _run_key(record) not in held]
        if missing:
            _append_all(directory, missing, key, period)
        return missing


def _append(directory: Path, fields: dict[str, Any], key: SigningKey) -> int:
    return _append_all(directory, [fields], key, lambda record: None)


def _append_all(
    directory: Path,
    records: list[dict[str, Any]],
    key: SigningKey,
    period: Callable[[dict[str, Any]], object],
) -> int:
    """Append `records` in one write and one fsync, link by link; sign checkpoints where
    `period` changes and after the last record; return the last seq."""
    path = directory / CHAIN
    tail = _tail(path)
    repaired = _repair(path, tail)
    previous = tail.last
    if previous is None:
        chain, seq = secrets.token_hex(16), 0
    else:
        last = json.loads(previous)
        chain, seq = last["chain"], int(last["seq"])
    lines: list[bytes] = []
    for fields in records:
        record = dict(fields)
        seq += 1
        record.update(seq=seq, chain=chain)
        if previous is not None:
            record["prev"] = line_hash(previous)
        if repaired and not lines:
            record["repaired"] = repaired
        previous = encode(record)
        lines.append(previous)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # A full disk writes short: the rest is retried, and an error leaves a torn line
        # that the next append cuts off.
        rest = memoryview(b"".join(lines))
        while rest:
            rest = rest[os.write(fd, rest) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    first = seq - len(records) + 1
    for index, (fields, line) in enumerate(zip(records, lines, strict=True)):
        last = index == len(records) - 1
        if last or period(fields) != period(records[index + 1]):
            _checkpoint(directory, chain, first + index, line, key)
    return seq


def _checkpoint(directory: Path, chain: str, seq: int, line: bytes, key: SigningKey) -> None:
    head = encode(
        {
            "appliance": key.principal,
            "chain": chain,
            "seq": seq,
            "sha256": line_hash(line),
            "signed": rfc3339(time.time()),
        }
    )
    signature = key.sign(head).encode()
    folder = directory / CHECKPOINTS
    folder.mkdir(exist_ok=True, mode=0o750)
    name = f"{seq:08d}.head"
    write_atomic(folder / name, head, mode=0o644)
    write_atomic(folder / f"{name}.sig", signature, mode=0o644)
    write_atomic(directory / "head", head, mode=0o644)
    write_atomic(directory / "head.sig", signature, mode=0o644)


def copy_signed(state_dir: Path, target: Path) -> int:
    """Copy the chain's whole records and its signed head into `target`, as one consistent
    state (under the chain's lock: no append in between); return the last record's seq."""
    directory = evidence_dir(state_dir)
    with _locked(directory):
        path = directory / CHAIN
        if not path.exists():
            return 0
        tail = _tail(path)
        whole = path.stat().st_size - tail.torn
        with open(path, "rb") as source, open(target / CHAIN, "wb") as copy:
            remaining = whole
            while remaining:
                chunk = source.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                copy.write(chunk)
                remaining -= len(chunk)
        for name in ("head", "head.sig"):
            if (directory / name).exists():
                shutil.copyfile(directory / name, target / name)
        return int(json.loads(tail.last)["seq"]) if tail.last else 0


def _run_key(record: dict[str, Any]) -> tuple[object, object, object]:
    return record.get("run"), record.get("kind"), record.get("started")


def recorded_runs(state_dir: Path) -> set[tuple[object, object, object]]:
    """The runs the chain holds (whole lines only), as (run id, kind, start): a history begun
    anew numbers its runs from 1 again."""
    path = evidence_dir(state_dir) / CHAIN
    found: set[tuple[object, object, object]] = set()
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as handle:
        for line in handle:
            if line.endswith(b"\n"):
                with contextlib.suppress(ValueError, AttributeError):
                    record = json.loads(line)
                    if isinstance(record.get("run"), int):
                        found.add(_run_key(record))
    return found


@dataclass(frozen=True)
class Head:
    """What the metrics and the report show of the chain: its last record, and the signed
    head (the record it names, that record's SHA-256, when it was signed)."""

    records: int
    signed_at: float | None
    seq: int | None = None
    sha256: str | None = None


def head(state_dir: Path) -> Head:
    """Return the chain's record count (its last whole line's seq) and the head's signing time."""
    directory = evidence_dir(state_dir)
    try:
        tail = _tail(directory / CHAIN)
        records = int(json.loads(tail.last)["seq"]) if tail.last else 0
    except (OSError, ValueError, KeyError):
        records = 0
    signed_at = seq = sha256 = None
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
        signed = json.loads((directory / "head").read_bytes())
        seq, sha256 = int(signed["seq"]), str(signed["sha256"])
        signed_at = from_rfc3339(signed["signed"])
    return Head(records, signed_at, seq, sha256)
