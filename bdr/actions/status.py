"""`bdr status`: per plan and repository, the last backup and the newest snapshot's age.

Read from the history alone, so it answers at once and even when a repository is offline.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bdr.config.model import Config
from bdr.store import runs

NEVER = "never backed up"
OK = "ok"
RPO_EXCEEDED = "rpo exceeded"
IN_FUTURE = "snapshot dated in the future"
# Clocks of the appliance and a NAS may differ a little; more than this is a clock problem.
FUTURE_TOLERANCE_SECONDS = 300.0


@dataclass(frozen=True)
class TierStatus:
    plan: str
    repository: str
    kind: str  # backup for the plan's own repository, copy for the other tiers
    last_run: runs.Run | None
    last_success: runs.Run | None
    snapshot_id: str | None
    snapshot_age: float | None
    rpo: int
    state: str
    verified_snapshot_id: str | None = None
    verified_age: float | None = None
    snapshot_in_future: bool = False

    def as_json(self) -> dict[str, object]:
        last = self.last_run
        return {
            "plan": self.plan,
            "repository": self.repository,
            "kind": self.kind,
            "last_run": None
            if last is None
            else {
                "id": last.id,
                "status": last.status,
                "started_at": last.started_at,
                "ended_at": last.ended_at,
                "error": last.error,
            },
            "last_success_at": self.last_success.ended_at if self.last_success else None,
            "snapshot_id": self.snapshot_id,
            "snapshot_age_seconds": self.snapshot_age,
            "snapshot_in_future": self.snapshot_in_future,
            "rpo_seconds": self.rpo,
            "state": self.state,
            "verified_snapshot_id": self.verified_snapshot_id,
            "verified_snapshot_age_seconds": self.verified_age,
        }


def judge(last_run: runs.Run | None, snapshot_age: float | None, rpo: int) -> str:
    """Return the one-word state of a tier: the worst of the snapshot's age and the last run.

    A negative age (a snapshot dated in the future) means a clock was wrong: the age proves
    nothing about the RPO, and that is said instead.
    """
    if snapshot_age is not None and snapshot_age < -FUTURE_TOLERANCE_SECONDS:
        return IN_FUTURE
    if snapshot_age is None:
        return (
            NEVER
            if last_run is None or last_run.status == runs.RUNNING
            else (f"last run {last_run.status}")
        )
    if snapshot_age > rpo:
        return RPO_EXCEEDED
    if last_run is not None and last_run.status in (runs.FAILED, runs.INTERRUPTED, runs.WARNING):
        return f"last run {last_run.status}"
    return OK


def plan_status(config: Config, db: sqlite3.Connection, now: float) -> list[TierStatus]:
    """Return the status of every plan in every repository it uses."""
    rows = []
    for name, plan in config.plans.items():
        for repository in (plan.repository, *plan.copy_to):
            kind = "backup" if repository == plan.repository else "copy"
            last = runs.last_run(
                db,
                kind,
                plan=name,
                repository=repository,
                statuses=(runs.OK, runs.WARNING, runs.FAILED, runs.INTERRUPTED),
            )
            success = runs.last_run(
                db, kind, plan=name, repository=repository, statuses=(runs.OK, runs.WARNING)
            )
            latest = runs.latest_snapshot(db, name, repository)
            age = None if latest is None else now - latest.snapshot_time
            verified = runs.verified_snapshot(db, name, repository)
            rows.append(
                TierStatus(
                    plan=name,
                    repository=repository,
                    kind=kind,
                    last_run=last,
                    last_success=success,
                    snapshot_id=latest.snapshot_id if latest else None,
                    snapshot_age=None if age is None else max(0.0, age),
                    rpo=plan.rpo,
                    state=judge(last, age, plan.rpo),
                    snapshot_in_future=age is not None and age < -FUTURE_TOLERANCE_SECONDS,
                    verified_snapshot_id=verified.snapshot_id if verified else None,
                    verified_age=max(0.0, now - verified.snapshot_time) if verified else None,
                )
            )
    return rows


HEARTBEAT_STALE_SECONDS = 60.0


@dataclass(frozen=True)
class DaemonStatus:
    alive: bool
    heartbeat_age: float | None
    pid: int | None
    jobs: list[runs.ScheduledJob]

    def as_json(self) -> dict[str, object]:
        return {
            "alive": self.alive,
            "heartbeat_age_seconds": self.heartbeat_age,
            "pid": self.pid,
            "jobs": [
                {
                    "job": job.job_id,
                    "kind": job.kind,
                    "subject": job.subject,
                    "schedule": job.cron,
                    "next_run": job.next_run,
                    "last_run": job.last_fire,
                }
                for job in self.jobs
            ],
        }


def daemon_status(db: sqlite3.Connection, now: float) -> DaemonStatus:
    """Return whether the daemon is alive (its heartbeat is recent) and its schedule."""
    values = runs.daemon_values(db)
    beat = float(values["heartbeat"]) if "heartbeat" in values else None
    stopped = float(values.get("stopped_at", "0"))
    age = None if beat is None else max(0.0, now - beat)
    alive = age is not None and age <= HEARTBEAT_STALE_SECONDS and stopped < (beat or 0)
    pid = int(values["pid"]) if "pid" in values else None
    return DaemonStatus(alive, age, pid, runs.scheduled_jobs(db))
