"""The collector on a private registry, over a history filled with runs (no processes)."""

import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from bdr.config.model import Config
from bdr.config.schema import validate
from bdr.metrics.collector import BdrCollector
from bdr.store import daemon_state, runs
from bdr.store.database import connect
from bdr.store.outcomes import CheckOutcome, DrillOutcome


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return validate(
        {
            "appliance": {
                "client": "Acme",
                "site": "HQ",
                "id": "acme-01",
                "state_dir": str(tmp_path),
            },
            "repositories": {
                "local": {"url": "/r", "password_command": "x"},
                "cloud": {"url": "/c", "password_command": "x"},
            },
            "plans": {
                "files": {
                    "sources": ["/srv"],
                    "repository": "local",
                    "copy_to": ["cloud"],
                    "rpo": "4h",
                    "tier_rpo": {"cloud": "26h"},
                }
            },
            "drills": {"onsite": {"plan": "files", "repository": "local", "rto": "1h"}},
            "checks": {"local": {"repository": "local"}},
        }
    )


def registry(config: Config) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BdrCollector(lambda: config))
    return registry


def finished(db, kind, status, start, end, *, outcome=None, **fields):
    """Write a run as an action would: through the typed outcome the collector reads back."""
    where = {k: fields.pop(k) for k in ("plan", "repository", "subject") if k in fields}
    run_id = runs.start_run(db, kind, now=lambda: start, **where)
    runs.finish_run(
        db,
        run_id,
        status,
        outcome=outcome,
        now=lambda: end,
        snapshot_time=outcome.snapshot_time if isinstance(outcome, DrillOutcome) else None,
        **fields,
    )
    return run_id


def test_empty_appliance_exports_identity_and_targets(config):
    reg = registry(config)
    assert (
        reg.get_sample_value(
            "bdr_appliance_info",
            {
                "client": "Acme",
                "site": "HQ",
                "appliance": "acme-01",
                "version": "0.1.0",
                "restic_version": "",
                "key_fingerprint": "",
            },
        )
        == 1
    )
    connect(config.appliance.state_dir)
    rpo = {"plan": "files", "repository": "local"}
    assert reg.get_sample_value("bdr_rpo_target_seconds", rpo) == 14400
    rpo["repository"] = "cloud"  # the tier's own
    assert reg.get_sample_value("bdr_rpo_target_seconds", rpo) == 26 * 3600
    tier = {"drill": "onsite", "plan": "files", "repository": "local"}
    assert reg.get_sample_value("bdr_drill_rto_target_seconds", tier) == 3600
    assert (
        reg.get_sample_value("bdr_backup_last_status", {"plan": "files", "repository": "local"})
        is None
    )


def test_backups_copies_drills_checks_and_counts(config):
    db = connect(config.appliance.state_dir)
    finished(
        db,
        "backup",
        runs.OK,
        100,
        160,
        plan="files",
        repository="local",
        bytes_added=10,
        bytes_processed=1000,
        files_processed=7,
    )
    finished(
        db,
        "backup",
        runs.WARNING,
        200,
        230,
        plan="files",
        repository="local",
        bytes_added=5,
        bytes_processed=1100,
        files_processed=8,
    )
    finished(db, "copy", runs.FAILED, 240, 250, plan="files", repository="cloud")
    runs.record_latest_snapshot(db, "files", "local", "abcd", 200.0)
    finished(
        db,
        "drill",
        runs.OK,
        300,
        400,
        plan="files",
        repository="local",
        subject="onsite",
        snapshot_id="abcd",
        outcome=DrillOutcome(
            verdict="passed",
            recovery_seconds=95.5,
            projected_seconds=95.5,
            verified_files=8,
            mismatched_files=0,
            snapshot_time=200.0,
        ),
    )
    finished(
        db,
        "check",
        runs.OK,
        500,
        520,
        repository="local",
        outcome=CheckOutcome(subset=1, cycle=30, coverage=0.5, repository_size_bytes=4096),
    )
    finished(db, "check", runs.FAILED, 600, 610, repository="local")
    daemon_state.set_daemon_value(db, "heartbeat", "700")
    daemon_state.save_schedule(
        db,
        [daemon_state.ScheduledJob("backup:files", "backup", "files", "0 * * * *", 3600.0, None)],
    )
    reg = registry(config)
    local = {"plan": "files", "repository": "local"}
    cloud = {"plan": "files", "repository": "cloud"}
    value = reg.get_sample_value
    assert value("bdr_backup_last_status", local) == 1  # partial
    assert value("bdr_backup_last_status", cloud) == 0  # the copy failed
    assert value("bdr_backup_last_success_timestamp_seconds", local) == 230
    assert value("bdr_backup_last_success_timestamp_seconds", cloud) is None
    assert value("bdr_backup_last_duration_seconds", local) == 30
    assert value("bdr_backup_last_processed_files", local) == 8
    assert value("bdr_backup_last_added_bytes", local) == 5
    assert value("bdr_snapshot_latest_timestamp_seconds", local) == 200
    assert value("bdr_verified_snapshot_timestamp_seconds", local) == 200
    drill = {"drill": "onsite", "plan": "files", "repository": "local"}
    assert value("bdr_drill_last_success", drill) == 1
    assert value("bdr_drill_last_timestamp_seconds", drill) == 400
    assert value("bdr_drill_last_recovery_seconds", drill) == 95.5
    assert value("bdr_drill_projected_full_recovery_seconds", drill) == 95.5
    assert value("bdr_drill_last_verified_files", drill) == 8
    assert value("bdr_drill_last_mismatched_files", drill) == 0
    assert value("bdr_check_last_status", {"repository": "local"}) == 0
    assert value("bdr_check_last_success_timestamp_seconds", {"repository": "local"}) == 520
    assert value("bdr_check_read_coverage_ratio", {"repository": "local"}) == 0.5
    assert value("bdr_repository_size_bytes", {"repository": "local"}) == 4096
    assert value("bdr_runs_total", {"kind": "backup", "status": "ok"}) == 1
    assert value("bdr_runs_total", {"kind": "check", "status": "failed"}) == 1
    assert value("bdr_scheduler_next_run_timestamp_seconds", {"job": "backup:files"}) == 3600
    assert value("bdr_daemon_heartbeat_timestamp_seconds") == 700


def test_failed_drill_reports_zero(config):
    db = connect(config.appliance.state_dir)
    finished(
        db,
        "drill",
        runs.FAILED,
        1,
        2,
        plan="files",
        repository="local",
        subject="onsite",
        outcome=DrillOutcome(verdict="rto", recovery_seconds=5000),
    )
    drill = {"drill": "onsite", "plan": "files", "repository": "local"}
    assert registry(config).get_sample_value("bdr_drill_last_success", drill) == 0


def test_collector_keeps_no_state(config):
    db = connect(config.appliance.state_dir)
    reg = registry(config)
    assert reg.get_sample_value("bdr_runs_total", {"kind": "backup", "status": "ok"}) is None
    finished(db, "backup", runs.OK, 1, 2, plan="files", repository="local")
    assert reg.get_sample_value("bdr_runs_total", {"kind": "backup", "status": "ok"}) == 1


def test_evidence_records_checkpoint_and_verification(config):
    from bdr.evidence import chain
    from bdr.evidence.keys import ensure_key

    db = connect(config.appliance.state_dir)
    key = ensure_key(config.appliance.state_dir, config.appliance.id)
    for run in (1, 2):
        chain.append(config.appliance.state_dir, {"run": run, "kind": "backup"}, key)
    daemon_state.set_daemon_value(db, "evidence_chain_ok", "1")
    daemon_state.set_daemon_value(db, "evidence_fingerprint", key.fingerprint)
    reg = registry(config)
    assert reg.get_sample_value("bdr_evidence_records_total") == 2
    assert reg.get_sample_value("bdr_evidence_chain_ok") == 1
    signed = reg.get_sample_value("bdr_evidence_last_checkpoint_timestamp_seconds")
    assert signed is not None and abs(signed - time.time()) < 60
    info = [s for s in next(iter(reg.collect())).samples if s.name == "bdr_appliance_info"]
    assert info[0].labels["key_fingerprint"] == key.fingerprint


def test_report_last_success_is_the_last_good_report_run(config):
    db = connect(config.appliance.state_dir)
    reg = registry(config)
    assert reg.get_sample_value("bdr_report_last_success_timestamp_seconds") is None
    finished(db, "report", runs.OK, 100, 130, subject="2026-10")
    finished(db, "report", runs.FAILED, 200, 210, subject="2026-11")
    assert reg.get_sample_value("bdr_report_last_success_timestamp_seconds") == 130
