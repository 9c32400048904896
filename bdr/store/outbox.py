"""The outbox: every message to every target, kept until delivered (across restarts)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bdr.store.database import History

# Retries wait 30 s, 1 min, 2 min, ... up to an hour; a message is given up after three days.
FIRST_RETRY = 30.0
LONGEST_WAIT = 3600.0
GIVE_UP_AFTER = 3 * 86400.0


@dataclass(frozen=True)
class Message:
    id: int
    problem_id: int | None
    event: str  # opened | reminder | resolved | info | report | test
    target: str  # the URL's target id (a hash): the URL holds credentials
    subject: str
    body: str
    fields: dict[str, Any]
    attachments: tuple[str, ...]
    created_at: float
    attempts: int
    next_attempt_at: float
    delivered_at: float | None
    gave_up_at: float | None
    last_error: str | None


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        problem_id=row["problem_id"],
        event=row["event"],
        target=row["target"],
        subject=row["subject"],
        body=row["body"],
        fields=json.loads(row["fields"]),
        attachments=tuple(json.loads(row["attachments"])),
        created_at=row["created_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        delivered_at=row["delivered_at"],
        gave_up_at=row["gave_up_at"],
        last_error=row["last_error"],
    )


def enqueue(
    db: History,
    *,
    problem_id: int | None,
    event: str,
    targets: list[str],
    subject: str,
    body: str,
    fields: dict[str, Any],
    attachments: tuple[str, ...] = (),
    now: float,
) -> list[int]:
    """One row per target, due now; return their ids."""
    ids = []
    for target in targets:
        cursor = db.execute(
            "INSERT INTO outbox (problem_id, event, target, subject, body, fields, attachments, "
            "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                problem_id,
                event,
                target,
                subject,
                body,
                json.dumps(fields, sort_keys=True),
                json.dumps(list(attachments)),
                now,
                now,
            ),
        )
        ids.append(int(cursor.lastrowid or 0))
    return ids


def due(db: History, now: float, *, limit: int = 50) -> list[Message]:
    rows = db.execute(
        "SELECT * FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL "
        "AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        (now, limit),
    ).fetchall()
    return [_message(row) for row in rows]


def pending(db: History, *, limit: int = 100) -> list[Message]:
    rows = db.execute(
        "SELECT * FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL "
        "ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()
    return [_message(row) for row in rows]


def delivered(db: History, message: Message, now: float) -> None:
    db.execute(
        "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL "
        "WHERE id = ? AND delivered_at IS NULL",
        (now, message.id),
    )


def failed(db: History, message: Message, error: str, now: float) -> None:
    """Record a failed attempt; retry later with backoff, or give up after three days."""
    attempts = message.attempts + 1
    if now - message.created_at >= GIVE_UP_AFTER:
        db.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, gave_up_at = ? WHERE id = ?",
            (attempts, error, now, message.id),
        )
        return
    wait = min(LONGEST_WAIT, FIRST_RETRY * 2 ** (attempts - 1))
    db.execute(
        "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
        (attempts, error, now + wait, message.id),
    )


def give_up(db: History, message: Message, reason: str, now: float) -> None:
    db.execute(
        "UPDATE outbox SET gave_up_at = ?, last_error = ? WHERE id = ?",
        (now, reason, message.id),
    )


def pending_count(db: History) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL"
    ).fetchone()
    return int(row[0])


def sent_counts(db: History) -> dict[str, int]:
    """Delivery attempts by result: sent, failed (attempts that failed), given_up."""
    row = db.execute(
        "SELECT COUNT(delivered_at) AS sent, COUNT(gave_up_at) AS given_up, "
        "COALESCE(SUM(attempts), 0) - COUNT(delivered_at) AS failed FROM outbox"
    ).fetchone()
    return {"sent": row["sent"], "failed": row["failed"], "given_up": row["given_up"]}
