"""What the period lacks or holds out of the ordinary: findings (never blanks) and exceptions."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from bdr.report.model import (
    DOWN_AFTER,
    EXCEPTIONAL,
    CheckRow,
    ExceptionRow,
    Finding,
    Inputs,
    TierSummary,
)
from bdr.report.tiers import service_start
from bdr.report.wording import spoken
from bdr.store import runs
from bdr.store.outcomes import DrillOutcome
from bdr.store.runs import Run


def job_of(run: Run) -> str:
    """The job a run belongs to, as a person names it: 'backup office', 'copy office to cloud'."""
    if run.kind == "copy":
        return f"copy {run.plan} to {run.repository}"
    if run.kind in ("backup", "retention"):
        return f"{run.kind} {run.plan}" + (
            f" in {run.repository}" if run.kind == "retention" else ""
        )
    if run.kind in ("check", "prune"):
        return f"{run.kind} {run.repository}"
    if run.kind == "drill":
        return f"drill {run.subject}"
    return run.kind + (f" {run.subject}" if run.subject else "")


def exception_rows(
    finished: Sequence[Run], all_runs: Sequence[Run], generated_at: float
) -> tuple[ExceptionRow, ...]:
    exceptional = [run for run in finished if run.status in EXCEPTIONAL]
    if not exceptional:
        return ()
    good: dict[str, list[Run]] = defaultdict(list)
    for later in sorted(all_runs, key=lambda r: r.id):
        if later.status == runs.OK:
            good[job_of(later)].append(later)
    good_ids = {job: [run.id for run in found] for job, found in good.items()}
    problems: dict[tuple[str, int | None], list[Run]] = {}
    for run in exceptional:
        job = job_of(run)
        index = bisect.bisect_right(good_ids.get(job, []), run.id)
        fix = good[job][index] if index < len(good_ids.get(job, [])) else None
        problems.setdefault((job, fix.id if fix else None), []).append(run)
    rows = []
    for (job, fix_id), members in problems.items():
        first = members[0]
        fix = next(r for r in good[job] if r.id == fix_id) if fix_id is not None else None
        resolved_at = fix.ended_at if fix else None
        rows.append(
            ExceptionRow(
                run=first.id,
                runs=tuple(run.id for run in members),
                kind=first.kind,
                job=job,
                status=first.status,
                started_at=first.started_at,
                reason=_reason(first),
                resolved_by=fix_id,
                resolved_at=resolved_at,
                open_seconds=max(0.0, (resolved_at or generated_at) - first.started_at),
            )
        )
    rows.sort(key=lambda row: (row.started_at, row.run))
    return tuple(rows)


def _reason(run: Run) -> str:
    if isinstance(run.outcome, DrillOutcome) and run.outcome.reason:
        return f"{run.outcome.verdict}: {run.outcome.reason}"
    if run.error:
        return run.error
    return "interrupted" if run.status == runs.INTERRUPTED else run.status


def missing_evidence(
    inputs: Inputs,
    tiers: dict[tuple[str, str], TierSummary],
    checks: Sequence[CheckRow],
    inside: Sequence[Run],
) -> list[Finding]:
    found: list[Finding] = []
    period = inputs.period
    found += _downtime(inputs, inside)
    for (plan, repository), tier in tiers.items():
        if not tier.snapshot_runs:
            what = "was never copied" if tier.kind == "copy" else "holds no snapshot"
            found.append(Finding("failure", f"plan {plan}: the {repository} tier {what}"))
            late = 0.0
        else:
            measured = period.end - tier.measured_from
            before = tier.measured_from - service_start(inputs)
            # Time the tier held no snapshot yet is empty, not late; on a new appliance, the
            # time before the tier's first snapshot is not measured at all.
            empty = tier.without_snapshot - max(0.0, before)
            late = (1 - (tier.rpo_compliance or 0.0)) * measured - empty
            # On a new appliance's first days, a first snapshot within the RPO is not news.
            if tier.without_snapshot > (tier.rpo if before > 0 else 0):
                found.append(
                    Finding(
                        "warning",
                        f"plan {plan} on {repository}: no snapshot existed for the first "
                        f"{spoken(tier.without_snapshot)} of the period"
                        + (" since the first run" if tier.measured_from > period.start else ""),
                        tier.snapshot_runs[:1],
                    )
                )
        if late > 1:
            found.append(
                Finding(
                    "warning",
                    f"plan {plan} on {repository}: the newest snapshot was older than the RPO "
                    f"({spoken(tier.rpo)}) for {spoken(late)}; worst {spoken(tier.worst_age or 0)}",
                    tier.snapshot_runs,
                )
            )
        if not tier.proven:
            found.append(Finding("failure", f"plan {plan}: {tier.statement}", tier.drills.runs))
    for check in checks:
        if not check.runs:
            found.append(Finding("warning", f"no integrity check of {check.repository} ran"))
        elif check.coverage is None or (check.coverage < 1 and check.failed_runs):
            # A cycle still filling on a new appliance is no finding; one that a failed check
            # left short is.
            cover = f"{check.coverage:.0%}" if check.coverage is not None else "none"
            found.append(
                Finding(
                    "warning",
                    f"the read cycle of {check.repository} is not complete ({cover} read)",
                    check.runs,
                )
            )
        if check.failed_runs:
            found.append(
                Finding(
                    "failure",
                    f"{len(check.failed_runs)} check(s) of {check.repository} failed",
                    check.failed_runs,
                )
            )
    if not inputs.setup.checks and not checks:
        found.append(Finding("warning", "no integrity check is configured"))
    return found


def _downtime(inputs: Inputs, inside: Sequence[Run]) -> list[Finding]:
    """Stretches of the period with no run of any kind: the appliance or its daemon was down.
    Before the first run ever, the appliance was not in service yet: said, but not a failure."""
    period = inputs.period
    times = sorted(run.started_at for run in inside)
    in_service = any(run.started_at < period.start for run in inputs.runs)
    if not times:
        if in_service and period.length > DOWN_AFTER:
            return [Finding("failure", "no run of any kind was recorded in the period")]
        return []
    found = []
    if not in_service and times[0] - period.start > 60:
        first = datetime.fromtimestamp(times[0], inputs.zone)
        found.append(
            Finding(
                "warning",
                f"the first run was recorded on {first:%Y-%m-%d %H:%M}: the period before it "
                f"({spoken(times[0] - period.start)}) is not covered",
            )
        )
        edges = [*times, period.end]
    else:
        edges = [period.start, *times, period.end]
    for a, b in itertools.pairwise(edges):
        if b - a > DOWN_AFTER:
            since = datetime.fromtimestamp(a, inputs.zone)
            until = datetime.fromtimestamp(b, inputs.zone)
            found.append(
                Finding(
                    "failure",
                    f"no run of any kind from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M}"
                    f" ({spoken(b - a)}): the appliance or its daemon was not running",
                )
            )
    return found
