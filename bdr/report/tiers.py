"""Each plan's tiers over the period: drills, recovery point, RTO and the verdicts."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo

from bdr.period import Period
from bdr.report.model import (
    AMBER,
    GREEN,
    GREY,
    RED,
    SUCCEEDED,
    Day,
    DrillRow,
    Inputs,
    PlanSpec,
    PlanVerdict,
    Ratio,
    Setup,
    TierDetail,
    TierSummary,
    recovery_seconds,
)
from bdr.report.rpo import Recovery, arrivals_of, recovery_point
from bdr.report.wording import NO_RUNS, describe_failures, joined, spoken, tier_statement
from bdr.store import runs
from bdr.store.outcomes import DrillOutcome
from bdr.store.runs import Run
from bdr.store.verified import Gone, newest_among


def tier_drills(drills: Iterable[DrillRow], plan: str, repository: str) -> list[DrillRow]:
    return [d for d in drills if d.plan == plan and d.repository == repository]


def _tier_rto(setup: Setup, plan: str, repository: str) -> float | None:
    rtos = [d.rto for d in setup.drills if d.plan == plan and d.repository == repository]
    return min(rtos, default=None)


def service_start(inputs: Inputs) -> float:
    """Where the period's RPO is measured from: its start, or the appliance's first run when
    that came later (a new appliance is not late for the days before it was installed)."""
    first = min((run.started_at for run in inputs.runs), default=inputs.period.end)
    return max(inputs.period.start, min(first, inputs.period.end))


def recovery_of(inputs: Inputs, plan: PlanSpec, repository: str) -> Recovery:
    """The tier's recovery point over the period: from its start, or on a new appliance's
    first month from the tier's first snapshot (its first backup or copy is not late)."""
    arrivals = arrivals_of(inputs.runs, plan.name, repository, repository == plan.repository)
    start, end = service_start(inputs), inputs.period.end
    first = arrivals[0].at if arrivals else None
    rpo = plan.rpo_of(repository)
    if start > inputs.period.start and first is not None and start < first < end:
        found = recovery_point(arrivals, first, end, rpo)
        return dataclasses.replace(found, measured_from=first, before_first=first - start)
    return dataclasses.replace(recovery_point(arrivals, start, end, rpo), measured_from=start)


def tier_summary(
    inputs: Inputs,
    plan: PlanSpec,
    repository: str,
    drills: Sequence[DrillRow],
    recovery: Recovery,
) -> TierSummary:
    setup, period = inputs.setup, inputs.period
    own = tier_drills(drills, plan.name, repository)
    passed = [d for d in own if d.verdict == "passed"]
    configured = any(d.plan == plan.name and d.repository == repository for d in setup.drills)
    failed = [d for d in own if d.verdict != "passed"]
    proven = bool(passed) and own[-1].verdict == "passed"
    slowest = max(passed, key=recovery_seconds, default=None)
    checked_on = tuple(
        dict.fromkeys(
            where
            for spec in setup.drills
            if spec.plan == plan.name and spec.repository == repository
            for where in spec.checked_on
        )
    )
    verified = _verified(inputs.runs, inputs.gone, plan.name, repository, period.end)
    return TierSummary(
        plan=plan.name,
        repository=repository,
        kind="backup" if repository == plan.repository else "copy",
        rpo=plan.rpo_of(repository),
        rto=_tier_rto(setup, plan.name, repository),
        proven=proven,
        statement=tier_statement(
            repository, configured, own, passed, slowest, checked_on, inputs.zone
        ),
        failed=tuple(d.run for d in failed),
        failures=describe_failures(failed, inputs.zone) if failed else "",
        drills=Ratio(len(passed), len(own), tuple(d.run for d in own)),
        slowest_seconds=recovery_seconds(slowest) if slowest else None,
        slowest_run=slowest.run if slowest else None,
        rpo_compliance=recovery.compliance,
        measured_from=recovery.measured_from,
        without_snapshot=recovery.without_snapshot + recovery.before_first,
        worst_age=recovery.worst_age,
        worst_age_at=recovery.worst_at,
        verified_age=period.end - verified[0] if verified else None,
        verified_run=verified[1] if verified else None,
        snapshot_runs=recovery.runs,
    )


def _verified(
    all_runs: Sequence[Run], gone: Sequence[Gone], plan: str, repository: str, end: float
) -> tuple[float, int] | None:
    """(time, drill run) of the tier's verified snapshot as it stood at `end` (store/verified.py
    holds the rule)."""
    run = newest_among(all_runs, gone, plan, repository, end=end)
    if run is None:
        return None
    assert isinstance(run.outcome, DrillOutcome) and run.outcome.snapshot_time is not None
    return run.outcome.snapshot_time, run.id


def plan_verdict(plan: PlanSpec, tiers: Sequence[TierSummary], in_service: bool) -> PlanVerdict:
    """The plan's light and headline: green only when every tier was proven and no drill of
    the month failed; a month with failed drills says so even when later ones passed."""
    if not in_service:
        return PlanVerdict(plan.name, GREY, NO_RUNS, tuple(tiers))
    proven = [t for t in tiers if t.proven]
    failed = sum(len(t.failed) for t in tiers)
    if len(proven) == len(tiers):
        drills = sum(t.drills.good for t in tiers)
        slowest = max(tiers, key=lambda t: t.slowest_seconds or 0.0)
        against = f" against {spoken(slowest.rto)}" if slowest.rto else ""
        noun = "drill" if drills == 1 else "drills"
        headline = (
            f"restored from {joined(t.repository for t in tiers)} and verified on the appliance "
            f"by {drills} passed {noun}, slowest {spoken(slowest.slowest_seconds or 0.0)}"
            f"{against}"
        )
        if not failed:
            return PlanVerdict(plan.name, GREEN, f"Yes: {headline}", tuple(tiers))
        where = "; ".join(f"{t.repository}: {t.failures}" for t in tiers if t.failed)
        return PlanVerdict(
            plan.name,
            AMBER,
            f"Yes, after failed drills: {headline}; {where}; a later drill passed on each tier",
            tuple(tiers),
        )
    unproven = "; ".join(t.statement for t in tiers if not t.proven)
    if proven:
        shown = ", ".join(t.repository for t in proven)
        return PlanVerdict(
            plan.name, AMBER, f"Partly: proven on {shown}; not proven: {unproven}", tuple(tiers)
        )
    return PlanVerdict(plan.name, RED, f"Not proven: {unproven}", tuple(tiers))


def tier_detail(
    inputs: Inputs,
    plan: PlanSpec,
    repository: str,
    drills: Sequence[DrillRow],
    recovery: Recovery,
) -> TierDetail:
    own = repository == plan.repository
    return TierDetail(
        plan=plan.name,
        repository=repository,
        kind="backup" if own else "copy",
        rpo=plan.rpo_of(repository),
        rto=_tier_rto(inputs.setup, plan.name, repository),
        drills=tuple(tier_drills(drills, plan.name, repository)),
        ages=recovery.ages,
        calendar=_calendar(inputs, plan.name, repository, "backup" if own else "copy"),
    )


def days_of(period: Period, zone: tzinfo) -> list[tuple[str, float, float]]:
    """(date, start, end) of each local day of the period's month, DST days included."""
    first = datetime.fromtimestamp(period.start, zone).date()
    found: list[tuple[str, float, float]] = []
    day = first
    while True:
        start = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=zone).timestamp()
        if day.month != first.month:
            return found
        found.append((day.isoformat(), start, end))
        day = following


def _calendar(inputs: Inputs, plan: str, repository: str, kind: str) -> tuple[Day, ...]:
    period = inputs.period
    relevant = [
        run
        for run in inputs.runs
        if run.kind == kind
        and run.plan == plan
        and run.repository == repository
        and run.status in runs.FINISHED
        and period.start <= run.started_at < period.end
    ]
    by_day: dict[str, list[Run]] = defaultdict(list)
    days = days_of(period, inputs.zone)
    for run in relevant:
        for date, start, end in days:
            if start <= run.started_at < end:
                by_day[date].append(run)
                break
    calendar = []
    for date, start, _ in days:
        found = by_day.get(date, [])
        if start >= period.end:
            status = "later"
        elif not found:
            status = "none"
        elif not any(run.status in SUCCEEDED for run in found):
            status = "failed"
        elif all(run.status == runs.OK for run in found):
            status = "ok"
        else:
            status = "partial"
        calendar.append(Day(date, status, tuple(run.id for run in found)))
    return tuple(calendar)
