"""The verified snapshots of a plan's tier: what passed drills proved, less what is gone.

One definition for everything that names a verified snapshot (status, metrics, notifications,
retention, the report): the newest snapshot of a plan in a repository that passed a drill of
that repository, unless a listing of the repository since showed it no longer exists
(forgotten by hand, a repository rebuilt). Retention keeps what `kept` returns, so only such
an accident makes a verified snapshot go.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bdr.store import judgements, runs
from bdr.store.database import History
from bdr.store.outcomes import DrillOutcome
from bdr.store.runs import LatestSnapshot, Run

# The tier's drills that ended ok on a snapshot: what `verifies` chooses from in the history.
_TIER_DRILLS = (
    "FROM runs WHERE kind = 'drill' AND plan = ? AND repository = ? AND status = 'ok' "
    "AND snapshot_id IS NOT NULL"
)


def verifies(
    run: Run,
    missing: set[str],
    plan: str,
    repository: str,
    *,
    end: float = math.inf,
    full_only: bool = False,
) -> bool:
    """The rule itself: whether `run` is a drill of `plan` in `repository` that ended by `end`
    and passed on a snapshot of known time (of a full restore, with `full_only`) that is not
    among the `missing` (known to be gone by then)."""
    outcome = run.outcome
    return (
        run.kind == "drill"
        and run.plan == plan
        and run.repository == repository
        and run.status == runs.OK
        and run.snapshot_id is not None
        and run.snapshot_id not in missing
        and run.ended_at is not None
        and run.ended_at <= end
        and isinstance(outcome, DrillOutcome)
        and outcome.passed
        and outcome.snapshot_time is not None
        and (outcome.drill_kind == "full" or not full_only)
    )


def missing_by(gone: Iterable[Gone], repository: str, end: float = math.inf) -> set[str]:
    """The snapshots of `repository` known to be gone by `end`."""
    return {g.snapshot_id for g in gone if g.repository == repository and g.noticed_at <= end}


def _time(run: Run) -> float:
    assert isinstance(run.outcome, DrillOutcome) and run.outcome.snapshot_time is not None
    return run.outcome.snapshot_time


def newest_among(
    candidates: Iterable[Run],
    gone: Iterable[Gone],
    plan: str,
    repository: str,
    *,
    end: float = math.inf,
    full_only: bool = False,
) -> Run | None:
    """Of `candidates`, the drill that `verifies` the newest snapshot by `end` (the report's
    question about a past month); None when there is none. Ties go to the later drill."""
    missing = missing_by(gone, repository, end)
    chosen = [
        run
        for run in candidates
        if verifies(run, missing, plan, repository, end=end, full_only=full_only)
    ]
    return max(chosen, key=lambda run: (_time(run), run.id), default=None)


def _newest(
    db: History,
    plan: str,
    repository: str,
    *,
    full_only: bool = False,
    before: float | None = None,
) -> Run | None:
    """`newest_among` the history's runs now (of snapshots taken before `before`): the tier's
    drills read newest snapshot first, and only until one `verifies` (a scrape asks this of
    every tier; the history may hold thousands of drills)."""
    missing = missing_by(gone(db), repository)
    cursor = db.execute(
        f"SELECT * {_TIER_DRILLS} AND snapshot_time < ? ORDER BY snapshot_time DESC, id DESC",
        (plan, repository, math.inf if before is None else before),
    )
    try:
        for row in cursor:
            run = runs.run_from(row)
            if verifies(run, missing, plan, repository, full_only=full_only):
                return run
        return None
    finally:
        cursor.close()


def newest(db: History, plan: str, repository: str) -> LatestSnapshot | None:
    """Return the newest snapshot of `plan` in `repository` that passed a drill and is not
    known to be gone."""
    run = _newest(db, plan, repository)
    if run is None:
        return None
    assert run.snapshot_id is not None
    return LatestSnapshot(run.snapshot_id, _time(run))


def last_clean(db: History, plan: str, repository: str) -> LatestSnapshot | None:
    """The last clean restore point of `plan` in `repository`: the newest snapshot that passed
    a drill, is not known to be gone, and was taken before the plan's oldest snapshot suspect
    of ransomware that is not cleared (store/judgements.py)."""
    run = _newest(db, plan, repository, before=judgements.boundary(db, plan))
    if run is None:
        return None
    assert run.snapshot_id is not None
    return LatestSnapshot(run.snapshot_id, _time(run))


def kept(db: History, plan: str, repository: str) -> tuple[str, ...]:
    """Return the snapshot ids (as drills recorded them) that retention of `plan` must keep in
    `repository`: the verified snapshot, and the newest one a full drill passed on when a
    newer sample drill passed since (a sample proves less than a full restore)."""
    found: list[str] = []
    for full_only in (False, True):
        run = _newest(db, plan, repository, full_only=full_only)
        if run is not None and run.snapshot_id is not None and run.snapshot_id not in found:
            found.append(run.snapshot_id)
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
    noted = missing_by(gone(db), repository)
    candidates = [
        row["snapshot_id"]
        for row in db.execute(f"SELECT DISTINCT snapshot_id {_TIER_DRILLS}", (plan, repository))
        if row["snapshot_id"] not in noted
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
