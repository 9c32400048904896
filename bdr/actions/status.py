"""`bdr status`: per plan and repository, the last backup and the newest snapshot's age.

Read from the history alone, so it answers at once and even when a repository is offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from bdr.config.model import Config
from bdr.store import daemon_state, runs, tiers
from bdr.store.database import History

NEVER = "never backed up"
OK = "ok"
RPO_EXCEEDED = "rpo exceeded"
IN_FUTURE = "snapshot dated in the future"
SUSPECT = "SUSPECT of ransomware"
# Clocks of the appliance and a NAS may differ a little; more than this is a clock problem.
FUTURE_TOLERANCE_SECONDS = 300.0


@dataclass(frozen=True)
class TierStatus:
    """A tier's facts from the history, judged at `now` against the plan's RPO."""

    facts: tiers.TierFacts
    rpo: int
    now: float
    append_only: bool = False

    @property
    def raw_age(self) -> float | None:
        latest = self.facts.latest
        return None if latest is None else self.now - latest.snapshot_time

    @property
    def snapshot_age(self) -> float | None:
        return None if self.raw_age is None else max(0.0, self.raw_age)

    @property
    def snapshot_in_future(self) -> bool:
        return self.raw_age is not None and self.raw_age < -FUTURE_TOLERANCE_SECONDS

    @property
    def verified_age(self) -> float | None:
        verified = self.facts.verified
        return None if verified is None else max(0.0, self.now - verified.snapshot_time)

    @property
    def state(self) -> str:
        if self.facts.suspect is not None:
            return SUSPECT
        return judge(self.facts.last_run, self.raw_age, self.rpo)

    def as_json(self) -> dict[str, object]:
        facts = self.facts
        last = facts.last_run
        return {
            "plan": facts.plan,
            "repository": facts.repository,
            "kind": facts.kind,
            "last_run": None
            if last is None
            else {
                "id": last.id,
                "status": last.status,
                "started_at": last.started_at,
                "ended_at": last.ended_at,
                "error": last.error,
            },
            "last_success_at": facts.last_success.ended_at if facts.last_success else None,
            "snapshot_id": facts.latest.snapshot_id if facts.latest else None,
            "snapshot_age_seconds": self.snapshot_age,
            "snapshot_in_future": self.snapshot_in_future,
            "rpo_seconds": self.rpo,
            "append_only": self.append_only,
            "state": self.state,
            "verified_snapshot_id": facts.verified.snapshot_id if facts.verified else None,
            "verified_snapshot_age_seconds": self.verified_age,
            "suspect_snapshot_id": facts.suspect.snapshot_id if facts.suspect else None,
            "last_clean_snapshot_id": facts.last_clean.snapshot_id if facts.last_clean else None,
            "last_clean_snapshot_time": (
                facts.last_clean.snapshot_time if facts.last_clean else None
            ),
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


def plan_status(config: Config, db: History, now: float) -> list[TierStatus]:
    """Return the status of every plan in every repository it uses."""
    return [
        TierStatus(
            facts,
            config.plans[facts.plan].rpo_of(facts.repository),
            now,
            append_only=config.repositories[facts.repository].append_only,
        )
        for facts in tiers.all_tiers(db, config)
    ]


HEARTBEAT_STALE_SECONDS = 60.0


@dataclass(frozen=True)
class DaemonStatus:
    alive: bool
    heartbeat_age: float | None
    pid: int | None
    jobs: list[daemon_state.ScheduledJob]

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


def daemon_status(db: History, now: float) -> DaemonStatus:
    """Return whether the daemon is alive (its heartbeat is recent) and its schedule."""
    values = daemon_state.daemon_values(db)
    beat = float(values["heartbeat"]) if "heartbeat" in values else None
    stopped = float(values.get("stopped_at", "0"))
    age = None if beat is None else max(0.0, now - beat)
    alive = age is not None and age <= HEARTBEAT_STALE_SECONDS and stopped < (beat or 0)
    pid = int(values["pid"]) if "pid" in values else None
    return DaemonStatus(alive, age, pid, daemon_state.scheduled_jobs(db))


@dataclass(frozen=True)
class Verdict:
    """The appliance in one line and one exit code, as Nagios-style monitors and RMM tools
    read them: 0 ok, 1 warning, 2 critical, 3 unknown."""

    code: int
    line: str


CRITICAL_STATES = (RPO_EXCEEDED, SUSPECT, IN_FUTURE, NEVER, "last run failed")
NAGIOS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def verdict(rows: list[TierStatus], daemon: DaemonStatus) -> Verdict:
    """The worst of every tier's state and the daemon's, named."""
    if not rows:
        return Verdict(3, "BDR UNKNOWN - no plan is configured")
    critical = [r for r in rows if r.state in CRITICAL_STATES]
    warning = [r for r in rows if r not in critical and r.state != OK]
    said = [f"{r.facts.plan}/{r.facts.repository} {r.state}" for r in (*critical, *warning)]
    if daemon.heartbeat_age is not None and not daemon.alive:
        said.append("daemon not running")
    elif daemon.heartbeat_age is None:
        said.append("daemon never ran")
    daemon_down = not daemon.alive
    code = 2 if critical or daemon_down else 1 if warning else 0
    summary = "; ".join(said) if said else f"{len(rows)} tier(s) within their RPO"
    return Verdict(code, f"BDR {NAGIOS[code]} - {summary}")
