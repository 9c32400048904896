"""The report model, built from the history's runs (pure: no I/O, no clock)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bdr.report.findings import exception_rows, missing_evidence
from bdr.report.folding import drill_summaries, problem_rows
from bdr.report.model import (
    SUCCEEDED,
    CheckRow,
    Cover,
    DrillRow,
    Finding,
    Inputs,
    PlanSpec,
    Ratio,
    Report,
    RunbookPlan,
    RunbookTier,
    Setup,
    Summary,
    recovery_seconds,
)
from bdr.report.suspects import boundary, last_clean, suspect_rows
from bdr.report.tiers import plan_verdict, recovery_of, tier_detail, tier_drills, tier_summary
from bdr.report.wording import NO_RUNS
from bdr.store import runs
from bdr.store.outcomes import CheckOutcome, DrillOutcome
from bdr.store.runs import Run


def build(inputs: Inputs) -> Report:
    period, setup = inputs.period, inputs.setup
    inside = [run for run in inputs.runs if period.start <= run.started_at < period.end]
    finished = [run for run in inside if run.status in runs.FINISHED]
    drills = tuple(_drill_row(run, setup, inputs.runs) for run in finished if run.kind == "drill")
    recovery = {
        (plan.name, repository): recovery_of(inputs, plan, repository)
        for plan in setup.plans
        for repository in plan.tiers
    }
    details = tuple(
        tier_detail(inputs, plan, repository, drills, recovery[(plan.name, repository)])
        for plan in setup.plans
        for repository in plan.tiers
    )
    summaries = {
        (plan.name, repository): tier_summary(
            inputs, plan, repository, drills, recovery[(plan.name, repository)]
        )
        for plan in setup.plans
        for repository in plan.tiers
    }
    in_service = any(run.started_at < period.end for run in inputs.runs)
    verdicts = tuple(
        plan_verdict(plan, [summaries[(plan.name, r)] for r in plan.tiers], in_service)
        for plan in setup.plans
    )
    checks = _check_rows(setup, finished)
    exceptions = exception_rows(finished, inputs.runs, inputs.generated_at)
    backups = [run for run in finished if run.kind == "backup"]
    summary = Summary(
        plans=verdicts,
        rto_compliance=Ratio(
            sum(1 for d in drills if d.verdict == "passed"),
            len(drills),
            tuple(d.run for d in drills),
        ),
        backup_success=Ratio(
            sum(1 for run in backups if run.status in SUCCEEDED),
            len(backups),
            tuple(run.id for run in backups),
        ),
        checks=checks,
        exceptions=len(exceptions),
        findings=inputs.chain_findings
        + (
            tuple(missing_evidence(inputs, summaries, checks, inside))
            if in_service
            else (Finding("warning", NO_RUNS),)
        ),
    )
    return Report(
        cover=_cover(inputs),
        summary=summary,
        tiers=details,
        drills=drills,
        checks=checks,
        exceptions=exceptions,
        suspects=suspect_rows(finished, inputs.runs, inputs.generated_at),
        runbook=tuple(_runbook(plan, inputs, drills) for plan in setup.plans),
        evidence=inputs.evidence,
        zone=str(inputs.zone),
        problems=problem_rows(exceptions),
        drill_summaries=drill_summaries(drills),
    )


def _cover(inputs: Inputs) -> Cover:
    setup, period = inputs.setup, inputs.period
    stamp = datetime.fromtimestamp(inputs.generated_at, inputs.zone).strftime("%Y%m%dT%H%M%S")
    return Cover(
        msp=setup.msp,
        contact=setup.contact,
        client=setup.client,
        site=setup.site,
        appliance=setup.appliance,
        month=period.month,
        period_start=period.start,
        period_end=period.end,
        partial=period.partial,
        report_id=f"{setup.appliance}-{period.month}-{stamp}",
        generated_at=inputs.generated_at,
        bdr_version=inputs.bdr_version,
        restic_version=inputs.restic_version,
    )


def _drill_row(run: Run, setup: Setup, all_runs: Sequence[Run]) -> DrillRow:
    outcome = run.outcome if isinstance(run.outcome, DrillOutcome) else DrillOutcome()
    rto: float | None = outcome.rto
    if rto is None:
        rto = next((d.rto for d in setup.drills if d.name == run.subject), None)
    measured = outcome.recovery_seconds
    projected = outcome.projected_seconds
    judged = projected if outcome.drill_kind == "sample" and projected is not None else measured
    share = None
    if outcome.drill_kind == "sample" and outcome.files and outcome.full_files:
        share = outcome.files / outcome.full_files
    return DrillRow(
        run=run.id,
        drill=run.subject or "",
        started_at=run.started_at,
        plan=run.plan,
        repository=run.repository,
        status=run.status,
        snapshot=run.snapshot_id,
        snapshot_age=(
            run.started_at - outcome.snapshot_time if outcome.snapshot_time is not None else None
        ),
        kind=outcome.drill_kind,
        share=share,
        files=outcome.verified_files if outcome.verified_files is not None else outcome.files,
        bytes=outcome.bytes,
        changed_files=outcome.changed_files,
        canary=outcome.canary,
        checks_passed=sum(1 for check in outcome.checks if check.ok),
        checks_total=len(outcome.checks),
        measured_seconds=measured,
        projected_seconds=projected if outcome.drill_kind == "sample" else None,
        projected_error_seconds=outcome.projected_error_seconds,
        projection_method=outcome.projection_method,
        rto=rto,
        headroom_seconds=rto - judged if rto is not None and judged is not None else None,
        verdict=outcome.verdict if run.status != runs.INTERRUPTED else "interrupted",
        reason=outcome.reason or (run.error or ""),
    )


def _check_rows(setup: Setup, finished: Sequence[Run]) -> tuple[CheckRow, ...]:
    cycles = dict(setup.checks)
    repositories = list(cycles)
    repositories += sorted(
        {run.repository for run in finished if run.kind == "check" and run.repository}
        - set(repositories)
    )
    rows = []
    for repository in repositories:
        mine = [run for run in finished if run.kind == "check" and run.repository == repository]
        outcomes = [
            run.outcome if isinstance(run.outcome, CheckOutcome) else CheckOutcome() for run in mine
        ]
        failed = [run for run in mine if run.status not in SUCCEEDED]
        errors = tuple(error for outcome in outcomes for error in outcome.errors)
        last_good = [
            outcome for run, outcome in zip(mine, outcomes, strict=True) if run.status in SUCCEEDED
        ]
        sizes = [o.repository_size_bytes for o in outcomes if o.repository_size_bytes is not None]
        rows.append(
            CheckRow(
                repository=repository,
                cycle=cycles.get(repository) or (outcomes[-1].cycle if outcomes else None),
                runs=tuple(run.id for run in mine),
                passed=len(mine) - len(failed),
                errors=errors,
                failed_runs=tuple(run.id for run in failed),
                coverage=last_good[-1].coverage if last_good else None,
                size_bytes=sizes[-1] if sizes else None,
            )
        )
    return tuple(rows)


def _runbook(plan: PlanSpec, inputs: Inputs, drills: Sequence[DrillRow]) -> RunbookPlan:
    setup = inputs.setup
    steps = []
    suspect = boundary(inputs.runs, plan.name, inputs.generated_at)
    for repository in plan.tiers:
        own = tier_drills(drills, plan.name, repository)
        last = own[-1] if own else None
        flag = "" if repository == plan.repository else f" --repository {repository}"
        checks = tuple(
            check
            for drill in setup.drills
            if drill.plan == plan.name and drill.repository == repository
            for check in drill.checks
        )
        clean = (
            last_clean(inputs.runs, inputs.gone, plan.name, repository, inputs.generated_at)
            if suspect
            else None
        )
        # While a snapshot is suspect of ransomware, the newest may hold its work: the runbook
        # restores the last clean restore point (or, with none, says so in the report).
        chosen = clean.snapshot_id[:8] if clean and clean.snapshot_id else "latest"
        steps.append(
            RunbookTier(
                repository=repository,
                command=f"sudo bdr restore {plan.name}{flag} --snapshot {chosen} "
                "--target /srv/restore",
                last_drill_run=last.run if last else None,
                last_drill_seconds=recovery_seconds(last) if last else None,
                last_drill_projected=bool(last and last.kind == "sample"),
                checks=tuple(dict.fromkeys(checks)),
                suspect_snapshot=suspect.snapshot_id[:8]
                if suspect and suspect.snapshot_id
                else None,
                clean_snapshot=chosen if clean else None,
            )
        )
    return RunbookPlan(plan.name, plan.sources, tuple(steps))
