"""What the client reads of a busy month, folded: one row per problem and one per drill.

A month of hourly backups can hold hundreds of exceptions and drills; a row each made a 44-page
PDF, 30 pages of it rows much like their neighbours. The reader wants to know what went wrong,
how often, and whether it is still so: the exceptions of one job for one reason become one
row, and a drill's runs one row with its last run in full. The JSON keeps every row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bdr.report.model import (
    DrillRow,
    DrillSummaryRow,
    ExceptionRow,
    ProblemRow,
    recovery_seconds,
)


def problem_rows(exceptions: Sequence[ExceptionRow]) -> tuple[ProblemRow, ...]:
    """The exceptions folded by job, status and reason: those still open first, then by when
    each problem first showed."""
    groups: dict[tuple[str, str, str], list[ExceptionRow]] = {}
    for row in sorted(exceptions, key=lambda e: (e.started_at, e.run)):
        groups.setdefault((row.job, row.status, row.reason), []).append(row)
    problems = [
        ProblemRow(
            job=job,
            kind=rows[0].kind,
            status=status,
            reason=reason,
            times=len(rows),
            runs=tuple(run for row in rows for run in row.runs),
            first_at=rows[0].started_at,
            last_at=rows[-1].started_at,
            open_seconds=sum(row.open_seconds for row in rows),
            longest_seconds=max(row.open_seconds for row in rows),
            resolved_by=rows[-1].resolved_by,
            resolved_at=rows[-1].resolved_at,
        )
        for (job, status, reason), rows in groups.items()
    ]
    problems.sort(key=lambda p: (p.resolved_by is not None, p.first_at, p.job))
    return tuple(problems)


def drill_summaries(drills: Sequence[DrillRow]) -> tuple[DrillSummaryRow, ...]:
    """One row per drill (and tier), in the order of the drills' names."""
    groups: dict[tuple[str, str | None, str | None], list[DrillRow]] = {}
    for row in sorted(drills, key=lambda d: (d.started_at, d.run)):
        groups.setdefault((row.drill, row.plan, row.repository), []).append(row)
    summaries = []
    for (drill, plan, repository), rows in sorted(
        groups.items(), key=lambda item: tuple(part or "" for part in item[0])
    ):
        failed = [row for row in rows if row.verdict != "passed"]
        reasons = Counter(
            f"{row.verdict}: {row.reason}" if row.reason else row.verdict for row in failed
        )
        timed = [row for row in rows if row.measured_seconds is not None]
        summaries.append(
            DrillSummaryRow(
                drill=drill,
                plan=plan,
                repository=repository,
                kind=rows[-1].kind,
                runs=tuple(row.run for row in rows),
                passed=len(rows) - len(failed),
                last=rows[-1],
                slowest=max(timed, key=recovery_seconds, default=None),
                failures=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
                failed_runs=tuple(row.run for row in failed),
            )
        )
    return tuple(summaries)
