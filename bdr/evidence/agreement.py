"""Does the history agree with the evidence chain?

The chain is what happened: append-only, hash-linked and signed as each run ends. The history
(`bdr.sqlite`) is the store every reader uses, and it can be edited without a trace. So every
figure that matters is held against the chain: a history row whose figures differ from its
run's record, a run the history holds that the chain never recorded, and a record of a run the
history lacks are each a disagreement, and the chain's record is what is true.

A run is found in the chain by its id, kind and start; a history begun anew (a damaged one
that could not be salvaged) numbers its runs from 1 again, so records of runs that started
before the history's first run belong to an older history and are not compared. A run that
ended less than GRACE_SECONDS ago may not be recorded yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bdr.evidence.records import comparable, encode, figures, from_rfc3339, run_from_record
from bdr.store.runs import RUNNING, Run

GRACE_SECONDS = 15 * 60

DIFFERS = "differs"
NOT_IN_CHAIN = "not in chain"
NOT_IN_HISTORY = "not in history"


@dataclass(frozen=True)
class Difference:
    field: str
    history: Any
    chain: Any


@dataclass(frozen=True)
class Disagreement:
    run: int
    what: str  # DIFFERS, NOT_IN_CHAIN or NOT_IN_HISTORY
    kind: str
    differences: tuple[Difference, ...] = ()
    record: dict[str, Any] | None = None  # the chain's record, when it has one

    @property
    def text(self) -> str:
        head = f"history disagrees with the evidence chain for run {self.run}"
        if self.what == NOT_IN_CHAIN:
            return f"{head}: the history holds a {self.kind} run the chain never recorded"
        if self.what == NOT_IN_HISTORY:
            status = (self.record or {}).get("status", "?")
            return f"{head}: the chain records a {self.kind} run ({status}) the history lacks"
        shown = "; ".join(
            f"{d.field}: history {_value(d.history)}, chain {_value(d.chain)}"
            for d in self.differences[:3]
        )
        more = len(self.differences) - 3
        return f"{head} ({shown}" + (f"; {more} more" if more > 0 else "") + ")"


def _value(value: Any) -> str:
    if value is None:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Entry:
    run: int
    kind: object
    started: str
    started_at: float
    ended_at: float | None
    seq: int | None
    digest: bytes
    offset: int
    length: int


def _digest(fields: dict[str, Any]) -> bytes:
    return hashlib.sha256(encode(comparable(fields))).digest()


class ChainIndex:
    """Where each run's record is in the chain, and a digest of its figures: enough to compare
    a history of 100,000 runs without holding their records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_run: dict[int, list[Entry]] = {}
        self.records = 0  # whole lines
        self.found = False  # whether there is a chain at all
        offset = 0
        with contextlib.suppress(FileNotFoundError), open(path, "rb") as lines:
            self.found = True
            for line in lines:
                if line.endswith(b"\n"):
                    self.records += 1
                    with contextlib.suppress(ValueError, TypeError, AttributeError):
                        self._add(json.loads(line), offset, len(line))
                offset += len(line)

    def _add(self, record: dict[str, Any], offset: int, length: int) -> None:
        run, started, ended = record.get("run"), record.get("started"), record.get("ended")
        seq = record.get("seq")
        if isinstance(run, int) and isinstance(started, str):
            entry = Entry(
                run=run,
                kind=record.get("kind"),
                started=started,
                started_at=from_rfc3339(started),
                ended_at=from_rfc3339(ended) if isinstance(ended, str) else None,
                seq=seq if isinstance(seq, int) else None,
                digest=_digest(record),
                offset=offset,
                length=length,
            )
            self.by_run.setdefault(run, []).append(entry)

    def line(self, entry: Entry) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(entry.offset)
            return handle.read(entry.length)

    def entries(self) -> Iterable[Entry]:
        for found in self.by_run.values():
            yield from found

    def record(self, entry: Entry) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.line(entry))
        return parsed


def check(
    history: Iterable[Run],
    index: ChainIndex,
    appliance: str,
    *,
    now: float,
    since: float,
    window: tuple[float, float] | None = None,
) -> list[Disagreement]:
    """Compare the finished runs of `history` with the chain; return the disagreements, in the
    order of the runs (then the chain's records the history lacks).

    `since`: the start of the history's first run (older records are an older history's).
    `window`: only records of runs that started in [start, end) are looked for in `history`
    (the runs a report reads); every record from `since` on when None.
    """
    found: list[Disagreement] = []
    matched: set[int] = set()
    for run in history:
        if run.status == RUNNING:
            continue
        mine = figures(run, appliance)
        entry = _entry_of(index, run, mine["started"], since)
        if entry is None:
            if run.ended_at is None or run.ended_at < now - GRACE_SECONDS:
                found.append(Disagreement(run.id, NOT_IN_CHAIN, run.kind))
            continue
        matched.add(entry.offset)
        if entry.digest != _digest(mine):
            record = index.record(entry)
            theirs = comparable(record)
            ours = comparable(mine)
            differences = tuple(
                Difference(key, ours.get(key), theirs.get(key))
                for key in sorted(ours.keys() | theirs.keys(), key=_first_what_matters)
                if ours.get(key) != theirs.get(key)
            )
            found.append(Disagreement(run.id, DIFFERS, run.kind, differences, record))
    for entry in sorted(index.entries(), key=lambda e: e.offset):
        if entry.offset in matched or entry.started_at < since:
            continue
        if window is not None and not window[0] <= entry.started_at < window[1]:
            continue
        record = index.record(entry)
        found.append(Disagreement(entry.run, NOT_IN_HISTORY, str(entry.kind), (), record))
    return found


# The figures a disagreement names first: what a report's reader judges a run by.
_MATTERS = ("status", "verdict", "snapshot", "recovery_seconds", "projected_seconds", "started")


def _first_what_matters(key: str) -> tuple[int, str]:
    return (_MATTERS.index(key) if key in _MATTERS else len(_MATTERS), key)


def _entry_of(index: ChainIndex, run: Run, started: str, since: float) -> Entry | None:
    """The record of `run`: by id, kind and start; else the newest record of its id in this
    history (its start or kind was edited)."""
    candidates = index.by_run.get(run.id, [])
    for entry in candidates:
        if entry.kind == run.kind and entry.started == started:
            return entry
    ours = [entry for entry in candidates if entry.started_at >= since]
    return ours[-1] if ours else None


def as_recorded(runs: Iterable[Run], disagreements: Iterable[Disagreement]) -> list[Run]:
    """`runs` as the chain records them: a run that differs takes the chain's figures, a run
    the chain never recorded is left out, a recorded run the history lacks is put back.
    Ordered by id."""
    by_run = {d.run: d for d in disagreements}
    kept: list[Run] = []
    for run in runs:
        found = by_run.pop(run.id, None)
        if found is None:
            kept.append(run)
        elif found.what == DIFFERS and found.record is not None:
            kept.append(run_from_record(found.record, run))
    for found in by_run.values():
        if found.what == NOT_IN_HISTORY and found.record is not None:
            with contextlib.suppress(ValueError):
                kept.append(run_from_record(found.record))
    return sorted(kept, key=lambda run: run.id)
