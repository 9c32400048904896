"""The daemon's own facts in the history: its jobs' schedule, and its key/values (pid,
heartbeat, versions, the evidence chain's last verification) that status and metrics read."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduledJob:
    job_id: str
    kind: str
    subject: str
    cron: str
    next_run: float | None
    last_fire: float | None


def save_schedule(connection: sqlite3.Connection, jobs: list[ScheduledJob]) -> None:
    """Replace the stored schedule with `jobs`, keeping each surviving job's last fire time."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        kept = {job.job_id for job in jobs}
        for row in connection.execute("SELECT job_id FROM schedule").fetchall():
            if row["job_id"] not in kept:
                connection.execute("DELETE FROM schedule WHERE job_id = ?", (row["job_id"],))
        for job in jobs:
            connection.execute(
                "INSERT INTO schedule (job_id, kind, subject, cron, next_run, last_fire) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET kind = "
                "excluded.kind, subject = excluded.subject, cron = excluded.cron, "
                "next_run = excluded.next_run, "
                "last_fire = COALESCE(excluded.last_fire, schedule.last_fire)",
                (job.job_id, job.kind, job.subject, job.cron, job.next_run, job.last_fire),
            )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def scheduled_jobs(connection: sqlite3.Connection) -> list[ScheduledJob]:
    rows = connection.execute("SELECT * FROM schedule ORDER BY job_id").fetchall()
    return [
        ScheduledJob(r["job_id"], r["kind"], r["subject"], r["cron"], r["next_run"], r["last_fire"])
        for r in rows
    ]


def record_fire(
    connection: sqlite3.Connection, job_id: str, fired: float, next_run: float | None
) -> None:
    connection.execute(
        "UPDATE schedule SET last_fire = ?, next_run = ? WHERE job_id = ?",
        (fired, next_run, job_id),
    )


def set_daemon_value(connection: sqlite3.Connection, key: str, value: str) -> None:
    connection.execute(
        "INSERT INTO daemon (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
        "value = excluded.value",
        (key, value),
    )


def daemon_values(connection: sqlite3.Connection) -> dict[str, str]:
    return {row["key"]: row["value"] for row in connection.execute("SELECT * FROM daemon")}


@dataclass(frozen=True)
class Uploaded:
    """What the cloud's evidence store holds of this appliance's evidence, as last uploaded."""

    seq: int = 0  # the chain's last record uploaded
    reports: frozenset[str] = frozenset()  # the report files uploaded (evidence.upload marks)
    at: float | None = None
    error: str | None = None  # why the last upload failed; None after one that worked


def uploaded(connection: sqlite3.Connection) -> Uploaded:
    values = daemon_values(connection)
    try:
        reports = frozenset(json.loads(values.get("evidence_uploaded_reports", "[]")))
        seq = int(values.get("evidence_uploaded_seq", "0"))
        at = float(values["evidence_uploaded_at"]) if "evidence_uploaded_at" in values else None
    except (ValueError, TypeError):
        return Uploaded(error=values.get("evidence_upload_error"))
    return Uploaded(seq, reports, at, values.get("evidence_upload_error") or None)


def note_uploaded(
    connection: sqlite3.Connection, seq: int, reports: Iterable[str], at: float
) -> None:
    set_daemon_value(connection, "evidence_uploaded_seq", str(seq))
    set_daemon_value(connection, "evidence_uploaded_reports", json.dumps(sorted(reports)))
    set_daemon_value(connection, "evidence_uploaded_at", repr(at))
    set_daemon_value(connection, "evidence_upload_error", "")


def note_upload_failed(connection: sqlite3.Connection, error: str) -> None:
    set_daemon_value(connection, "evidence_upload_error", error)
