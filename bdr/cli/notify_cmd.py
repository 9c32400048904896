"""`bdr notify status|test`."""

from __future__ import annotations

import click

from bdr.cli.app import App


@click.group()
def notify() -> None:
    """Notifications: the open problems, the outbox, a test message."""


@notify.command()
@click.pass_obj
def status(app: App) -> None:
    """Show the open problems, the recently resolved ones and the messages not yet delivered."""
    import time

    from bdr.apprise_urls import masked, read_urls, target_id
    from bdr.config.units import format_duration
    from bdr.store import outbox, problems

    db = app.history()
    names: dict[str, str] = {}
    if app.config.notify is not None:
        try:
            names = {target_id(url): masked(url) for url in read_urls(app.config.notify.urls_file)}
        except (OSError, ValueError):
            names = {}
    opened = problems.all_open(db)
    resolved = problems.recent(db, limit=10)
    waiting = outbox.pending(db)
    if app.json_output:
        app.print_json(
            {
                "configured": app.config.notify is not None,
                "open": [problems.as_json(p) for p in opened],
                "resolved": [problems.as_json(p) for p in resolved],
                "outbox": [
                    {
                        "id": m.id,
                        "event": m.event,
                        "target": names.get(m.target, m.target),
                        "subject": m.subject,
                        "attempts": m.attempts,
                        "next_attempt_at": m.next_attempt_at,
                        "last_error": m.last_error,
                    }
                    for m in waiting
                ],
                "sent": outbox.sent_counts(db),
            }
        )
        return
    from bdr.cli.render import table
    from bdr.cli.render import when as shown_time

    def when(moment: float | None) -> str:
        return shown_time(moment, short=True)

    if app.config.notify is None:
        click.echo("no [notify] section: problems are tracked, no message is sent")
    now = time.time()
    table(
        f"open problems ({len(opened)})",
        ["alert id", "level", "since", "times", "reason"],
        [
            [
                p.key,
                p.severity,
                f"{when(p.opened_at)} ({format_duration(now - p.opened_at)})",
                str(p.occurrences),
                p.title,
            ]
            for p in opened
        ],
        wrap="reason",
    )
    if resolved:
        table(
            "recently resolved",
            ["alert id", "opened", "resolved", "open for", "by run"],
            [
                [
                    p.key,
                    when(p.opened_at),
                    when(p.resolved_at),
                    format_duration((p.resolved_at or p.opened_at) - p.opened_at),
                    str(p.resolved_by or "-"),
                ]
                for p in resolved
            ],
        )
    table(
        f"outbox: {len(waiting)} not delivered",
        ["id", "event", "to", "attempts", "next try", "last error"],
        [
            [
                str(m.id),
                m.event,
                names.get(m.target, f"(removed URL {m.target})"),
                str(m.attempts),
                when(m.next_attempt_at),
                m.last_error or "-",
            ]
            for m in waiting
        ],
        wrap="last error",
    )


@notify.command()
@click.pass_obj
def test(app: App) -> None:
    """Send a test message to every URL now and say how each went (exit 1 when one fails)."""
    from bdr.notify.deliver import test_all
    from bdr.notify.messages import subject

    if app.config.notify is None:
        app.abort(f"{app.config_path} has no [notify] section", 2)
    appliance = app.config.appliance
    title = subject("INFO", appliance.id, "appliance", "test message from bdr")
    body = (
        f"Client: {appliance.client}\nAppliance: {appliance.id}\n"
        f"Alert-ID: {appliance.id}:test:appliance\n\n"
        "A test of this appliance's notifications (bdr notify test).\n"
    )
    results = test_all(app.config, title, body)
    if app.json_output:
        app.print_json(
            [{"url": url, "ok": error is None, "error": error} for url, error in results]
        )
    else:
        from bdr.cli.render import table

        table(
            "test message",
            ["url", "result"],
            [[url, "delivered" if error is None else f"FAILED: {error}"] for url, error in results],
            wrap="result",
        )
    app.exit(1 if any(error is not None for _, error in results) else 0)
