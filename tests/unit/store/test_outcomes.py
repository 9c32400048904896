"""Typed run outcomes: each one's round trip through SQLite, and rows written before the types."""

import dataclasses
import shutil
from pathlib import Path

import pytest

from bdr.store import backups, checks, drills, runs, tiers
from bdr.store.database import connect
from bdr.store.outcomes import (
    AppCheckResult,
    AuditOutcome,
    BackupOutcome,
    CheckOutcome,
    CopyOutcome,
    DrillOutcome,
    Phases,
    ReportOutcome,
    RestoreOutcome,
    RetentionOutcome,
    ReviewOutcome,
    SourcePath,
    from_details,
    to_details,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "history-schema5.sqlite"

# Every field set to something other than its default: a field the writer sets and the
# reader drops (or reads under another key) fails the round trip.
FULL = [
    BackupOutcome(
        missing_sources=("/gone",),
        canary_sha256="ab" * 32,
        canary_path="/var/lib/bdr/canary/p/bdr-canary.txt",
        sources=(SourcePath("/srv/link", "/srv/real"),),
        automatic_excludes=("/srv/bdr/repo",),
        restic_exit_code=3,
        files_new=4,
        files_changed=5,
        restic_duration=1.5,
        unreadable=("/srv/x: permission denied",),
        unreadable_count=1,
        verdict="suspect",
        suspect_reason="3 new file(s) named as ransomware names its files or notes",
    ),
    CopyOutcome(copied_snapshots=2, restic_exit_code=0, snapshot_time=1700000000.5),
    RetentionOutcome(forgotten=3, pruned=True, kept_verified=("abcd1234",), frozen_by="ab12cd34"),
    ReviewOutcome(decision="cleared", note="the accounts team archived 2019"),
    AuditOutcome(upload="ab" * 32, records=40, uploads=7, findings=("rolled back: ...",)),
    CheckOutcome(
        subset=2,
        cycle=7,
        coverage=0.25,
        errors=("pack x: damaged",),
        repository_size_bytes=9,
        restic_exit_code=1,
    ),
    RestoreOutcome(
        target="/tmp/t",
        includes=("/srv/a",),
        verified=False,
        seconds=2.5,
        skipped=2,
        renamed=("/tmp/t/a.restored-20261206-1430",),
    ),
    ReportOutcome(
        month="2026-10", partial=True, report_id="a-2026-10-x", files=("/r/a.pdf", "/r/a.html")
    ),
    DrillOutcome(
        drill_kind="sample",
        rto=3600,
        scratch="/srv/bdr/scratch/d/7",
        snapshot_time=1000.5,
        canary_path="/var/lib/bdr/canary/p/bdr-canary.txt",
        full_bytes=100,
        full_files=10,
        bytes=20,
        files=2,
        missing=("/a",),
        extra=("/b",),
        size_different=("/c",),
        canary="mismatch",
        compared_files=1,
        changed_files=2,
        gone_files=3,
        content_mismatches=("/d",),
        verified_files=1,
        mismatched_files=4,
        restore_errors=("id x not found in repository",),
        phases=Phases(restore=1.0, verify=2.0, checks=3.0),
        recovery_seconds=6.0,
        projected_seconds=60.0,
        projected_error_seconds=6.0,
        projection_method="model",
        checks=(AppCheckResult("checks.0 (true)", False, "exited with 1", 0.5),),
        kept_scratch="/srv/bdr/scratch/d/7",
        verdict="data",
        reason="the restored data is wrong: ...",
    ),
]


@pytest.mark.parametrize("outcome", FULL, ids=lambda o: type(o).__name__)
def test_every_field_survives_sqlite(tmp_path, outcome):
    defaults = type(outcome)()
    unset = [
        f.name
        for f in dataclasses.fields(outcome)
        if getattr(outcome, f.name) == getattr(defaults, f.name)
    ]
    assert unset == [], "the test sets every field"
    db = connect(tmp_path)
    run_id = runs.start_run(db, outcome.kind)
    runs.finish_run(db, run_id, runs.OK, outcome=outcome)
    assert runs.get_run(connect(tmp_path), run_id).outcome == outcome


def test_kinds_without_an_outcome_and_empty_details():
    assert from_details("demo", {"x": 1}) is None
    assert from_details("drill", {}) is None
    assert to_details(None) == {}


@pytest.fixture
def old_history(tmp_path):
    """A history written by bdr before typed outcomes (schema 5): demo, check, two failed drills."""
    shutil.copy(FIXTURE, tmp_path / "bdr.sqlite")
    return connect(tmp_path)


def test_rows_written_before_the_types_read_typed(old_history):
    past = drills.history(old_history, limit=10)
    assert [d.outcome.verdict for d in past] == ["error", "data", "passed", "passed"]
    error, data, sample, full = past
    assert error.outcome.reason == "plan office has no snapshot in onsite to drill"
    assert data.outcome.content_mismatches and data.outcome.reason.startswith(
        "the restored data is wrong"
    )
    assert sample.outcome.drill_kind == "sample" and sample.outcome.projection_method
    assert full.outcome.phases is not None and full.outcome.canary == "ok"
    assert full.outcome.verified_files == full.outcome.files
    made = backups.for_snapshot(old_history, "office", [full.run.snapshot_id or ""])
    assert made is not None and made.outcome.canary_sha256 and made.outcome.canary_path
    check = checks.last(old_history, "cloud", ok_only=True)
    assert check is not None and check.outcome.subset == 1 and check.outcome.coverage
    facts = tiers.tier_facts(old_history, "office", "onsite", "backup")
    assert facts.latest is not None and facts.verified is not None


def test_runs_of_a_period_oldest_first(old_history):
    everything = (0.0, 1e12)
    assert [d.outcome.verdict for d in drills.for_period(old_history, *everything)] == [
        "passed",
        "passed",
        "data",
        "error",
    ]
    assert [
        b.outcome.canary_sha256 is not None for b in backups.for_period(old_history, *everything)
    ] == [True]
    assert len(checks.for_period(old_history, *everything)) == 1
    assert drills.for_period(old_history, 0.0, 1.0) == []
