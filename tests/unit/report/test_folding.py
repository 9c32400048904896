"""The busy month folded for the reader: one row per problem, one per drill."""

from __future__ import annotations

import dataclasses

from bdr.report.folding import drill_summaries, problem_rows
from bdr.report.model import DrillRow, ExceptionRow

HOUR = 3600.0


def exception(
    run: int,
    at: float,
    *,
    job: str = "backup office",
    reason: str = "disk full",
    status: str = "failed",
    runs: int = 1,
    fixed: int | None = None,
) -> ExceptionRow:
    return ExceptionRow(
        run=run,
        runs=tuple(range(run, run + runs)),
        kind=job.split()[0],
        job=job,
        status=status,
        started_at=at,
        reason=reason,
        resolved_by=fixed,
        resolved_at=at + HOUR if fixed else None,
        open_seconds=HOUR if fixed else 5 * HOUR,
    )


def test_exceptions_of_one_job_for_one_reason_are_one_problem_with_its_count_and_times():
    rows = [
        exception(10, 1 * HOUR, fixed=11),
        exception(20, 9 * HOUR, runs=3, fixed=23),
        exception(30, 20 * HOUR),  # still open
        exception(40, 2 * HOUR, job="copy office to cloud", reason="connection refused", fixed=41),
        exception(50, 3 * HOUR, reason="source missing", status="warning", fixed=51),
    ]
    problems = problem_rows(rows)
    assert [(p.job, p.reason) for p in problems] == [
        ("backup office", "disk full"),  # still open: first
        ("copy office to cloud", "connection refused"),
        ("backup office", "source missing"),
    ]
    full = problems[0]
    assert (full.times, full.runs) == (3, (10, 20, 21, 22, 30))
    assert (full.first_at, full.last_at) == (1 * HOUR, 20 * HOUR)
    assert (full.open_seconds, full.longest_seconds) == (7 * HOUR, 5 * HOUR)
    assert full.resolved_by is None  # its last exception is open
    assert problems[1].resolved_by == 41 and problems[1].times == 1


def drill(
    run: int,
    at: float,
    verdict: str = "passed",
    *,
    name: str = "cloud-sample",
    seconds: float = 40.0,
    projected: float | None = 900.0,
    reason: str = "",
) -> DrillRow:
    sample = projected is not None
    return DrillRow(
        run=run, drill=name, started_at=at, plan="office", repository="cloud",
        status="ok" if verdict == "passed" else "failed", snapshot="1a2b3c4d",
        snapshot_age=HOUR, kind="sample" if sample else "full", share=0.05 if sample else None,
        files=500, bytes=10**8, changed_files=0, canary="ok", checks_passed=1, checks_total=1,
        measured_seconds=seconds, projected_seconds=projected, projected_error_seconds=60.0,
        projection_method="history", rto=HOUR,
        headroom_seconds=HOUR - (projected if projected is not None else seconds),
        verdict=verdict, reason=reason,
    )  # fmt: skip


def test_a_drills_runs_are_one_row_with_the_last_in_full_the_slowest_and_the_failures():
    runs = [
        drill(1, 0, projected=900.0),
        drill(2, HOUR, "rto", projected=4000.0, reason="projected over the RTO"),
        drill(3, 2 * HOUR, "data", reason="3 files differ"),
        drill(4, 3 * HOUR, "rto", projected=3900.0, reason="projected over the RTO"),
        drill(5, 4 * HOUR, projected=800.0),
        drill(6, HOUR, name="onsite-full", seconds=1500.0, projected=None),
    ]
    cloud, onsite = drill_summaries(runs)
    assert (cloud.drill, cloud.runs, cloud.passed) == ("cloud-sample", (1, 2, 3, 4, 5), 2)
    assert cloud.last.run == 5
    assert cloud.slowest is not None and cloud.slowest.run == 2  # the projected full recovery
    assert cloud.failures == (("rto: projected over the RTO", 2), ("data: 3 files differ", 1))
    assert cloud.failed_runs == (2, 3, 4)
    assert (onsite.drill, onsite.passed, onsite.failures) == ("onsite-full", 1, ())
    assert onsite.slowest is not None and onsite.slowest.measured_seconds == 1500.0


def test_a_drill_that_never_timed_a_restore_has_no_slowest():
    interrupted = dataclasses.replace(drill(1, 0, "interrupted"), measured_seconds=None)
    (row,) = drill_summaries([interrupted])
    assert row.slowest is None and row.failures == (("interrupted", 1),)
