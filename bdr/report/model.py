"""The monthly report's view model: what it is computed from and what it is made of.

Every figure is computed from the history's runs in this package and nowhere else (pure: no
I/O, no clock): `build` puts it together from `tiers` (drills, recovery point and verdicts per
tier), `rpo` (the age of a tier's newest snapshot), `findings` (what is missing or out of the
ordinary) and `wording` (the sentences a client reads). The templates only format it, and
`report.json` is this model as JSON. Every row and figure names the run ids it comes from,
so an auditor can trace it to the history and to the evidence chain.

Times are Unix seconds; durations are seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from bdr.period import Period
from bdr.store import runs
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
    tier_rpo: tuple[tuple[str, float], ...] = ()  # (tier, seconds): a tier's own RPO

    @property
    def tiers(self) -> tuple[str, ...]:
        return (self.repository, *self.copy_to)

    def rpo_of(self, tier: str) -> float:
        return dict(self.tier_rpo).get(tier, self.rpo)


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
class ProblemRow:
    """The exceptions of one job for one reason, folded for the reader: how often, when first
    and last, how long open in all; the JSON keeps every exception."""

    job: str
    kind: str
    status: str
    reason: str
    times: int  # exceptions: each resolved by the next good run of the job, or still open
    runs: tuple[int, ...]  # every run of them
    first_at: float
    last_at: float  # start of the last exception
    open_seconds: float  # the exceptions' open time, added up
    longest_seconds: float
    resolved_by: int | None  # of the last exception: None while it is open
    resolved_at: float | None


@dataclass(frozen=True)
class DrillSummaryRow:
    """A drill's runs in the period, folded: the last one in full, the slowest, the failures."""

    drill: str
    plan: str | None
    repository: str | None
    kind: str
    runs: tuple[int, ...]
    passed: int
    last: DrillRow
    slowest: DrillRow | None  # the longest recovery, measured or projected
    failures: tuple[tuple[str, int], ...]  # (verdict: reason, how many), the most frequent first
    failed_runs: tuple[int, ...]


@dataclass(frozen=True)
class SuspectRow:
    """A backup judged suspect of ransomware in the period, and what a technician said of it."""

    run: int
    plan: str
    repository: str
    snapshot_id: str
    started_at: float
    reason: str
    review: str | None  # "cleared", "confirmed", or None: not reviewed (yet)
    reviewed_at: float | None
    note: str


@dataclass(frozen=True)
class RunbookTier:
    repository: str
    command: str
    last_drill_run: int | None
    last_drill_seconds: float | None
    last_drill_projected: bool
    checks: tuple[str, ...]
    # When a snapshot of the plan is suspect of ransomware at the report's end: it, and the
    # last clean restore point the command restores instead of the newest.
    suspect_snapshot: str | None = None
    clean_snapshot: str | None = None


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
    suspects: tuple[SuspectRow, ...]
    runbook: tuple[RunbookPlan, ...]
    evidence: EvidenceFacts | None
    zone: str
    # What the PDF and HTML show of `exceptions` and `drills`, folded.
    problems: tuple[ProblemRow, ...] = ()
    drill_summaries: tuple[DrillSummaryRow, ...] = ()


def as_json(report: Report) -> dict[str, Any]:
    """The model as plain JSON data (what `report.json` holds)."""
    data: dict[str, Any] = dataclasses.asdict(report)
    data["units"] = {"times": "Unix seconds", "durations": "seconds", "sizes": "bytes"}
    return data


# -- computing it -------------------------------------------------------------------------------


def recovery_seconds(drill: DrillRow) -> float:
    """What a drill says recovery takes: measured for a full drill, projected for a sample."""
    if drill.kind == "sample" and drill.projected_seconds is not None:
        return drill.projected_seconds
    return drill.measured_seconds or 0.0
