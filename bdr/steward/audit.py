"""What the steward's audit finds in an appliance's uploaded evidence (pure: facts in, findings
out; actions/audit.py reads the cloud).

The newest upload's chain was verified link by link and its head by the key the MSP
registered (evidence/verify.py). Here: every head the audit ever saw of this appliance, and
every head of an upload it has not seen before, must name a record of that chain, by its
SHA-256 (a chain cut short and signed again, a rollback, is consistent in itself and only this
tells); the chain must go on growing; and a report must quote a head the chain holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bdr.config.units import format_duration


@dataclass(frozen=True)
class Head:
    """A signed head as the audit compares it: which chain, which record, that record's hash."""

    chain: str
    seq: int
    sha256: str


@dataclass(frozen=True)
class Uploaded:
    """The newest upload's chain, verified: its id and each record's SHA-256, in order."""

    chain: str
    hashes: Sequence[str]
    last_ended: float | None  # when the run of its last record ended


def holds(uploaded: Uploaded, head: Head) -> bool:
    """Whether the chain holds the record `head` names, as it was when signed."""
    return (
        head.chain == uploaded.chain
        and 1 <= head.seq <= len(uploaded.hashes)
        and uploaded.hashes[head.seq - 1] == head.sha256
    )


def rollback(uploaded: Uploaded, seen: Head | None, *, seen_at: str) -> str | None:
    """A finding when the chain no longer holds the head the previous audit saw."""
    if seen is None or holds(uploaded, seen):
        return None
    if seen.chain != uploaded.chain:
        return (
            f"the chain was replaced: the audit of {seen_at} saw chain {seen.chain[:12]} at "
            f"record {seen.seq}, the cloud now holds chain {uploaded.chain[:12]}"
        )
    if seen.seq > len(uploaded.hashes):
        return (
            f"rolled back: the audit of {seen_at} saw record {seen.seq}, the uploaded chain "
            f"ends at record {len(uploaded.hashes)}"
        )
    return (
        f"rewritten: record {seen.seq} is not the one the audit of {seen_at} saw "
        f"(SHA-256 {seen.sha256[:16]}...)"
    )


def stray_heads(uploaded: Uploaded, heads: Sequence[tuple[str, Head | None]]) -> list[str]:
    """A finding for each upload (snapshot id, its head) whose head the chain does not hold:
    an upload of a chain that was cut short or rewritten, whatever time it claims."""
    return [
        f"upload {snapshot[:8]} holds no readable signed head"
        if head is None
        else f"upload {snapshot[:8]} holds a head (record {head.seq}) that is not in the "
        "newest chain: a chain cut short or rewritten was uploaded"
        for snapshot, head in _not_held(uploaded, heads)
    ]


def _not_held(
    uploaded: Uploaded, named: Sequence[tuple[str, Head | None]]
) -> list[tuple[str, Head | None]]:
    return [(name, head) for name, head in named if head is None or not holds(uploaded, head)]


def stalled(uploaded: Uploaded, *, now: float, stalled_after: float) -> str | None:
    """A finding when the chain's last run ended longer ago than `stalled_after`."""
    if uploaded.last_ended is None:
        return "the uploaded chain holds no run"
    age = now - uploaded.last_ended
    if age <= stalled_after:
        return None
    return (
        f"the chain stopped growing: its last run ended {format_duration(age)} ago "
        f"(audit.stalled_after {format_duration(stalled_after)}): backups or uploads stopped"
    )


def report_heads(uploaded: Uploaded, reports: Sequence[tuple[str, Head | None]]) -> list[str]:
    """A finding for each report (file name, the head it quotes) whose head is not in the
    chain: a report made from a history the proof does not hold."""
    return [
        f"report {name} quotes no chain head"
        if head is None
        else f"report {name} quotes chain head record {head.seq} (SHA-256 "
        f"{head.sha256[:16]}...), which the chain does not hold"
        for name, head in _not_held(uploaded, reports)
    ]


def open_suspects(records: Iterable[dict[str, Any]]) -> list[str]:
    """The snapshots the chain's backup records judge suspect and no later review cleared, in
    the order they were judged: while there is one, the steward forgets nothing."""
    found: dict[str, None] = {}
    for record in records:
        snapshot = record.get("snapshot")
        if not isinstance(snapshot, str):
            continue
        if record.get("kind") == "backup" and record.get("verdict") == "suspect":
            found[snapshot] = None
        elif record.get("kind") == "review" and record.get("decision") == "cleared":
            found.pop(snapshot, None)
    return list(found)
