"""The history held against the evidence chain: records rebuilt into runs, disagreements found
and named, and a report's runs as the chain records them. The chain is a file (no process)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bdr.evidence.agreement import (
    DIFFERS,
    GRACE_SECONDS,
    NOT_IN_CHAIN,
    NOT_IN_HISTORY,
    ChainIndex,
    as_recorded,
    check,
)
from bdr.evidence.records import encode, figures, run_from_record
from bdr.store.outcomes import BackupOutcome, CheckOutcome, DrillOutcome, Phases
from bdr.store.runs import Run

T0 = 1_790_000_000.0
NOW = T0 + 86400


def run(run_id: int, kind: str, start: float, **fields) -> Run:
    base = dict(
        id=run_id,
        kind=kind,
        plan="office",
        repository="onsite",
        subject=None,
        status="ok",
        started_at=start,
        ended_at=start + 60.5,
        snapshot_id=None,
        exit_code=0,
        error=None,
        bytes_added=None,
        bytes_processed=None,
        files_processed=None,
        outcome=None,
    )
    base.update(fields)
    return Run(**base)


BACKUP = run(
    1,
    "backup",
    T0,
    snapshot_id="abcd1234" * 8,
    bytes_added=10,
    bytes_processed=1000,
    files_processed=7,
    outcome=BackupOutcome(canary_sha256="f" * 64, files_new=3),
)
DRILL = run(
    2,
    "drill",
    T0 + 3600,
    subject="onsite",
    snapshot_id="abcd1234",
    outcome=DrillOutcome(
        drill_kind="sample",
        rto=3600,
        snapshot_time=T0 + 0.25,
        bytes=500,
        files=5,
        full_bytes=1000,
        full_files=7,
        recovery_seconds=12.5,
        projected_seconds=25.0,
        projected_error_seconds=3.75,
        projection_method="calibrated",
        verdict="passed",
        reason="restored from onsite and verified on the appliance",
        canary="ok",
        verified_files=5,
        mismatched_files=0,
        phases=Phases(restore=10.0, verify=2.0, checks=0.5),
    ),
)
CHECK = run(
    3,
    "check",
    T0 + 7200,
    plan=None,
    outcome=CheckOutcome(subset=1, cycle=30, coverage=0.5, errors=()),
)
FAILED = run(4, "copy", T0 + 8000, status="failed", exit_code=1, error="the cloud: refused")
HISTORY = [BACKUP, DRILL, CHECK, FAILED]


def chain_file(tmp_path: Path, history: list[Run]) -> Path:
    path = tmp_path / "chain.jsonl"
    lines = [
        encode({**figures(r, "acme-01"), "seq": seq, "chain": "c"})
        for seq, r in enumerate(history, 1)
    ]
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("original", HISTORY, ids=lambda r: r.kind)
def test_a_record_rebuilds_the_figures_of_its_run(original: Run):
    record = figures(original, "acme-01")
    assert figures(run_from_record(record), "acme-01") == record
    # With the history's row as the base, what the chain does not hold stays the history's.
    rebuilt = run_from_record(record, original)
    assert rebuilt.outcome == original.outcome
    assert rebuilt.exit_code == original.exit_code


def test_an_agreeing_history_has_no_disagreement(tmp_path):
    index = ChainIndex(chain_file(tmp_path, HISTORY))
    assert index.records == 4
    assert check(HISTORY, index, "acme-01", now=NOW, since=T0) == []


def test_an_edited_row_is_named_by_its_figures_status_first(tmp_path):
    index = ChainIndex(chain_file(tmp_path, HISTORY))
    edited = replace(DRILL, outcome=replace(DRILL.outcome, verdict="rto", recovery_seconds=1.0))
    edited = replace(edited, status="failed")
    (found,) = check([BACKUP, edited, CHECK, FAILED], index, "acme-01", now=NOW, since=T0)
    assert (found.run, found.what) == (2, DIFFERS)
    assert [d.field for d in found.differences] == ["status", "verdict", "recovery_seconds"]
    assert found.text == (
        "history disagrees with the evidence chain for run 2 (status: history failed, chain "
        "ok; verdict: history rto, chain passed; recovery_seconds: history 1.0, chain 12.5)"
    )
    # The report shows the chain's figures, and keeps what the chain does not hold.
    (shown,) = [r for r in as_recorded([edited], [found]) if r.id == 2]
    assert (shown.status, shown.outcome.verdict, shown.outcome.recovery_seconds) == (
        "ok",
        "passed",
        12.5,
    )
    assert shown.outcome.phases == DRILL.outcome.phases


def test_runs_deleted_from_or_added_to_the_history_are_named(tmp_path):
    index = ChainIndex(chain_file(tmp_path, HISTORY))
    made_up = run(5, "backup", T0 + 9000, snapshot_id="cafe0000")
    recent = run(6, "backup", NOW - 60, ended_at=NOW - 30)  # may not be recorded yet
    found = check([BACKUP, DRILL, FAILED, made_up, recent], index, "acme-01", now=NOW, since=T0)
    assert [(d.run, d.what) for d in found] == [(5, NOT_IN_CHAIN), (3, NOT_IN_HISTORY)]
    assert found[0].text.endswith("the history holds a backup run the chain never recorded")
    assert found[1].text.endswith("the chain records a check run (ok) the history lacks")
    shown = as_recorded([BACKUP, DRILL, FAILED, made_up, recent], found)
    assert [r.id for r in shown] == [1, 2, 3, 4, 6]
    assert shown[2].outcome.coverage == 0.5
    assert recent.ended_at > NOW - GRACE_SECONDS


def test_an_older_historys_records_and_the_window_are_left_alone(tmp_path):
    index = ChainIndex(chain_file(tmp_path, HISTORY))
    # A history begun anew after the chain's runs: its run 1 is another run.
    fresh = run(1, "backup", NOW - 3600, snapshot_id="beef0000")
    found = check([fresh], index, "acme-01", now=NOW, since=fresh.started_at)
    assert [(d.run, d.what) for d in found] == [(1, NOT_IN_CHAIN)]
    # A report's window: only records of runs that started in it are looked for.
    found = check([BACKUP], index, "acme-01", now=NOW, since=T0, window=(T0, T0 + 7000))
    assert [(d.run, d.what) for d in found] == [(2, NOT_IN_HISTORY)]
