"""The verified snapshots of a plan's tier: what passed drills proved, less what is gone.

One definition for everything that names a verified snapshot (status, metrics, notifications,
retention, the report): the newest snapshot of a plan in a repository that passed a drill of
that repository, unless a listing of the repository since showed it no longer exists
(forgotten by hand, a repository rebuilt). Retention keeps what `kept` returns, so only such
an accident makes a verified snapshot go.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bdr.store.database import History
from bdr.store.runs import LatestSnapshot

# A drill run ends `ok` exactly when its verdict is passed.
_PASSED = (
    "FROM runs WHERE kind = 'drill' AND plan = ? AND repository = ? AND status = 'ok' "
    "AND snapshot_id IS NOT NULL AND snapshot_time IS NOT NULL "
    "AND snapshot_id NOT IN (SELECT snapshot_id FROM snapshots_gone WHERE repository = ?)"
)
_NEWEST = " ORDER BY snapshot_time DESC, id DESC LIMIT 1"


def newest(db: History, plan: str, repository: str) -> LatestSnapshot | None:
    """Return the newest snapshot of `plan` in `repository` that passed a drill and is not
    known to be gone."""
    row = db.execute(
        f"SELECT snapshot_id, snapshot_time {_PASSED}{_NEWEST}", (plan, repository, repository)
    ).fetchone()
    return LatestSnapshot(row["snapshot_id"], row["snapshot_time"]) if row else None


def kept(db: History, plan: str, repository: str) -> tuple[str, ...]:
    """Return the snapshot ids (as drills recorded them) that retention of `plan` must keep in
    `repository`: the verified snapshot, and the newest one a full drill passed on when a
    newer sample drill passed since (a sample proves less than a full restore)."""
    found = []
    for extra in ("", " AND json_extract(details, '$.kind') = 'full'"):
        row = db.execute(
            f"SELECT snapshot_id {_PASSED}{extra}{_NEWEST}", (plan, repository, repository)
        ).fetchone()
        if row is not None and row["snapshot_id"] not in found:
            found.append(row["snapshot_id"])
    return tuple(found)


def holds(present: Iterable[str], snapshot_id: str) -> bool:
    """Whether `present` (full or short ids) holds `snapshot_id` (full or short)."""
    return any(p.startswith(snapshot_id) or snapshot_id.startswith(p) for p in present)


def note_listing(
    db: History,
    plan: str,
    repository: str,
    present: Iterable[str],
    *,
    now: Callable[[], float] = time.time,
) -> list[str]:
    """Note a whole listing of `plan`'s snapshots in `repository` (`present`: their ids): a
    snapshot a drill passed on that it lacks is gone. Return the ids noted gone now."""
    listed = list(present)
    candidates = [
        row["snapshot_id"]
        for row in db.execute(
            f"SELECT DISTINCT snapshot_id {_PASSED}", (plan, repository, repository)
        )
    ]
    missing = [snapshot_id for snapshot_id in candidates if not holds(listed, snapshot_id)]
    for snapshot_id in missing:
        db.execute(
            "INSERT OR IGNORE INTO snapshots_gone (repository, snapshot_id, plan, noticed_at) "
            "VALUES (?, ?, ?, ?)",
            (repository, snapshot_id, plan, now()),
        )
    return missing


@dataclass(frozen=True)
class Gone:
    repository: str
    snapshot_id: str
    noticed_at: float


def gone(db: History) -> list[Gone]:
    """Every snapshot a drill verified that a listing showed gone, with when it was noticed."""
    return [
        Gone(row["repository"], row["snapshot_id"], row["noticed_at"])
        for row in db.execute("SELECT repository, snapshot_id, noticed_at FROM snapshots_gone")
    ]
