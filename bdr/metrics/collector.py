"""The collector: every metric of DESIGN.md's table, read from the history store on each scrape.

It keeps no state and never runs restic, so values survive restarts and a scrape costs a few
indexed reads. It asks the store typed questions through a read-only reader of its own per
scrape, which keeps it safe in any thread; the per-tier facts are the ones `bdr status` shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bdr import __version__
from bdr.config.model import Config
from bdr.config.ownership import watched_places
from bdr.evidence import chain, upload
from bdr.fsutil import usage_near
from bdr.store import checks, daemon_state, drills, outbox, problems, runs, tiers
from bdr.store.database import History, reader
from bdr.store.errors import StoreError
from bdr.store.outcomes import PruneOutcome

_STATUS = {runs.OK: 2, runs.WARNING: 1}


log = logging.getLogger(__name__)


class BdrCollector(Collector):
    """Collects from the store in `config().appliance.state_dir` (the config may be reloaded)."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config

    def collect(self) -> Iterator[Metric]:
        config = self._config()
        with reader(config.appliance.state_dir) as db:
            if db is None:
                yield from _info(config, {})
                return
            try:
                families = list(_collect(config, db))
            except StoreError as error:
                # A damaged history is salvaged by the next bdr process that opens it; until
                # then the scrape says who the appliance is, and the log says why no more.
                log.error("metrics: the history cannot be read: %s", error)
                yield from _info(config, {})
                return
            yield from families


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _info(config: Config, daemon: dict[str, str]) -> Iterator[Metric]:
    info = _gauge(
        "bdr_appliance_info",
        "The appliance, its software and its evidence signing key.",
        ["client", "site", "appliance", "version", "restic_version", "key_fingerprint"],
    )
    info.add_metric(
        [
            config.appliance.client,
            config.appliance.site,
            config.appliance.id,
            __version__,
            daemon.get("restic_version", ""),
            daemon.get("evidence_fingerprint", ""),
        ],
        1,
    )
    yield info


def _collect(config: Config, db: History) -> Iterator[Metric]:
    daemon = daemon_state.daemon_values(db)
    yield from _info(config, daemon)
    yield from _backups(config, db)
    yield from _drills(config, db)
    yield from _checks(config, db)
    yield from _prunes(config, db)
    yield from _steward(config, db)
    yield from _evidence(config, db, daemon)
    yield _filesystems(config)
    yield _report(db)
    yield from _notify(db)
    totals = CounterMetricFamily(
        "bdr_runs", "Runs in the history, by kind and status.", labels=["kind", "status"]
    )
    for (kind, status), count in runs.counts(db).items():
        totals.add_metric([kind, status], count)
    yield totals
    next_run = _gauge(
        "bdr_scheduler_next_run_timestamp_seconds", "When the daemon runs each job next.", ["job"]
    )
    for job in daemon_state.scheduled_jobs(db):
        if job.next_run is not None:
            next_run.add_metric([job.job_id], job.next_run)
    yield next_run
    heartbeat = _gauge(
        "bdr_daemon_heartbeat_timestamp_seconds", "Last heartbeat of the running daemon.", []
    )
    if "heartbeat" in daemon:
        heartbeat.add_metric([], float(daemon["heartbeat"]))
    yield heartbeat


def _backups(config: Config, db: History) -> Iterator[Metric]:
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
    clean = _gauge(
        "bdr_last_clean_snapshot_timestamp_seconds",
        "Time of the last clean restore point: passed a drill, taken before any snapshot "
        "suspect of ransomware that is not cleared.",
        tier,
    )
    rpo = _gauge(
        "bdr_rpo_target_seconds",
        "The recovery-point objective of the plan in the repository (its tier_rpo, else its rpo).",
        ["plan", "repository"],
    )
    suspect = _gauge(
        "bdr_backup_suspect",
        "1 while a snapshot of the plan is suspect of ransomware and not cleared.",
        ["plan"],
    )
    for name, plan in config.plans.items():
        for repository in (plan.repository, *plan.copy_to):
            rpo.add_metric([name, repository], plan.rpo_of(repository))
    for facts in tiers.all_tiers(db, config):
        labels = [facts.plan, facts.repository]
        last = facts.last_run
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
        good = facts.last_success
        if good is not None and good.ended_at is not None:
            success.add_metric(labels, good.ended_at)
        if facts.latest is not None:
            latest.add_metric(labels, facts.latest.snapshot_time)
        if facts.verified is not None:
            verified.add_metric(labels, facts.verified.snapshot_time)
        if facts.last_clean is not None:
            clean.add_metric(labels, facts.last_clean.snapshot_time)
        if facts.kind == "backup":  # once a plan: its own repository comes first
            suspect.add_metric([facts.plan], 1 if facts.suspect is not None else 0)
    yield from (success, status, duration, added, processed, files, latest, verified, clean)
    yield from (rpo, suspect)


def _drills(config: Config, db: History) -> Iterator[Metric]:
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
        last = drills.last(db, name)
        if last is None or last.run.ended_at is None:
            continue
        outcome = last.outcome
        families["timestamp"].add_metric(values, last.run.ended_at)
        families["success"].add_metric(values, 1 if outcome.passed else 0)
        for value, family in (
            (outcome.recovery_seconds, "recovery"),
            (outcome.projected_seconds, "projected"),
            (outcome.verified_files, "verified"),
            (outcome.mismatched_files, "mismatched"),
        ):
            if value is not None:
                families[family].add_metric(values, float(value))
    yield from families.values()


def _checks(config: Config, db: History) -> Iterator[Metric]:
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
        last = checks.last(db, repository)
        if last is not None:
            status.add_metric([repository], 1 if last.run.status == runs.OK else 0)
        good = checks.last(db, repository, ok_only=True)
        if good is not None and good.run.ended_at is not None:
            success.add_metric([repository], good.run.ended_at)
            if good.outcome.coverage is not None:
                coverage.add_metric([repository], good.outcome.coverage)
            if good.outcome.repository_size_bytes is not None:
                size.add_metric([repository], float(good.outcome.repository_size_bytes))
    yield from (success, status, coverage, size)


def _prunes(config: Config, db: History) -> Iterator[Metric]:
    success = _gauge(
        "bdr_prune_last_success_timestamp_seconds",
        "End of the last prune that succeeded.",
        ["repository"],
    )
    freed = _gauge(
        "bdr_prune_last_freed_bytes", "Bytes the last successful prune freed.", ["repository"]
    )
    for repository in config.repositories:
        last = runs.last_run(db, "prune", repository=repository, statuses=(runs.OK,))
        if last is None or last.ended_at is None:
            continue
        success.add_metric([repository], last.ended_at)
        if isinstance(last.outcome, PruneOutcome) and last.outcome.freed_bytes is not None:
            freed.add_metric([repository], float(last.outcome.freed_bytes))
    yield from (success, freed)


# The steward's jobs on an appliance's cloud, and the run kind each is recorded as.
_STEWARD_JOBS = (("check", "check"), ("retention", "steward"), ("prune", "prune"))


def _steward(config: Config, db: History) -> Iterator[Metric]:
    success = _gauge(
        "bdr_steward_last_success_timestamp_seconds",
        "Steward host: end of the last check, retention or prune of an appliance's cloud, or "
        "audit of its evidence, that succeeded.",
        ["appliance", "repository", "job"],
    )
    for name, steward in config.steward.items():
        for job, kind in _STEWARD_JOBS:
            last = runs.last_run(db, kind, repository=name, statuses=(runs.OK, runs.WARNING))
            if last is not None and last.ended_at is not None:
                success.add_metric([steward.appliance or name, name, job], last.ended_at)
    for appliance, audit in config.audit.items():
        last = runs.last_run(db, "audit", subject=appliance, statuses=(runs.OK,))
        if last is not None and last.ended_at is not None:
            success.add_metric([appliance, audit.repository, "audit"], last.ended_at)
    yield success
    audited = _gauge(
        "bdr_steward_audit_ok",
        "Steward host: 1 when the last audit of the appliance's uploaded evidence passed.",
        ["appliance"],
    )
    for appliance in config.audit:
        last = runs.last_run(db, "audit", subject=appliance)
        if last is not None and last.status != runs.RUNNING:
            audited.add_metric([appliance], 1.0 if last.status == runs.OK else 0.0)
    yield audited


def _notify(db: History) -> Iterator[Metric]:
    open_problems = _gauge("bdr_problems_open", "Open problems, by severity.", ["severity"])
    for severity, count in problems.open_counts(db).items():
        open_problems.add_metric([severity], count)
    yield open_problems
    sent = CounterMetricFamily(
        "bdr_notifications_sent",
        "Delivery attempts of notifications: sent, failed (retried later), given up.",
        labels=["result"],
    )
    for result, count in outbox.sent_counts(db).items():
        sent.add_metric([result], count)
    yield sent
    pending = _gauge("bdr_notify_outbox_pending", "Notifications not delivered yet.", [])
    pending.add_metric([], outbox.pending_count(db))
    yield pending


def _report(db: History) -> Metric:
    success = _gauge(
        "bdr_report_last_success_timestamp_seconds",
        "End of the last report run that succeeded.",
        [],
    )
    last = runs.last_run(db, "report", statuses=(runs.OK, runs.WARNING))
    if last is not None and last.ended_at is not None:
        success.add_metric([], last.ended_at)
    return success


def _evidence(config: Config, db: History, daemon: dict[str, str]) -> Iterator[Metric]:
    head = chain.head(config.appliance.state_dir)
    records = CounterMetricFamily("bdr_evidence_records", "Records in the evidence chain.")
    records.add_metric([], head.records)
    yield records
    checkpoint = _gauge(
        "bdr_evidence_last_checkpoint_timestamp_seconds", "When the chain's head was signed.", []
    )
    if head.signed_at is not None:
        checkpoint.add_metric([], head.signed_at)
    yield checkpoint
    ok = _gauge(
        "bdr_evidence_chain_ok", "1 when the daemon's last verification of the chain passed.", []
    )
    if "evidence_chain_ok" in daemon:
        ok.add_metric([], float(daemon["evidence_chain_ok"]))
    yield ok
    waiting = _gauge(
        "bdr_evidence_upload_pending",
        "Evidence records and report files waiting for the cloud's evidence store.",
        [],
    )
    if config.evidence.upload_to is not None:
        waiting.add_metric([], upload.waiting(config, db))
    yield waiting


def _filesystems(config: Config) -> Metric:
    free = _gauge(
        "bdr_filesystem_free_bytes",
        "Free bytes of the file systems of the state and scratch directories and the local "
        "repositories.",
        ["path"],
    )
    seen: set[str] = set()
    for _, path in watched_places(config):
        usage = usage_near(path)
        if usage is not None and str(path) not in seen:
            seen.add(str(path))
            free.add_metric([str(path)], float(usage[1]))
    return free
