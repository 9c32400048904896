"""What the steward host remembers of the clouds it keeps: when it first listed each snapshot."""

from __future__ import annotations

from collections.abc import Iterable

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
