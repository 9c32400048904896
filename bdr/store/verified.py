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

from bdr.store import runs
from bdr.store.database import History
from bdr.store.outcomes import DrillOutcome
from bdr.store.runs import LatestSnapshot, Run


def newest_among(
    candidates: Iterable[Run],
    gone: Iterable[Gone],
    plan: str,
    repository: str,
    *,
    end: float = math.inf,
    full_only: bool = False,
) -> Run | None:
    """The rule itself: of `candidates`, the drill of `plan` in `repository` that ended by
    `end` and passed on the newest snapshot (of a full restore, with `full_only`) that was not
    known to be gone by then; None when there is none. Ties go to the later drill."""
    missing = {g.snapshot_id for g in gone if g.repository == repository and g.noticed_at <= end}
    best: tuple[float, int, Run] | None = None
    for run in candidates:
        outcome = run.outcome
        if not (
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
        ):
            continue
        key = (outcome.snapshot_time, run.id)
        if best is None or key > best[:2]:
            best = (*key, run)
    return best[2] if best is not None else None


def _drills(db: History, plan: str, repository: str) -> list[Run]:
    """The tier's drills that passed, as the history holds them: what `newest_among` chooses
    from (a few a day at most)."""
    rows = db.execute(
        "SELECT * FROM runs WHERE kind = 'drill' AND plan = ? AND repository = ? "
        "AND status = 'ok' AND snapshot_id IS NOT NULL",
        (plan, repository),
    )
    return [runs.run_from(row) for row in rows]


def newest(db: History, plan: str, repository: str) -> LatestSnapshot | None:
    """Return the newest snapshot of `plan` in `repository` that passed a drill and is not
    known to be gone."""
    run = newest_among(_drills(db, plan, repository), gone(db), plan, repository)
    if run is None:
        return None
    assert run.snapshot_id is not None and isinstance(run.outcome, DrillOutcome)
    assert run.outcome.snapshot_time is not None
    return LatestSnapshot(run.snapshot_id, run.outcome.snapshot_time)


def kept(db: History, plan: str, repository: str) -> tuple[str, ...]:
    """Return the snapshot ids (as drills recorded them) that retention of `plan` must keep in
    `repository`: the verified snapshot, and the newest one a full drill passed on when a
    newer sample drill passed since (a sample proves less than a full restore)."""
    drills, missing = _drills(db, plan, repository), gone(db)
    found: list[str] = []
    for full_only in (False, True):
        run = newest_among(drills, missing, plan, repository, full_only=full_only)
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
    noted = {g.snapshot_id for g in gone(db) if g.repository == repository}
    candidates = sorted(
        {run.snapshot_id for run in _drills(db, plan, repository) if run.snapshot_id} - noted
    )
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
