"""The monthly report's view model, computed from the history's runs (pure: no I/O, no clock).

Every figure is computed here and nowhere else; the templates only format it, and
`report.json` is this model as JSON. Every row and figure names the run ids it comes from,
so an auditor can trace it to the history and to the evidence chain.

Times are Unix seconds; durations are seconds.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bdr.period import Period
from bdr.store import runs
from bdr.store.outcomes import CheckOutcome, CopyOutcome, DrillOutcome
from bdr.store.runs import Run
from bdr.store.verified import Gone

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
DAY = 86400.0
# No run of any kind for this long means the appliance or its daemon was not running.
DOWN_AFTER = 2 * DAY
SUCCEEDED = (runs.OK, runs.WARNING)
EXCEPTIONAL = (runs.FAILED, runs.WARNING, runs.INTERRUPTED)


# -- what the model is computed from ------------------------------------------------------------


@dataclass(frozen=True)
class DrillSpec:
    name: str
    plan: str
    repository: str
    kind: str
    rto: float
    checks: tuple[str, ...] = ()
    # Where its application checks run: "the appliance", "recovery host db1".
    checked_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanSpec:
    name: str
    rpo: float
    repository: str  # its own tier, where backups go
    copy_to: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def tiers(self) -> tuple[str, ...]:
        return (self.repository, *self.copy_to)


@dataclass(frozen=True)
class Setup:
    """What the report needs of the configuration."""

    appliance: str
    client: str
    site: str = ""
    msp: str = ""
    contact: str = ""
    plans: tuple[PlanSpec, ...] = ()
    drills: tuple[DrillSpec, ...] = ()
    checks: tuple[tuple[str, int], ...] = ()  # (repository, read cycle)


@dataclass(frozen=True)
class EvidenceFacts:
    records: int  # in the whole chain
    records_in_period: int
    head_seq: int | None
    head_sha256: str | None
    fingerprint: str
    principal: str
    # The last record of a run that ended in the period: the month's bundle must end with it.
    period_last_seq: int | None = None
    period_last_sha256: str | None = None


@dataclass(frozen=True)
class Inputs:
    setup: Setup
    period: Period
    generated_at: float
    zone: tzinfo
    runs: tuple[Run, ...]  # every run that started before generated_at (older ones may be cut)
    bdr_version: str = ""
    restic_version: str = ""
    evidence: EvidenceFacts | None = None
    # Verified snapshots that a listing later showed gone: not verified from then on.
    gone: tuple[Gone, ...] = ()
    # Where the history disagreed with the evidence chain (the runs are as the chain says).
    chain_findings: tuple[Finding, ...] = ()


# -- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    msp: str
    contact: str
    client: str
    site: str
    appliance: str
    month: str
    period_start: float
    period_end: float
    partial: bool
    report_id: str
    generated_at: float
    bdr_version: str
    restic_version: str


@dataclass(frozen=True)
class Ratio:
    good: int
    total: int
    runs: tuple[int, ...]

    @property
    def share(self) -> float | None:
        return self.good / self.total if self.total else None


@dataclass(frozen=True)
class Finding:
    severity: str  # warning | failure
    text: str
    runs: tuple[int, ...] = ()


@dataclass(frozen=True)
class TierSummary:
    plan: str
    repository: str
    kind: str  # backup | copy
    rpo: float
    rto: float | None  # the strictest RTO of the drills of this tier; None: no drill configured
    proven: bool
    statement: str
    drills: Ratio  # RTO compliance of the tier: its drills that passed, of those that ran
    failed: tuple[int, ...]  # its drills that did not pass
    failures: str  # how many did not pass, and the last one's time and verdict
    slowest_seconds: float | None  # measured (full) or projected (sample) of the passed drills
    slowest_run: int | None
    rpo_compliance: float | None  # share of the period with a snapshot younger than the RPO
    measured_from: float  # the period's start, or the appliance's first run when later
    without_snapshot: float  # seconds of the period before the tier held any snapshot
    worst_age: float | None
    worst_age_at: float | None
    verified_age: float | None  # at period end: the newest drill-passed snapshot's age
    verified_run: int | None
    snapshot_runs: tuple[int, ...]


@dataclass(frozen=True)
class PlanVerdict:
    plan: str
    light: str
    headline: str
    tiers: tuple[TierSummary, ...]


@dataclass(frozen=True)
class CheckRow:
    repository: str
    cycle: int | None
    runs: tuple[int, ...]
    passed: int
    errors: tuple[str, ...]
    failed_runs: tuple[int, ...]
    coverage: float | None  # at the period's last check
    size_bytes: int | None


@dataclass(frozen=True)
class Summary:
    plans: tuple[PlanVerdict, ...]
    rto_compliance: Ratio
    backup_success: Ratio
    checks: tuple[CheckRow, ...]
    exceptions: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class DrillRow:
    run: int
    drill: str
    started_at: float
    plan: str | None
    repository: str | None
    status: str
    snapshot: str | None
    snapshot_age: float | None
    kind: str
    share: float | None  # of the snapshot's files, for samples
    files: int | None
    bytes: int | None
    changed_files: int
    canary: str | None
    checks_passed: int
    checks_total: int
    measured_seconds: float | None
    projected_seconds: float | None
    projected_error_seconds: float | None
    projection_method: str | None  # measured | history | calibrated | uncalibrated
    rto: float | None
    headroom_seconds: float | None
    verdict: str
    reason: str


@dataclass(frozen=True)
class Day:
    date: str  # YYYY-MM-DD, local
    status: str  # ok | partial | failed | none | later
    runs: tuple[int, ...]


@dataclass(frozen=True)
class TierDetail:
    plan: str
    repository: str
    kind: str
    rpo: float
    rto: float | None
    drills: tuple[DrillRow, ...]
    # The newest snapshot's age across the period: (time, age) vertices, None where no
    # snapshot existed yet.
    ages: tuple[tuple[float, float | None], ...]
    calendar: tuple[Day, ...]


@dataclass(frozen=True)
class ExceptionRow:
    """One problem of one job: its first failed, partial or interrupted run and those that
    followed until the next good run of the same job resolved it."""

    run: int  # the first
    runs: tuple[int, ...]  # every run of the problem
    kind: str
    job: str
    status: str  # of the first run
    started_at: float
    reason: str
    resolved_by: int | None
    resolved_at: float | None
    open_seconds: float  # until resolved, or until the report was generated


@dataclass(frozen=True)
class RunbookTier:
    repository: str
    command: str
    last_drill_run: int | None
    last_drill_seconds: float | None
    last_drill_projected: bool
    checks: tuple[str, ...]


@dataclass(frozen=True)
class RunbookPlan:
    plan: str
    sources: tuple[str, ...]
    tiers: tuple[RunbookTier, ...]


@dataclass(frozen=True)
class Report:
    cover: Cover
    summary: Summary
    tiers: tuple[TierDetail, ...]
    drills: tuple[DrillRow, ...]
    checks: tuple[CheckRow, ...]
    exceptions: tuple[ExceptionRow, ...]
    runbook: tuple[RunbookPlan, ...]
    evidence: EvidenceFacts | None
    zone: str


def as_json(report: Report) -> dict[str, Any]:
    """The model as plain JSON data (what `report.json` holds)."""
    data: dict[str, Any] = dataclasses.asdict(report)
    data["units"] = {"times": "Unix seconds", "durations": "seconds", "sizes": "bytes"}
    return data


# -- computing it -------------------------------------------------------------------------------


def build(inputs: Inputs) -> Report:
    period, setup = inputs.period, inputs.setup
    inside = [run for run in inputs.runs if period.start <= run.started_at < period.end]
    finished = [run for run in inside if run.status in runs.FINISHED]
    drills = tuple(_drill_row(run, setup, inputs.runs) for run in finished if run.kind == "drill")
    recovery = {
        (plan.name, repository): _recovery_of(inputs, plan, repository)
        for plan in setup.plans
        for repository in plan.tiers
    }
    details = tuple(
        _tier_detail(inputs, plan, repository, drills, recovery[(plan.name, repository)])
        for plan in setup.plans
        for repository in plan.tiers
    )
    summaries = {
        (plan.name, repository): _tier_summary(
            inputs, plan, repository, drills, recovery[(plan.name, repository)]
        )
        for plan in setup.plans
        for repository in plan.tiers
    }
    in_service = any(run.started_at < period.end for run in inputs.runs)
    verdicts = tuple(
        _plan_verdict(plan, [summaries[(plan.name, r)] for r in plan.tiers], in_service)
        for plan in setup.plans
    )
    checks = _check_rows(setup, finished)
    exceptions = _exceptions(finished, inputs.runs, inputs.generated_at)
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
            tuple(_findings(inputs, summaries, checks, inside))
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
        runbook=tuple(_runbook(plan, setup, drills) for plan in setup.plans),
        evidence=inputs.evidence,
        zone=str(inputs.zone),
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


# -- recovery point: the newest snapshot's age on a tier -----------------------------------------


@dataclass(frozen=True)
class _Arrival:
    """A snapshot became the tier's newest at `at`; it was taken at `taken`."""

    at: float
    taken: float
    run: int


def _arrivals(all_runs: Sequence[Run], plan: str, repository: str, own: bool) -> list[_Arrival]:
    """When each newer snapshot reached the tier: backups for the plan's own repository,
    copies for the others. In the order of runs, like the newest snapshot bdr records."""
    backups = [
        run
        for run in all_runs
        if run.kind == "backup"
        and run.plan == plan
        and run.status in SUCCEEDED
        and run.snapshot_id
        and run.ended_at is not None
    ]
    found: list[_Arrival] = []
    if own:
        # restic stamps a snapshot with the backup's start; the start bounds it from below.
        found = [
            _Arrival(run.ended_at, run.started_at, run.id)
            for run in backups
            if run.repository == repository and run.ended_at is not None
        ]
    else:
        for run in all_runs:
            if not (
                run.kind == "copy"
                and run.plan == plan
                and run.repository == repository
                and run.status in SUCCEEDED
                and run.snapshot_id
                and run.ended_at is not None
            ):
                continue
            taken = run.outcome.snapshot_time if isinstance(run.outcome, CopyOutcome) else None
            if taken is None:
                taken = _backup_time(backups, run)
            if taken is not None:
                found.append(_Arrival(run.ended_at, taken, run.id))
    found.sort(key=lambda arrival: (arrival.at, arrival.run))
    return found


def _backup_time(backups: Sequence[Run], copy: Run) -> float | None:
    """The snapshot time of the backup a copy carried: by its id, else the last one before."""
    for run in backups:
        assert run.snapshot_id is not None and copy.snapshot_id is not None
        if run.snapshot_id.startswith(copy.snapshot_id) or copy.snapshot_id.startswith(
            run.snapshot_id
        ):
            return run.started_at
    before = [run.started_at for run in backups if (run.ended_at or 0) <= copy.started_at]
    return max(before, default=None)


@dataclass(frozen=True)
class _Recovery:
    compliance: float | None
    without_snapshot: float  # seconds of the measured time in which the tier held no snapshot
    worst_age: float | None
    worst_at: float | None
    ages: tuple[tuple[float, float | None], ...]
    runs: tuple[int, ...]
    measured_from: float = 0.0
    # A new appliance: seconds from its first run to the tier's first snapshot (not measured).
    before_first: float = 0.0


def _recovery_point(
    arrivals: Sequence[_Arrival], start: float, end: float, rpo: float
) -> _Recovery:
    """Time-weighted RPO compliance over [start, end) and the saw-tooth of the snapshot age."""
    if end <= start:
        return _Recovery(None, 0.0, None, None, (), ())
    earlier = [a for a in arrivals if a.at <= start]
    during = [a for a in arrivals if start < a.at < end]
    current = earlier[-1] if earlier else None
    vertices: list[tuple[float, float | None]] = [
        (start, start - current.taken if current else None)
    ]
    compliant = without = 0.0
    worst: tuple[float, float] | None = None  # (age, at)
    cursor = start
    for arrival in [*during, None]:
        until = arrival.at if arrival else end
        if current is not None:
            # The age grows from cursor - taken to until - taken; compliant while age <= rpo
            # (a snapshot stamped in the future by a clock that jumped counts as young).
            compliant += max(0.0, min(until, current.taken + rpo) - cursor)
            age = until - current.taken
            vertices.append((until, age))
            if worst is None or age > worst[0]:
                worst = (age, until)
        else:
            vertices.append((until, None))
            without += until - cursor
        if arrival is not None:
            current = arrival
            vertices.append((until, until - arrival.taken))
        cursor = until
    share = min(1.0, compliant / (end - start))
    used = ([earlier[-1].run] if earlier else []) + [a.run for a in during]
    return _Recovery(
        share,
        without,
        worst[0] if worst else None,
        worst[1] if worst else None,
        tuple(vertices),
        tuple(used),
    )


# -- tiers ---------------------------------------------------------------------------------------


def _tier_drills(drills: Iterable[DrillRow], plan: str, repository: str) -> list[DrillRow]:
    return [d for d in drills if d.plan == plan and d.repository == repository]


def _tier_rto(setup: Setup, plan: str, repository: str) -> float | None:
    rtos = [d.rto for d in setup.drills if d.plan == plan and d.repository == repository]
    return min(rtos, default=None)


def service_start(inputs: Inputs) -> float:
    """Where the period's RPO is measured from: its start, or the appliance's first run when
    that came later (a new appliance is not late for the days before it was installed)."""
    first = min((run.started_at for run in inputs.runs), default=inputs.period.end)
    return max(inputs.period.start, min(first, inputs.period.end))


def _recovery_of(inputs: Inputs, plan: PlanSpec, repository: str) -> _Recovery:
    """The tier's recovery point over the period: from its start, or on a new appliance's
    first month from the tier's first snapshot (its first backup or copy is not late)."""
    arrivals = _arrivals(inputs.runs, plan.name, repository, repository == plan.repository)
    start, end = service_start(inputs), inputs.period.end
    first = arrivals[0].at if arrivals else None
    if start > inputs.period.start and first is not None and start < first < end:
        found = _recovery_point(arrivals, first, end, plan.rpo)
        return dataclasses.replace(found, measured_from=first, before_first=first - start)
    return dataclasses.replace(_recovery_point(arrivals, start, end, plan.rpo), measured_from=start)


def _tier_summary(
    inputs: Inputs,
    plan: PlanSpec,
    repository: str,
    drills: Sequence[DrillRow],
    recovery: _Recovery,
) -> TierSummary:
    setup, period = inputs.setup, inputs.period
    own = _tier_drills(drills, plan.name, repository)
    passed = [d for d in own if d.verdict == "passed"]
    configured = any(d.plan == plan.name and d.repository == repository for d in setup.drills)
    failed = [d for d in own if d.verdict != "passed"]
    proven = bool(passed) and own[-1].verdict == "passed"
    slowest = max(passed, key=_recovery_seconds, default=None)
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
        rpo=plan.rpo,
        rto=_tier_rto(setup, plan.name, repository),
        proven=proven,
        statement=_tier_statement(
            repository, configured, own, passed, slowest, checked_on, inputs.zone
        ),
        failed=tuple(d.run for d in failed),
        failures=_failures(failed, inputs.zone) if failed else "",
        drills=Ratio(len(passed), len(own), tuple(d.run for d in own)),
        slowest_seconds=_recovery_seconds(slowest) if slowest else None,
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


def _recovery_seconds(drill: DrillRow) -> float:
    """What a drill says recovery takes: measured for a full drill, projected for a sample."""
    if drill.kind == "sample" and drill.projected_seconds is not None:
        return drill.projected_seconds
    return drill.measured_seconds or 0.0


def _verified(
    all_runs: Sequence[Run], gone: Sequence[Gone], plan: str, repository: str, end: float
) -> tuple[float, int] | None:
    """(time, drill run) of the newest snapshot a passed drill of the tier verified by `end`
    that was not known to be gone by then (as store/verified.py defines it for `end` = now)."""
    missing = {g.snapshot_id for g in gone if g.repository == repository and g.noticed_at <= end}
    best: tuple[float, int] | None = None
    for run in all_runs:
        if not (
            run.snapshot_id not in missing
            and run.kind == "drill"
            and run.plan == plan
            and run.repository == repository
            and run.ended_at is not None
            and run.ended_at <= end
            and isinstance(run.outcome, DrillOutcome)
            and run.outcome.passed
            and run.outcome.snapshot_time is not None
        ):
            continue
        if best is None or run.outcome.snapshot_time > best[0]:
            best = (run.outcome.snapshot_time, run.id)
    return best


def _tier_statement(
    repository: str,
    configured: bool,
    own: Sequence[DrillRow],
    passed: Sequence[DrillRow],
    slowest: DrillRow | None,
    checked_on: Sequence[str],
    zone: tzinfo,
) -> str:
    """What the drills of a tier proved this month, and how many did not pass, when."""
    failed = [d for d in own if d.verdict != "passed"]
    if passed and own[-1].verdict == "passed" and slowest is not None:
        full = sum(1 for d in passed if d.kind == "full")
        against = f" against {spoken(slowest.rto)}" if slowest.rto else ""
        checks = f"; application checks passed on {' and '.join(checked_on)}" if checked_on else ""
        said = (
            f"restored from {repository} and verified on the appliance by "
            f"{_kinds(full, len(passed) - full)}, slowest {spoken(_recovery_seconds(slowest))}"
            f"{against}{checks}"
        )
        if failed:
            said += f"; {_failures(failed, zone)}, and a later drill passed"
        return said
    if not configured and not own:
        return f"no drill is configured for the {repository} tier"
    if not own:
        return f"no drill of the {repository} tier ran this month"
    last = own[-1]
    if not passed and last.verdict != "unproven":
        return f"no drill of the {repository} tier passed this month: {_failures(failed, zone)}"
    when = _at(last.started_at, zone)
    more = (
        f"; {len(failed)} of {len(own)} drills of the tier did not pass" if len(failed) > 1 else ""
    )
    if last.verdict == "unproven":
        error = last.projected_error_seconds
        bar = f" ± {spoken(error)}" if error else ""
        return (
            f"the RTO of the {repository} tier is not proven: the last drill, on {when}, projects "
            f"the full recovery at {spoken(_recovery_seconds(last))}{bar} against "
            f"{spoken(last.rto or 0.0)}{more}"
        )
    return (
        f"the last drill of the {repository} tier, on {when}, failed "
        f"({last.verdict}: {last.reason}){more}"
    )


def _at(timestamp: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M")


def _failures(failed: Sequence[DrillRow], zone: tzinfo) -> str:
    """'2 drills did not pass, the last on 2026-11-14 02:00 (rto)'."""
    last = failed[-1]
    when = _at(last.started_at, zone)
    if len(failed) == 1:
        return f"1 drill did not pass, on {when} ({last.verdict})"
    return f"{len(failed)} drills did not pass, the last on {when} ({last.verdict})"


def _kinds(full: int, sample: int) -> str:
    parts = [f"{full} full drill{'s' if full != 1 else ''}"] if full else []
    parts += [f"{sample} sample drill{'s' if sample != 1 else ''}"] if sample else []
    return " and ".join(parts)


def _plan_verdict(plan: PlanSpec, tiers: Sequence[TierSummary], in_service: bool) -> PlanVerdict:
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
            f"restored from {_and(t.repository for t in tiers)} and verified on the appliance "
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


NO_RUNS = "No runs in this period: the appliance was not in service yet"


def _and(names: Iterable[str]) -> str:
    found = list(dict.fromkeys(names))
    return ", ".join(found[:-1]) + " and " + found[-1] if len(found) > 1 else "".join(found)


def spoken(seconds: float) -> str:
    """A duration as a client manager reads it: '45 s', '23 min', '1 h', '1 h 5 min', '3 days'."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{round(whole / 60)} min"
    if whole < 2 * 86400:
        hours, minutes = divmod(round(whole / 60), 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days = whole / 86400
    return f"{days:.1f} days".replace(".0 days", " days")


def _tier_detail(
    inputs: Inputs,
    plan: PlanSpec,
    repository: str,
    drills: Sequence[DrillRow],
    recovery: _Recovery,
) -> TierDetail:
    own = repository == plan.repository
    return TierDetail(
        plan=plan.name,
        repository=repository,
        kind="backup" if own else "copy",
        rpo=plan.rpo,
        rto=_tier_rto(inputs.setup, plan.name, repository),
        drills=tuple(_tier_drills(drills, plan.name, repository)),
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


# -- drills, checks, exceptions --------------------------------------------------------------------


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


def _exceptions(
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


# -- missing evidence: findings, never blanks ------------------------------------------------------


def _findings(
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
        elif check.coverage is None or check.coverage < 1:
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


# -- runbook -------------------------------------------------------------------------------------


def _runbook(plan: PlanSpec, setup: Setup, drills: Sequence[DrillRow]) -> RunbookPlan:
    steps = []
    for repository in plan.tiers:
        own = _tier_drills(drills, plan.name, repository)
        last = own[-1] if own else None
        flag = "" if repository == plan.repository else f" --repository {repository}"
        checks = tuple(
            check
            for drill in setup.drills
            if drill.plan == plan.name and drill.repository == repository
            for check in drill.checks
        )
        steps.append(
            RunbookTier(
                repository=repository,
                command=f"bdr restore {plan.name}{flag} --snapshot latest --target /srv/restore",
                last_drill_run=last.run if last else None,
                last_drill_seconds=_recovery_seconds(last) if last else None,
                last_drill_projected=bool(last and last.kind == "sample"),
                checks=tuple(dict.fromkeys(checks)),
            )
        )
    return RunbookPlan(plan.name, plan.sources, tuple(steps))
