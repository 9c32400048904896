"""What the steward host remembers of the clouds it keeps: when it first listed each snapshot,
and what the last audit of each appliance's uploaded evidence saw."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from bdr.store.database import History


def seen_before(db: History, repository: str) -> set[str]:
    """The snapshots of `repository` the steward listed at an earlier run."""
    rows = db.execute("SELECT snapshot_id FROM steward_seen WHERE repository = ?", (repository,))
    return {row[0] for row in rows}


def note_seen(db: History, repository: str, snapshot_ids: Iterable[str], now: float) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO steward_seen (repository, snapshot_id, first_seen) VALUES (?, ?, ?)",
        [(repository, snapshot_id, now) for snapshot_id in snapshot_ids],
    )


@dataclass(frozen=True)
class Audited:
    """What the last audit of an appliance's uploaded evidence saw."""

    chain: str
    seq: int
    sha256: str
    audited_at: float
    suspects: tuple[str, ...]  # the snapshot ids the chain names suspect and not cleared


def audited(db: History, appliance: str) -> Audited | None:
    row = db.execute("SELECT * FROM audit_seen WHERE appliance = ?", (appliance,)).fetchone()
    if row is None:
        return None
    return Audited(
        row["chain"],
        row["seq"],
        row["sha256"],
        row["audited_at"],
        tuple(json.loads(row["suspects"])),
    )


def note_audited(db: History, appliance: str, seen: Audited) -> None:
    db.execute(
        "INSERT INTO audit_seen (appliance, chain, seq, sha256, audited_at, suspects) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (appliance) DO UPDATE SET chain = excluded.chain, "
        "seq = excluded.seq, sha256 = excluded.sha256, audited_at = excluded.audited_at, "
        "suspects = excluded.suspects",
        (
            appliance,
            seen.chain,
            seen.seq,
            seen.sha256,
            seen.audited_at,
            json.dumps(list(seen.suspects)),
        ),
    )
