"""Backups judged suspect of ransomware, from the runs as the evidence chain holds them.

A backup run's outcome carries its verdict; a review run (bdr suspect clear|confirm) names the
snapshot it reviewed. The plan's oldest suspect snapshot not cleared by the report's end is
where clean restore points stop: the same rule as the history's (store/judgements.py), read
from the runs so that the report says only what the chain proves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from bdr.report.model import SuspectRow
from bdr.store.outcomes import BackupOutcome, DrillOutcome, ReviewOutcome
from bdr.store.runs import Run
from bdr.store.verified import Gone, newest_among


def _suspect(run: Run) -> bool:
    return (
        run.kind == "backup"
        and run.snapshot_id is not None
        and isinstance(run.outcome, BackupOutcome)
        and run.outcome.verdict == "suspect"
    )


def _reviews(all_runs: Iterable[Run], end: float) -> dict[str, Run]:
    """The newest review of each snapshot that ended by `end`."""
    found: dict[str, Run] = {}
    for run in all_runs:
        if (
            run.kind == "review"
            and run.snapshot_id is not None
            and run.ended_at is not None
            and run.ended_at <= end
            and isinstance(run.outcome, ReviewOutcome)
        ):
            found[run.snapshot_id] = run
    return found


def suspect_rows(
    inside: Sequence[Run], all_runs: Sequence[Run], end: float
) -> tuple[SuspectRow, ...]:
    """The period's suspect backups, oldest first, each with its review by `end`."""
    reviews = _reviews(all_runs, end)
    rows = []
    for run in inside:
        if not _suspect(run):
            continue
        assert run.snapshot_id is not None and isinstance(run.outcome, BackupOutcome)
        review = reviews.get(run.snapshot_id)
        decision = review.outcome if review and isinstance(review.outcome, ReviewOutcome) else None
        rows.append(
            SuspectRow(
                run=run.id,
                plan=run.plan or "",
                repository=run.repository or "",
                snapshot_id=run.snapshot_id,
                started_at=run.started_at,
                reason=run.outcome.suspect_reason or run.error or "",
                review=decision.decision if decision else None,
                reviewed_at=review.ended_at if review else None,
                note=decision.note if decision else "",
            )
        )
    return tuple(rows)


def boundary(all_runs: Sequence[Run], plan: str, end: float) -> Run | None:
    """The plan's oldest backup judged suspect by `end` and not cleared by then."""
    reviews = _reviews(all_runs, end)
    for run in sorted(all_runs, key=lambda r: r.started_at):
        if run.started_at >= end or run.plan != plan or not _suspect(run):
            continue
        review = reviews.get(run.snapshot_id or "")
        cleared = (
            review is not None
            and isinstance(review.outcome, ReviewOutcome)
            and review.outcome.decision == "cleared"
        )
        if not cleared:
            return run
    return None


def last_clean(
    all_runs: Sequence[Run], gone: Iterable[Gone], plan: str, repository: str, end: float
) -> Run | None:
    """The drill that verified the plan's last clean restore point in `repository` by `end`:
    the newest verified snapshot taken before the plan's open suspect one."""
    first = boundary(all_runs, plan, end)
    limit = first.started_at if first is not None else math.inf
    candidates = [
        run
        for run in all_runs
        if run.kind == "drill"
        and isinstance(run.outcome, DrillOutcome)
        and run.outcome.snapshot_time is not None
        and run.outcome.snapshot_time < limit
    ]
    return newest_among(candidates, gone, plan, repository, end=end)
