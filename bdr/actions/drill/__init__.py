"""`bdr drill run`: restore a snapshot into scratch, verify it, check it, time it, judge it.

The recovery time is the wall time from the start of the restore until the data is restored
(restic's `--verify` included), verified by bdr, and its application checks have passed. The
scratch directory is removed on every way out, also on failure, Ctrl-C and SIGTERM, unless
the drill keeps it for a failure (`keep_on_failure`).

Orchestration only: the restore phase (what is restored, and how) is in `restore.py`,
verification on disk in `verify.py`, application checks in `checks.py`, the pure parts
(sampling, projection, verdicts) in `bdr/drill/`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bdr.actions import scratch as scratch_area
from bdr.actions.context import Context, recorded_run
from bdr.actions.drill.checks import run_checks
from bdr.actions.drill.restore import restore_phase
from bdr.actions.drill.steps import DataFinding, Job, outcome_of
from bdr.actions.drill.verify import verify
from bdr.config.model import Drill
from bdr.drill.projection import Point, Projection, error_floor, project
from bdr.drill.verdict import DATA, ERROR, INTERRUPTED, PASSED, UNPROVEN, Verdict, judge
from bdr.errors import BdrError, ExitCode, Interrupted, interrupted_by, unknown_name
from bdr.restic.environment import every_secret
from bdr.store import drills, runs
from bdr.store.outcomes import DrillOutcome, Phases, to_details

Clock = Callable[[], float]


@dataclass(frozen=True)
class DrillResult:
    run_id: int
    drill: str
    plan: str
    repository: str
    verdict: Verdict
    snapshot_id: str | None
    outcome: DrillOutcome
    # For an error: the code of what went wrong (5: the repository was busy), as `backup` has.
    error_code: int | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.verdict.kind == PASSED:
            return ExitCode.OK
        if self.verdict.kind == ERROR:
            known = {int(code) for code in ExitCode}
            return ExitCode(self.error_code) if self.error_code in known else ExitCode.FAILED
        return ExitCode.DRILL_FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "drill": self.drill,
            "plan": self.plan,
            "repository": self.repository,
            **to_details(self.outcome),
            "verdict": self.verdict.kind,
            "reason": self.verdict.reason,
            "snapshot_id": self.snapshot_id,
            "exit_code": int(self.exit_code),
        }


def run_drill(ctx: Context, name: str, *, snapshot_id: str | None = None) -> DrillResult:
    """Run drill `name` on the newest snapshot (or `snapshot_id`) and return its result."""
    drill = ctx.config.drills.get(name)
    if drill is None:
        raise unknown_name("drill", name, ctx.config.drills)
    area: tuple[Path, int] | None = None
    kept = False
    try:
        with recorded_run(
            ctx, "drill", plan=drill.plan, repository=drill.repository, subject=name
        ) as record:
            scratch = ctx.config.appliance.scratch_dir / name / str(record.id)
            area = (scratch, record.id)
            job = Job(ctx, name, drill, record, scratch)
            verdict, kept = _recorded_drill(job, snapshot_id)
    finally:
        # A finished drill's scratch goes once its verdict is recorded, without holding the
        # caller (an interrupted one's is already gone, see _recorded_drill).
        if area is not None and not kept:
            scratch_area.remove_in_background(*area)
    return DrillResult(
        record.id,
        name,
        drill.plan,
        drill.repository,
        verdict,
        record.snapshot_id,
        outcome_of(record),
        error_code=record.exit_code if verdict.kind == ERROR else None,
    )


def _recorded_drill(job: Job, snapshot_id: str | None) -> tuple[Verdict, bool]:
    """Run the drill inside its run record; return its verdict and whether its scratch is kept
    for a look at the failure."""
    drill, record, scratch = job.drill, job.record, job.scratch
    record.outcome = DrillOutcome(drill_kind=drill.kind, rto=drill.rto, scratch=str(scratch))
    verdict = Verdict(ERROR, "the drill did not finish")
    finished = False
    try:
        verdict = _drill(job, snapshot_id)
        finished = True
    except DataFinding as finding:
        verdict = Verdict(DATA, finding.message)
        finished = True
    except (KeyboardInterrupt, Interrupted) as stop:
        verdict = Verdict(INTERRUPTED, interrupted_by(stop))
        raise
    except BdrError as error:
        verdict = Verdict(ERROR, error.message)
        record.fail(error.message, exit_code=int(error.exit_code))
        finished = True
    finally:
        # A partial restore left by an interrupt is of no use to anyone: removed before bdr
        # stops.
        kept = finished and drill.keep_on_failure and not verdict.passed and scratch.exists()
        if not finished:
            scratch_area.remove(scratch, record.id)
        record.outcome = replace(
            outcome_of(record),
            kept_scratch=str(scratch) if kept else None,
            verdict=verdict.kind,
            reason=verdict.reason,
        )
    if verdict.kind == UNPROVEN:
        # Not a pass (exit 4), but not a failure of the data or of the RTO either.
        record.status = runs.WARNING
        record.exit_code = int(ExitCode.DRILL_FAILED)
        record.error = verdict.reason  # what its notification says
    elif verdict.kind not in (PASSED, ERROR):
        record.fail(verdict.reason, exit_code=int(ExitCode.DRILL_FAILED))
    record.message = verdict.reason
    return verdict, kept


def _drill(job: Job, snapshot_id: str | None) -> Verdict:
    ctx, name, drill, record, scratch = job.ctx, job.name, job.drill, job.record, job.scratch
    plan = ctx.config.plans[drill.plan]
    clock = ctx.monotonic
    restored = restore_phase(job, snapshot_id)
    outcome = outcome_of(record)

    ctx.say(f"drill {name}: verifying")
    verify_started = clock()
    with closing(restored):
        outcome, problems = verify(drill, restored.canary, restored.selection, scratch, outcome)
    if restored.errors:
        outcome = replace(outcome, restore_errors=tuple(restored.errors))
        problems.insert(0, f"restic could not restore the data intact: {restored.errors[0]}")
    verify_seconds = clock() - verify_started
    record.outcome = outcome

    checks_started = clock()
    secrets = every_secret(ctx.config.repositories.values()) if drill.checks else frozenset()
    results = (
        ()
        if problems
        else run_checks(drill.checks, ctx.config.remote, scratch, plan.sources, secrets)
    )
    checks_seconds = clock() - checks_started
    failed_checks = [f"{r.check}: {r.problem}" for r in results if not r.ok]

    restore_seconds = restored.seconds
    recovery = restore_seconds + verify_seconds + checks_seconds
    projection = (
        _projection(ctx, drill, outcome, restore_seconds + verify_seconds, restored.calibrated)
        if restored.sample is not None
        else None
    )
    judged = projection.seconds + checks_seconds if projection else recovery
    record.outcome = replace(
        outcome,
        checks=results,
        phases=Phases(restore=restore_seconds, verify=verify_seconds, checks=checks_seconds),
        recovery_seconds=recovery,
        projected_seconds=judged,
        projected_error_seconds=projection.error_seconds if projection else 0.0,
        projection_method=projection.method if projection else "measured",
    )
    return judge(
        data_problems=problems,
        failed_checks=failed_checks,
        recovery_seconds=recovery,
        judged_seconds=judged,
        rto=drill.rto,
        projected=projection is not None,
        calibrated=projection is None or projection.method != "uncalibrated",
        error_seconds=(projection.error_seconds or 0.0) if projection else 0.0,
        repository=drill.repository,
        checks_on=[check.runs_on for check in drill.checks],
    )


@dataclass(frozen=True)
class Measured:
    """The restore+verify measurements of past drills on a repository whose data was good;
    `full`, those of them that restored the whole snapshot."""

    points: list[Point]
    full: list[Point]


def history_points(ctx: Context, repository: str) -> Measured:
    """Return what past drills on `repository` measured."""
    points, full = [], []
    for past in drills.history(ctx.db, repository=repository, limit=200):
        outcome = past.outcome
        if (
            outcome.data_good
            and outcome.phases is not None
            and outcome.bytes is not None
            and outcome.files is not None
        ):
            seconds = outcome.phases.restore + outcome.phases.verify
            points.append(Point(outcome.bytes, outcome.files, seconds))
            # A calibrating sample drill restored everything: a full restore like a full drill.
            if (outcome.bytes, outcome.files) == (outcome.full_bytes, outcome.full_files):
                full.append(points[-1])
    return Measured(points, full)


def _projection(
    ctx: Context, drill: Drill, outcome: DrillOutcome, seconds: float, calibrated: bool
) -> Projection:
    """Project the full restore+verify time of a sample drill."""
    assert outcome.bytes is not None and outcome.files is not None
    assert outcome.full_bytes is not None and outcome.full_files is not None
    sample = Point(outcome.bytes, outcome.files, seconds)
    measured = history_points(ctx, drill.repository)
    return project(
        [*measured.points, sample],
        sample,
        outcome.full_bytes,
        outcome.full_files,
        calibrated=calibrated,
        floor=error_floor(measured.full),
    )
