"""Drill runs, typed: what status, metrics, the CLI and the projection read of past drills."""

from __future__ import annotations

from dataclasses import replace

from bdr.store import runs
from bdr.store.database import History
from bdr.store.outcomes import INTERRUPTED, DrillOutcome

DrillRun = runs.RunOf[DrillOutcome]


def _typed(run: runs.Run) -> DrillRun:
    found = runs.typed(run, DrillOutcome)
    outcome = found.outcome
    # A drill that died before recording its verdict (kill -9, a power cut) was interrupted:
    # say so, and why, from the run.
    if run.status == runs.INTERRUPTED and outcome.verdict != INTERRUPTED:
        outcome = replace(outcome, verdict=INTERRUPTED, reason=run.error or outcome.reason)
    if not outcome.reason and run.error:
        outcome = replace(outcome, reason=run.error)
    return runs.RunOf(run, outcome)


def history(
    db: History, *, drill: str | None = None, repository: str | None = None, limit: int = 50
) -> list[DrillRun]:
    """Return finished drills (of `drill`, or on `repository`), newest first."""
    found = runs.finished_runs(db, "drill", subject=drill, repository=repository, limit=limit)
    return [_typed(run) for run in found]


def last(db: History, drill: str) -> DrillRun | None:
    """Return the newest finished run of `drill`."""
    found = history(db, drill=drill, limit=1)
    return found[0] if found else None


def for_period(db: History, start: float, end: float) -> list[DrillRun]:
    """Return the drills that ended in [start, end), oldest first."""
    return [_typed(run) for run in runs.runs_between(db, "drill", start, end)]
