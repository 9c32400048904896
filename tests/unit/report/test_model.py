"""The report's view model: every figure checked against a value computed by hand.

The month is built through the store (SQLite is a library here) with an injected clock, read
back by the report's loader, and computed by the pure model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bdr.period import month_bounds, period
from bdr.report.build import build
from bdr.report.load import LOOKBACK
from bdr.report.model import (
    AMBER,
    GREEN,
    RED,
    DrillSpec,
    Inputs,
    PlanSpec,
    Report,
    Setup,
    as_json,
)
from bdr.report.render import Branding, to_html
from bdr.report.tiers import days_of
from bdr.store import runs
from bdr.store.database import connect
from bdr.store.outcomes import BackupOutcome, CheckOutcome, CopyOutcome, DrillOutcome, ReviewOutcome

HOUR = 3600.0
DAY = 86400.0
UTC_ZONE = ZoneInfo("UTC")
NOV = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
DEC = datetime(2026, 12, 1, tzinfo=UTC).timestamp()

SETUP = Setup(
    appliance="acme-01",
    client="Acme Dental",
    site="Main office",
    msp="Example IT",
    plans=(PlanSpec("office", rpo=HOUR, repository="onsite", copy_to=("cloud",)),),
    drills=(
        DrillSpec("office-onsite", "office", "onsite", "full", rto=HOUR),
        DrillSpec("office-cloud", "office", "cloud", "sample", rto=HOUR),
    ),
    checks=(("cloud", 30),),
)


class History:
    """Runs written through the store as bdr writes them, at the times a test chooses."""

    def __init__(self, tmp_path):
        self.db = connect(tmp_path)
        self.db.execute("PRAGMA synchronous = OFF")  # thousands of runs; durability is not tested

    def run(self, kind, start, status=runs.OK, end=None, **fields):
        columns = {k: fields.pop(k) for k in ("plan", "repository", "subject") if k in fields}
        run_id = runs.start_run(self.db, kind, now=lambda: start, **columns)
        runs.finish_run(
            self.db, run_id, status, now=lambda: start if end is None else end, **fields
        )
        return run_id

    def backup(self, start, status=runs.OK):
        snapshot = f"{int(start):x}" if status != runs.FAILED else None
        return self.run(
            "backup", start, status, plan="office", repository="onsite", snapshot_id=snapshot
        )

    def copy(self, start, taken, status=runs.OK):
        ok = status != runs.FAILED
        return self.run(
            "copy",
            start,
            status,
            plan="office",
            repository="cloud",
            subject="onsite",
            snapshot_id=f"{int(taken):x}" if ok else None,
            outcome=CopyOutcome(copied_snapshots=1, snapshot_time=taken if ok else None),
            error=None if ok else "copy of plan office to cloud: connection refused",
        )

    def drill(self, name, start, seconds, verdict="passed", *, taken, **outcome):
        repository = "onsite" if name == "office-onsite" else "cloud"
        kind = "full" if repository == "onsite" else "sample"
        return self.run(
            "drill",
            start,
            runs.OK if verdict == "passed" else runs.FAILED,
            end=start + seconds,
            plan="office",
            repository=repository,
            subject=name,
            snapshot_id=f"{int(taken):x}",
            outcome=DrillOutcome(
                drill_kind=kind,
                rto=int(HOUR),
                snapshot_time=taken,
                verdict=verdict,
                reason="" if verdict == "passed" else f"{verdict} finding",
                recovery_seconds=seconds,
                **outcome,
            ),
        )

    def check(self, start, coverage, status=runs.OK):
        return self.run(
            "check",
            start,
            status,
            repository="cloud",
            outcome=CheckOutcome(
                subset=1,
                cycle=30,
                coverage=coverage if status == runs.OK else None,
                errors=() if status == runs.OK else ("pack 1a2b: damaged",),
                repository_size_bytes=5_000_000,
            ),
            error=None if status == runs.OK else "check of cloud found errors",
        )

    def report(self, month, *, now, zone=UTC_ZONE, setup=SETUP) -> Report:
        chosen = period(month, now=now, zone=zone)
        return build(
            Inputs(
                setup=setup,
                period=chosen,
                generated_at=now,
                zone=zone,
                runs=tuple(runs.runs_for_period(self.db, chosen.start - LOOKBACK, now)),
            )
        )


def hourly(h: History) -> History:
    """Every hour of November backed up and copied at once: the RPO is never missed."""
    for hour in range(30 * 24):
        h.backup(NOV + hour * HOUR)
        h.copy(NOV + hour * HOUR, NOV + hour * HOUR)
    return h


def at(day, hour=0, minute=0):
    """A time in November 2026, UTC."""
    return NOV + (day - 1) * DAY + hour * HOUR + minute * 60


@pytest.fixture
def november(tmp_path):
    """Hourly backups and copies; Nov 10 missed; copies failing from Nov 20 12:00 to Nov 22
    11:00; a partial backup; weekly full drills (one over the RTO); sample drills of the cloud
    (the last one a data failure); daily checks (one failed)."""
    h = History(tmp_path)
    ids = {}
    h.backup(NOV - HOUR)  # the snapshot that is newest when the month begins
    h.copy(NOV - HOUR, NOV - HOUR)
    for hour in range(30 * 24):
        start = NOV + hour * HOUR
        if at(10) <= start < at(11):
            continue  # the appliance missed a day
        status = runs.WARNING if start == at(5, 3) else runs.OK
        run_id = h.backup(start, status)
        if start == at(5, 3):
            ids["partial"], ids["after_partial"] = run_id, run_id + 2
        failing = at(20, 12) <= start < at(22, 12)
        copy_id = h.copy(start, start, runs.FAILED if failing else runs.OK)
        if start == at(20, 12):
            ids["first_failed_copy"] = copy_id
        if start == at(22, 12):
            ids["copy_fixed"] = copy_id
    for day, seconds, verdict in ((7, 1200, "passed"), (14, 4000, "rto"), (21, 1300, "passed")):
        ids[f"full{day}"] = h.drill("office-onsite", at(day, 2), seconds, verdict, taken=at(day, 1))
    ids["full28"] = h.drill("office-onsite", at(28, 2), 1250, taken=at(28, 1))
    for day in (3, 17):
        ids[f"sample{day}"] = h.drill(
            "office-cloud",
            at(day, 3),
            120,
            taken=at(day, 2),
            projected_seconds=1800.0,
            projected_error_seconds=200.0,
            files=50,
            full_files=1000,
        )
    ids["data24"] = h.drill("office-cloud", at(24, 3), 100, "data", taken=at(24, 2))
    for day in range(1, 31):
        status = runs.FAILED if day == 15 else runs.OK
        run_id = h.check(at(day, 5), coverage=min(day, 29) / 30, status=status)
        ids[f"check{day}"] = run_id
    return h, ids


def test_rpo_compliance_is_time_weighted(november):
    h, _ = november
    report = h.report("2026-11", now=DEC + 6 * HOUR)
    onsite, cloud = report.summary.plans[0].tiers
    # Nov 10 missed: from Nov 10 00:00 (the 23:00 snapshot turns one hour old) to Nov 11 00:00.
    assert onsite.rpo_compliance == pytest.approx(29 / 30, abs=1e-12)
    assert onsite.worst_age == 25 * HOUR
    assert onsite.worst_age_at == at(11)
    # The cloud also lacks Nov 20 12:00 to Nov 22 12:00: three days out of thirty.
    assert cloud.rpo_compliance == pytest.approx(27 / 30, abs=1e-12)
    assert cloud.worst_age == 49 * HOUR  # Nov 20 11:00 until Nov 22 12:00
    assert cloud.without_snapshot == 0


def test_age_saw_tooth_and_calendar(november):
    h, _ = november
    detail = h.report("2026-11", now=DEC).tiers[0]
    # Backups are instant here: the Nov 1 00:00 snapshot is new when the month begins.
    assert detail.ages[:3] == ((NOV, 0.0), (NOV + HOUR, HOUR), (NOV + HOUR, 0.0))
    assert max(age for _, age in detail.ages) == 25 * HOUR
    days = {day.date: day.status for day in detail.calendar}
    assert len(days) == 30
    assert days["2026-11-10"] == "none"
    assert days["2026-11-05"] == "partial"
    assert days["2026-11-04"] == "ok"
    cloud = {day.date: day.status for day in h.report("2026-11", now=DEC).tiers[1].calendar}
    assert (cloud["2026-11-20"], cloud["2026-11-21"], cloud["2026-11-22"]) == (
        "partial",
        "failed",
        "partial",
    )


def test_summary_figures(november):
    h, ids = november
    report = h.report("2026-11", now=DEC + 6 * HOUR)
    summary = report.summary
    assert (summary.rto_compliance.good, summary.rto_compliance.total) == (5, 7)
    assert (summary.backup_success.good, summary.backup_success.total) == (696, 696)
    plan = summary.plans[0]
    assert plan.light == AMBER
    assert plan.headline == (
        "Partly: proven on onsite; not proven: the last drill of the cloud tier, on "
        "2026-11-24 03:00, failed (data: data finding)"
    )
    onsite = plan.tiers[0]
    # Proven, and the month's failure of the tier said with it.
    assert onsite.proven and onsite.statement == (
        "restored from onsite and verified on the appliance by 3 full drills, slowest 22 min "
        "against 1 h; 1 drill did not pass, on 2026-11-14 02:00 (rto), and a later drill passed"
    )
    assert (onsite.drills.good, onsite.drills.total) == (3, 4)
    assert onsite.failed == (ids["full14"],)
    assert onsite.slowest_run == ids["full21"]
    # The newest snapshot a passed drill verified: Nov 28 01:00, at the month's end.
    assert onsite.verified_age == DEC - at(28, 1)
    assert onsite.verified_run == ids["full28"]
    (check,) = summary.checks
    assert (len(check.runs), check.passed, check.failed_runs) == (30, 29, (ids["check15"],))
    assert check.coverage == pytest.approx(29 / 30)
    texts = [finding.text for finding in summary.findings]
    assert "the read cycle of cloud is not complete (97% read)" in texts
    assert "1 check(s) of cloud failed" in texts
    assert any(text.startswith("plan office on onsite: the newest snapshot") for text in texts)


def test_drill_rows_trace_to_runs(november):
    h, ids = november
    drills = h.report("2026-11", now=DEC).drills
    assert [d.run for d in drills] == sorted(d.run for d in drills)
    by_run = {d.run: d for d in drills}
    over = by_run[ids["full14"]]
    assert (over.verdict, over.measured_seconds, over.rto, over.headroom_seconds) == (
        "rto",
        4000,
        HOUR,
        HOUR - 4000,
    )
    sample = by_run[ids["sample3"]]
    assert (sample.kind, sample.share, sample.projected_seconds, sample.headroom_seconds) == (
        "sample",
        0.05,
        1800.0,
        HOUR - 1800,
    )
    assert sample.snapshot_age == HOUR


def test_exceptions_are_problems_resolved_by_the_next_good_run(november):
    h, ids = november
    generated = DEC + 6 * HOUR
    rows = {row.run: row for row in h.report("2026-11", now=generated).exceptions}
    copy = rows[ids["first_failed_copy"]]
    assert len(copy.runs) == 48 and copy.status == runs.FAILED
    assert copy.resolved_by == ids["copy_fixed"]
    assert copy.open_seconds == 2 * DAY
    assert copy.reason == "copy of plan office to cloud: connection refused"
    partial = rows[ids["partial"]]
    assert (partial.resolved_by, partial.open_seconds) == (ids["after_partial"], HOUR)
    rto = rows[ids["full14"]]
    assert rto.resolved_by == ids["full21"]
    assert rto.open_seconds == at(21, 2) + 1300 - at(14, 2)
    data = rows[ids["data24"]]
    assert (data.resolved_by, data.open_seconds) == (None, generated - at(24, 3))
    assert rows[ids["check15"]].resolved_by == ids["check16"]
    assert len(rows) == 5


def test_json_is_the_model(november):
    h, _ = november
    report = h.report("2026-11", now=DEC)
    data = json.loads(json.dumps(as_json(report)))
    assert data["summary"]["rto_compliance"] == {
        "good": 5,
        "total": 7,
        "runs": list(report.summary.rto_compliance.runs),
    }
    assert data["cover"]["report_id"] == "acme-01-2026-11-20261201T000000"
    assert data["units"]["times"] == "Unix seconds"


def test_all_tiers_proven_is_green(tmp_path):
    h = hourly(History(tmp_path))
    h.drill("office-onsite", at(7, 2), 1380, taken=at(7, 1))
    h.drill("office-cloud", at(8, 2), 600, taken=at(8, 1), projected_seconds=2000.0)
    plan = h.report("2026-11", now=DEC).summary.plans[0]
    assert plan.light == GREEN
    assert plan.headline == (
        "Yes: restored from onsite and cloud and verified on the appliance by 2 passed drills, "
        "slowest 33 min against 1 h"
    )


def test_a_month_with_failed_drills_is_not_a_plain_yes(tmp_path):
    h = hourly(History(tmp_path))
    h.drill("office-onsite", at(7, 2), 1380, taken=at(7, 1))
    h.drill("office-cloud", at(8, 2), 60, "data", taken=at(8, 1))
    h.drill("office-cloud", at(9, 2), 60, "rto", taken=at(9, 1), projected_seconds=4000.0)
    h.drill("office-cloud", at(10, 2), 600, taken=at(10, 1), projected_seconds=2000.0)
    plan = h.report("2026-11", now=DEC).summary.plans[0]
    assert plan.light == AMBER
    assert plan.headline == (
        "Yes, after failed drills: restored from onsite and cloud and verified on the appliance "
        "by 2 passed drills, slowest 33 min against 1 h; cloud: 2 drills did not pass, the last "
        "on 2026-11-09 02:00 (rto); a later drill passed on each tier"
    )
    onsite, cloud = plan.tiers
    assert (onsite.drills.good, onsite.drills.total, cloud.drills.good, cloud.drills.total) == (
        1,
        1,
        1,
        3,
    )


def test_an_unproven_drill_leaves_its_tier_unproven(tmp_path):
    h = hourly(History(tmp_path))
    h.drill("office-onsite", at(7, 2), 1380, taken=at(7, 1))
    h.drill(
        "office-cloud", at(8, 2), 60, "unproven", taken=at(8, 1), projected_seconds=3300.0,
        projected_error_seconds=720.0,
    )  # fmt: skip
    report = h.report("2026-11", now=DEC)
    plan = report.summary.plans[0]
    assert plan.light == AMBER
    assert plan.tiers[1].statement == (
        "the RTO of the cloud tier is not proven: the last drill, on 2026-11-08 02:00, projects "
        "the full recovery at 55 min ± 12 min against 1 h"
    )
    assert [d.verdict for d in report.drills] == ["passed", "unproven"]
    assert report.summary.rto_compliance.good == 1


def test_a_month_before_the_first_run_has_no_figures(tmp_path):
    h = History(tmp_path)
    h.backup(DEC + 3 * DAY)
    report = h.report("2026-11", now=DEC + 5 * DAY)
    (plan,) = report.summary.plans
    assert (plan.light, plan.headline) == (
        "grey",
        "No runs in this period: the appliance was not in service yet",
    )
    assert [t.rpo_compliance for t in plan.tiers] == [None, None]
    assert [f.text for f in report.summary.findings] == [plan.headline]


def test_an_empty_month_is_findings_not_blanks(tmp_path):
    h = History(tmp_path)
    h.backup(NOV - 40 * DAY)  # in service before, silent since
    report = h.report("2026-11", now=DEC)
    plan = report.summary.plans[0]
    assert plan.light == RED
    assert plan.headline == (
        "Not proven: no drill of the onsite tier ran this month; "
        "no drill of the cloud tier ran this month"
    )
    texts = [f.text for f in report.summary.findings]
    assert "no run of any kind was recorded in the period" in texts
    assert "plan office: the cloud tier was never copied" in texts
    assert "no integrity check of cloud ran" in texts
    assert report.summary.rto_compliance.share is None
    assert report.tiers[0].calendar[0].status == "none"


def test_a_new_appliances_rpo_counts_from_each_tiers_first_snapshot(tmp_path):
    h = History(tmp_path)
    h.backup(at(26, 3), runs.FAILED)  # the first run: the backup failed
    h.backup(at(26, 9))
    h.copy(at(27, 9), at(26, 9))
    onsite, cloud = h.report("2026-11", now=DEC).summary.plans[0].tiers
    assert (onsite.measured_from, cloud.measured_from) == (at(26, 9), at(27, 9))
    assert onsite.rpo_compliance == pytest.approx(HOUR / (DEC - at(26, 9)), abs=1e-12)
    # The cloud's one copy carried a snapshot already a day old: never within the hour.
    assert cloud.rpo_compliance == 0
    texts = [f.text for f in h.report("2026-11", now=DEC).summary.findings]
    assert (
        "plan office on onsite: no snapshot existed for the first 6 h of the period since the "
        "first run" in texts
    )


def test_a_new_appliance_says_when_it_began(tmp_path):
    h = History(tmp_path)
    h.backup(at(26, 3))
    texts = [f.text for f in h.report("2026-11", now=DEC).summary.findings]
    assert texts[0] == (
        "the first run was recorded on 2026-11-26 03:00: the period before it (25.1 days) "
        "is not covered"
    )
    # RPO compliance counts from the first run: the days before are not the appliance's fault.
    onsite = h.report("2026-11", now=DEC).summary.plans[0].tiers[0]
    assert onsite.measured_from == at(26, 3)
    assert onsite.rpo_compliance == pytest.approx(HOUR / (DEC - at(26, 3)), abs=1e-12)
    assert onsite.without_snapshot == 0


def test_daemon_down_for_a_week(tmp_path):
    h = History(tmp_path)
    h.backup(NOV - HOUR)
    for hour in range(30 * 24):
        start = NOV + hour * HOUR
        if not at(10) <= start < at(17):
            h.backup(start)
    report = h.report("2026-11", now=DEC)
    texts = [f.text for f in report.summary.findings]
    assert (
        "no run of any kind from 2026-11-09 23:00 to 2026-11-17 00:00 (7 days): "
        "the appliance or its daemon was not running"
    ) in texts
    assert report.summary.plans[0].tiers[0].rpo_compliance == pytest.approx(23 / 30, abs=1e-12)


@pytest.mark.parametrize(
    ("month", "hours", "long_day", "length"),
    [("2026-03", 743, "2026-03-29", 23), ("2026-10", 745, "2026-10-25", 25)],
)
def test_months_with_a_dst_change(tmp_path, month, hours, long_day, length):
    berlin = ZoneInfo("Europe/Berlin")
    start, end = month_bounds(month, berlin)
    assert end - start == hours * HOUR
    assert datetime.fromtimestamp(start, berlin).strftime("%d %H:%M") == "01 00:00"
    h = History(tmp_path)
    setup = Setup("a", "c", plans=(PlanSpec("office", rpo=HOUR, repository="onsite"),))
    h.backup(start - HOUR)
    for hour in range(hours):
        if hour not in range(48, 72):  # the third day missed
            h.backup(start + hour * HOUR)
    report = h.report(month, now=end + DAY, zone=berlin, setup=setup)
    tier = report.summary.plans[0].tiers[0]
    assert tier.rpo_compliance == pytest.approx((hours - 24) / hours, abs=1e-12)
    calendar = {day.date: day for day in report.tiers[0].calendar}
    assert len(calendar[long_day].runs) == length
    assert calendar[f"{month}-03"].status == "none"
    assert [d for d, _, _ in days_of(report_period(month, berlin), berlin)][-1] == f"{month}-31"


def report_period(month, zone):
    return period(month, now=datetime(2030, 1, 1, tzinfo=UTC).timestamp(), zone=zone)


def test_current_month_is_partial(tmp_path):
    h = History(tmp_path)
    h.backup(at(3))
    report = h.report("2026-11", now=at(15, 12))
    assert report.cover.partial
    assert report.cover.period_end == at(15, 12)
    assert report.tiers[0].calendar[20].status == "later"


def test_many_disagreements_with_the_chain_are_counted_not_listed():
    """A history the chain never recorded (an upgrade whose catch-up did not run) must not
    make a finding per run: 7,677 of them made a 500 MB layout of a 45-page PDF."""
    from bdr.evidence.agreement import NOT_IN_CHAIN, Disagreement
    from bdr.report.load import MAX_CHAIN_FINDINGS, findings_of

    disagreements = [Disagreement(run, NOT_IN_CHAIN, "backup") for run in range(1, 7678)]
    found = findings_of(disagreements)
    assert len(found) == MAX_CHAIN_FINDINGS + 1
    assert found[0].runs == (1,) and "run 1" in found[0].text
    assert found[-1].text.startswith(f"and {7677 - MAX_CHAIN_FINDINGS} more runs")
    assert found[-1].runs == tuple(range(MAX_CHAIN_FINDINGS + 1, 7678))
    assert findings_of(disagreements[:3]) == [finding for finding in found[:3]], (
        "a few are each named"
    )


def test_a_suspect_backup_is_listed_with_its_review_and_the_runbook_restores_the_clean_one(
    tmp_path,
):
    h = History(tmp_path)
    for day in range(1, 11):
        h.backup(at(day))
    h.drill("office-onsite", at(5, 1), 600, taken=at(5))
    suspect = h.run(
        "backup", at(11), runs.WARNING, plan="office", repository="onsite",
        snapshot_id="5a5a5a5a", error="suspect: 3 new file(s) named as ransomware names them",
        outcome=BackupOutcome(verdict="suspect", suspect_reason="3 new file(s) named as ..."),
    )  # fmt: skip
    h.backup(at(12))  # changed nothing itself: after an open suspect, not clean either
    h.drill("office-onsite", at(12, 1), 600, taken=at(12))
    report = h.report("2026-11", now=DEC)
    (row,) = report.suspects
    assert (row.run, row.snapshot_id, row.review) == (suspect, "5a5a5a5a", None)
    assert row.reason == "3 new file(s) named as ..."
    onsite = report.runbook[0].tiers[0]
    assert onsite.suspect_snapshot == "5a5a5a5a"
    assert onsite.clean_snapshot == f"{int(at(5)):x}"[:8]
    assert f"--snapshot {onsite.clean_snapshot} " in onsite.command
    # Cleared on the 20th: the newest verified snapshot is the runbook's again.
    h.run(
        "review", at(20), plan="office", repository="onsite", subject="cleared",
        snapshot_id="5a5a5a5a", outcome=ReviewOutcome(decision="cleared", note="a test"),
    )  # fmt: skip
    report = h.report("2026-11", now=DEC)
    assert report.suspects[0].review == "cleared" and report.suspects[0].note == "a test"
    assert report.runbook[0].tiers[0].suspect_snapshot is None
    assert "--snapshot latest " in report.runbook[0].tiers[0].command


def test_the_runbook_names_a_check_as_the_technician_named_it(tmp_path):
    from bdr.report.load import setup_of
    from tests.unit.appliance import office_config

    config = office_config(
        tmp_path,
        drills={
            "onsite": {
                "plan": "office",
                "repository": "local",
                "checks": [
                    {
                        "run": ["python3", "-c", "import sys"],
                        "name": "the practice database answers",
                    },
                    {"run": ["/usr/bin/pg_isready", "--host", "db"]},
                ],
            }
        },
    )
    (drill,) = setup_of(config).drills
    assert drill.checks == ("the practice database answers", "pg_isready")


def test_the_reader_gets_a_row_per_problem_and_per_drill_and_the_json_every_run(november):
    h, _ = november
    generated = DEC + 6 * HOUR
    report = h.report("2026-11", now=generated)
    chosen = period("2026-11", now=generated, zone=UTC_ZONE)
    html = to_html(report, chosen, UTC_ZONE, Branding())
    table = html[
        html.index('<section class="exceptions">') : html.index('<section class="suspects">')
    ]
    assert table.count("<tr class=") == len(report.problems) == 5
    outage = next(row for row in table.split("<tr ") if "copy office to cloud" in row)
    assert "1 time<" in outage and "48 runs" in outage  # one exception of 48 failed copies
    drills = html[html.index('<section class="drills">') : html.index('<section class="checks">')]
    assert drills.count("<tr class=") == len(report.drill_summaries) == 2
    data = as_json(report)
    assert len(data["drills"]) == len(report.drills) == 7  # every run stays in the JSON
    assert len(data["exceptions"]) == 5
