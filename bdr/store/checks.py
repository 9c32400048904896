"""Repository check runs, typed: the rotating read subset and its coverage."""

from __future__ import annotations

from bdr.store import runs
from bdr.store.database import History
from bdr.store.outcomes import CheckOutcome

CheckRun = runs.RunOf[CheckOutcome]


def _typed(run: runs.Run) -> CheckRun:
    return runs.typed(run, CheckOutcome)


def last(db: History, repository: str, *, ok_only: bool = False) -> CheckRun | None:
    """Return the newest finished check of `repository` (only one without errors, if asked)."""
    statuses = (runs.OK,) if ok_only else runs.FINISHED
    run = runs.last_run(db, "check", repository=repository, statuses=statuses)
    return _typed(run) if run else None


def subsets_read(db: History, repository: str, cycle: int, *, limit: int) -> set[int]:
    """Return the subsets of `cycle` that the last `limit` checks read without error."""
    found = runs.finished_runs(db, "check", repository=repository, limit=limit)
    return {
        check.outcome.subset
        for check in map(_typed, found)
        if check.run.status == runs.OK
        and check.outcome.cycle == cycle
        and check.outcome.subset is not None
    }


def for_period(db: History, start: float, end: float) -> list[CheckRun]:
    """Return the checks that ended in [start, end), oldest first."""
    return [_typed(run) for run in runs.runs_between(db, "check", start, end)]


def next_subset(connection: History, repository: str, cycle: int) -> int:
    """Return the subset (1..cycle) the next read check of `repository` should read."""
    row = connection.execute(
        "SELECT next_subset, cycle FROM check_state WHERE repository = ?", (repository,)
    ).fetchone()
    if row is None or row["cycle"] != cycle:
        return 1
    return int(row["next_subset"])


def advance_subset(connection: History, repository: str, done: int, cycle: int) -> None:
    """Note that a check read subset `done` of `cycle`: the next one reads the one after."""
    connection.execute(
        "INSERT INTO check_state (repository, next_subset, cycle) VALUES (?, ?, ?) "
        "ON CONFLICT (repository) DO UPDATE SET next_subset = excluded.next_subset, "
        "cycle = excluded.cycle",
        (repository, done % cycle + 1, cycle),
    )
