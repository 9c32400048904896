"""The messages a PSA turns into tickets (pure: no I/O, no clock).

Subject: `[BDR][FAIL|WARN|OK|INFO][<appliance-id>][<scope>] <one-line reason>`. For one problem
the subject is the same from opening to reminders (the reason it opened with), and the
resolved message differs only in `OK`, so a PSA's subject rule threads them and closes the
ticket. The body names the problem key as `Alert-ID: <key>`; JSON webhooks get the same fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from bdr.config.units import format_duration
from bdr.store.problems import FAILURE, INFO, WARNING, Problem

LEVELS = {FAILURE: "FAIL", WARNING: "WARN", INFO: "INFO"}
SUBJECT = re.compile(
    r"^\[BDR\]\[(?P<level>FAIL|WARN|OK|INFO)\]\[(?P<appliance>[^\]]+)\]\[(?P<scope>[^\]]+)\] "
    r"(?P<reason>.+)$"
)
TITLE_LENGTH = 120
ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Appliance:
    id: str
    client: str
    site: str = ""
    grafana_url: str | None = None  # a template: {appliance} {client} {site} {plan} {tier}


@dataclass(frozen=True)
class Context:
    """What a message says besides the problem: the run and what happens next."""

    run_id: int | None = None
    run_started_at: float | None = None
    error: str | None = None
    next_run: float | None = None
    next_job: str | None = None
    command: str = "bdr status"
    plan: str | None = None
    tier: str | None = None


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    fields: dict[str, Any] = field(default_factory=dict)


def one_line(text: str, limit: int = TITLE_LENGTH) -> str:
    """The first line of `text`, control characters and brackets' trouble removed, cut short."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    clean = "".join(char if char.isprintable() else " " for char in first)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def subject(level: str, appliance: str, scope: str, title: str) -> str:
    return f"[BDR][{level}][{appliance}][{scope}] {one_line(title)}"


def _when(moment: float | None, zone: tzinfo) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, zone).isoformat(sep=" ", timespec="seconds")


def _grafana(appliance: Appliance, context: Context) -> str | None:
    if not appliance.grafana_url:
        return None
    return appliance.grafana_url.format(
        appliance=appliance.id,
        client=appliance.client,
        site=appliance.site,
        plan=context.plan or "",
        tier=context.tier or "",
    )


def compose(
    event: str,
    problem: Problem,
    appliance: Appliance,
    context: Context,
    *,
    now: float,
    zone: tzinfo,
) -> Composed:
    """The message of `event` (opened, reminder, resolved) about `problem`."""
    level = "OK" if event == "resolved" else LEVELS.get(problem.severity, "WARN")
    open_for = (problem.resolved_at or now) - problem.opened_at
    status = {
        "opened": f"{level}: opened {_when(problem.opened_at, zone)}",
        "reminder": (
            f"{level}: still open since {_when(problem.opened_at, zone)} "
            f"({format_duration(open_for)}, {problem.occurrences} occurrence(s))"
        ),
        "resolved": (
            f"OK: resolved {_when(problem.resolved_at or now, zone)}"
            + (f" by run {problem.resolved_by}" if problem.resolved_by else "")
            + f", open for {format_duration(open_for)} since {_when(problem.opened_at, zone)}"
            f" ({problem.occurrences} occurrence(s))"
        ),
    }[event]
    error = (context.error or problem.last_reason or "")[-ERROR_LENGTH:]
    link = _grafana(appliance, context)
    fields: dict[str, Any] = {
        "alert_id": problem.key,
        "event": event,
        "level": level,
        "appliance": appliance.id,
        "client": appliance.client,
        "site": appliance.site,
        "kind": problem.kind,
        "scope": problem.scope,
        "plan": context.plan,
        "tier": context.tier,
        "reason": problem.title,
        "run_id": context.run_id,
        "run_started_at": _when(context.run_started_at, zone) if context.run_started_at else None,
        "opened_at": _when(problem.opened_at, zone),
        "open_seconds": round(open_for, 1),
        "occurrences": problem.occurrences,
        "error": error or None,
        "next_run": _when(context.next_run, zone) if context.next_run else None,
        "command": context.command,
        "grafana_url": link,
    }
    lines = [
        f"Client: {appliance.client}" + (f" ({appliance.site})" if appliance.site else ""),
        f"Appliance: {appliance.id}",
        f"Alert-ID: {problem.key}",
        f"Status: {status}",
        f"Problem: {problem.title}",
    ]
    if context.run_id is not None:
        lines.append(f"Run: {context.run_id}, started {_when(context.run_started_at, zone)}")
    if event != "resolved" and error:
        lines += ["", "What happened:", error, ""]
    if event != "resolved":
        if problem.kind == "repository":
            lines.append(
                f"Next: it resolves when any job reaches {problem.scope} again; the jobs it "
                "broke are retried on their schedules"
            )
        elif context.next_run:
            lines.append(
                f"Next: bdr runs {context.next_job or 'the job'} again at "
                f"{_when(context.next_run, zone)}"
            )
        else:
            lines.append("Next: no run of this job is scheduled; it needs a person")
    lines.append(f"More: {context.command}")
    if link:
        lines.append(f"Grafana: {link}")
    return Composed(
        subject(level, appliance.id, problem.scope, problem.title), "\n".join(lines) + "\n", fields
    )


def compose_info(
    appliance: Appliance, scope: str, title: str, text: str, *, now: float, zone: tzinfo
) -> Composed:
    """An informational message, about no problem (the daemon restarted after a crash)."""
    key = f"{appliance.id}:info:{scope}"
    body = (
        f"Client: {appliance.client}"
        + (f" ({appliance.site})" if appliance.site else "")
        + f"\nAppliance: {appliance.id}\nAlert-ID: {key}\nStatus: INFO, {_when(now, zone)}\n\n"
        + text
        + "\n"
    )
    fields = {
        "alert_id": key,
        "event": "info",
        "level": "INFO",
        "appliance": appliance.id,
        "client": appliance.client,
        "site": appliance.site,
        "reason": title,
        "text": text,
    }
    return Composed(subject("INFO", appliance.id, scope, title), body, fields)
