"""The collector: every metric of DESIGN.md's table, read from the history store on each scrape.

It keeps no state and never runs restic, so values survive restarts and a scrape costs a few
indexed SQLite reads. A fresh read-only connection per scrape keeps it safe in any thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bdr import __version__
from bdr.config.model import Config
from bdr.store import runs
from bdr.store.database import FILENAME

_STATUS = {runs.OK: 2, runs.WARNING: 1}
_FINISHED = (runs.OK, runs.WARNING, runs.FAILED, runs.INTERRUPTED)


class BdrCollector(Collector):
    """Collects from the store in `config().appliance.state_dir` (the config may be reloaded)."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config

    def collect(self) -> Iterator[Metric]:
        config = self._config()
        path = Path(config.appliance.state_dir) / FILENAME
        if not path.exists():
            yield from _info(config, {})
            return
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        db.row_factory = sqlite3.Row
        try:
            yield from _collect(config, db)
        finally:
            db.close()


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _info(config: Config, daemon: dict[str, str]) -> Iterator[Metric]:
    info = _gauge(
        "bdr_appliance_info",
        "The appliance and its software.",
        ["client", "site", "appliance", "version", "restic_version"],
    )
    info.add_metric(
        [
            config.appliance.client,
            config.appliance.site,
            config.appliance.id,
            __version__,
            daemon.get("restic_version", ""),
        ],
        1,
    )
    yield info


def _collect(config: Config, db: sqlite3.Connection) -> Iterator[Metric]:
    daemon = runs.daemon_values(db)
    yield from _info(config, daemon)
    yield from _backups(config, db)
    yield from _drills(config, db)
    yield from _checks(config, db)
    totals = CounterMetricFamily(
        "bdr_runs", "Runs in the history, by kind and status.", labels=["kind", "status"]
    )
    for row in db.execute("SELECT kind, status, COUNT(*) AS n FROM runs GROUP BY kind, status"):
        totals.add_metric([row["kind"], row["status"]], row["n"])
    yield totals
    next_run = _gauge(
        "bdr_scheduler_next_run_timestamp_seconds", "When the daemon runs each job next.", ["job"]
    )
    for job in runs.scheduled_jobs(db):
        if job.next_run is not None:
            next_run.add_metric([job.job_id], job.next_run)
    yield next_run
    heartbeat = _gauge(
        "bdr_daemon_heartbeat_timestamp_seconds", "Last heartbeat of the running daemon.", []
    )
    if "heartbeat" in daemon:
        heartbeat.add_metric([], float(daemon["heartbeat"]))
    yield heartbeat


def _backups(config: Config, db: sqlite3.Connection) -> Iterator[Metric]:
    tier = ["plan", "repository"]
    success = _gauge(
        "bdr_backup_last_success_timestamp_seconds",
        "End of the last successful backup (or copy, for other tiers).",
        tier,
    )
    status = _gauge(
        "bdr_backup_last_status", "Last backup or copy: 0 failed, 1 partial, 2 ok.", tier
    )
    duration = _gauge(
        "bdr_backup_last_duration_seconds", "Duration of the last backup or copy.", tier
    )
    added = _gauge("bdr_backup_last_added_bytes", "Bytes the last backup added.", tier)
    processed = _gauge("bdr_backup_last_processed_bytes", "Bytes the last backup read.", tier)
    files = _gauge("bdr_backup_last_processed_files", "Files the last backup read.", tier)
    latest = _gauge("bdr_snapshot_latest_timestamp_seconds", "Time of the newest snapshot.", tier)
    verified = _gauge(
        "bdr_verified_snapshot_timestamp_seconds",
        "Time of the newest snapshot that passed a drill.",
        tier,
    )
    rpo = _gauge("bdr_rpo_target_seconds", "The plan's recovery-point objective.", ["plan"])
    for name, plan in config.plans.items():
        rpo.add_metric([name], plan.rpo)
        for repository in (plan.repository, *plan.copy_to):
            labels = [name, repository]
            kind = "backup" if repository == plan.repository else "copy"
            last = runs.last_run(db, kind, plan=name, repository=repository, statuses=_FINISHED)
            if last is not None:
                status.add_metric(labels, _STATUS.get(last.status, 0))
                if last.duration is not None:
                    duration.add_metric(labels, last.duration)
                for family, value in (
                    (added, last.bytes_added),
                    (processed, last.bytes_processed),
                    (files, last.files_processed),
                ):
                    if value is not None:
                        family.add_metric(labels, value)
            good = runs.last_run(
                db, kind, plan=name, repository=repository, statuses=(runs.OK, runs.WARNING)
            )
            if good is not None and good.ended_at is not None:
                success.add_metric(labels, good.ended_at)
            snapshot = runs.latest_snapshot(db, name, repository)
            if snapshot is not None:
                latest.add_metric(labels, snapshot.snapshot_time)
            proven = runs.verified_snapshot(db, name, repository)
            if proven is not None:
                verified.add_metric(labels, proven.snapshot_time)
    yield from (success, status, duration, added, processed, files, latest, verified, rpo)


def _drills(config: Config, db: sqlite3.Connection) -> Iterator[Metric]:
    labels = ["drill", "plan", "repository"]
    families: dict[str, GaugeMetricFamily] = {
        "timestamp": _gauge("bdr_drill_last_timestamp_seconds", "End of the last drill.", labels),
        "success": _gauge("bdr_drill_last_success", "Last drill: 1 passed, 0 otherwise.", labels),
        "recovery": _gauge(
            "bdr_drill_last_recovery_seconds", "Measured recovery time of the last drill.", labels
        ),
        "projected": _gauge(
            "bdr_drill_projected_full_recovery_seconds",
            "Full recovery time, measured (full drill) or projected (sample).",
            labels,
        ),
        "rto": _gauge(
            "bdr_drill_rto_target_seconds", "The drill's recovery-time objective.", labels
        ),
        "verified": _gauge(
            "bdr_drill_last_verified_files", "Files the last drill verified.", labels
        ),
        "mismatched": _gauge(
            "bdr_drill_last_mismatched_files", "Files the last drill found wrong.", labels
        ),
    }
    for name, drill in config.drills.items():
        values = [name, drill.plan, drill.repository]
        families["rto"].add_metric(values, drill.rto)
        last = next(iter(runs.finished_runs(db, "drill", subject=name, limit=1)), None)
        if last is None or last.ended_at is None:
            continue
        details: dict[str, Any] = last.details
        families["timestamp"].add_metric(values, last.ended_at)
        families["success"].add_metric(values, 1 if details.get("verdict") == "passed" else 0)
        for key, family in (
            ("recovery_seconds", "recovery"),
            ("projected_seconds", "projected"),
            ("verified_files", "verified"),
            ("mismatched_files", "mismatched"),
        ):
            if details.get(key) is not None:
                families[family].add_metric(values, float(details[key]))
    yield from families.values()


def _checks(config: Config, db: sqlite3.Connection) -> Iterator[Metric]:
    success = _gauge(
        "bdr_check_last_success_timestamp_seconds",
        "End of the last check without errors.",
        ["repository"],
    )
    status = _gauge("bdr_check_last_status", "Last check: 1 ok, 0 failed.", ["repository"])
    coverage = _gauge(
        "bdr_check_read_coverage_ratio",
        "Fraction of the read cycle done without error.",
        ["repository"],
    )
    size = _gauge(
        "bdr_repository_size_bytes",
        "Repository size, measured after the last check.",
        ["repository"],
    )
    for repository in config.repositories:
        last = runs.last_run(db, "check", repository=repository, statuses=_FINISHED)
        if last is not None:
            status.add_metric([repository], 1 if last.status == runs.OK else 0)
        good = runs.last_run(db, "check", repository=repository, statuses=(runs.OK,))
        if good is not None and good.ended_at is not None:
            success.add_metric([repository], good.ended_at)
            if "coverage" in good.details:
                coverage.add_metric([repository], float(good.details["coverage"]))
            if "repository_size_bytes" in good.details:
                size.add_metric([repository], float(good.details["repository_size_bytes"]))
    yield from (success, status, coverage, size)
