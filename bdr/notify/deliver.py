"""Delivering the outbox with Apprise: each message to each target, retried with backoff.

Apprise is imported here only. A target whose URL was removed from urls_file is given up, not
sent elsewhere. Errors are recorded with every part of the URL that could be a secret
scrubbed, so the history, logs and `bdr notify status` never hold a credential.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bdr.apprise_urls import MAIL_SCHEMES, read_urls, scheme, scrub, target_id
from bdr.config.model import Config
from bdr.store import outbox
from bdr.store.database import History

log = logging.getLogger(__name__)

# What an Apprise notification type is called for each message level.
_TYPES = {"FAIL": "failure", "WARN": "warning", "OK": "success", "INFO": "info"}


@dataclass(frozen=True)
class Sent:
    target: str
    error: str | None  # None: delivered


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _with_fields(url: str, fields: dict[str, Any]) -> str:
    """A json:// URL with the message's fields as payload keys (Apprise's `:key=value`)."""
    pairs = [
        f":{quote(key)}={quote(str(value), safe='')}"
        for key, value in sorted(fields.items())
        if value is not None and key not in ("error",)
    ]
    if not pairs:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(pairs)


def _mail_to(url: str, to: list[str]) -> str:
    """A mailto URL sending to `to` instead of its own recipients."""
    return url + ("&" if "?" in url else "?") + "to=" + quote(",".join(to), safe="@,")


def send(
    url: str,
    subject: str,
    body: str,
    *,
    fields: dict[str, Any] | None = None,
    attachments: tuple[str, ...] = (),
) -> str | None:
    """Send one message to one URL; return None when delivered, else why not (scrubbed)."""
    import apprise

    fields = fields or {}
    target = url
    if scheme(url) in ("json", "jsons"):
        target = _with_fields(url, fields)
    if scheme(url) in MAIL_SCHEMES and fields.get("to"):
        target = _mail_to(url, list(fields["to"]))
    collector = _Collect()
    logger = logging.getLogger("apprise")
    logger.addHandler(collector)
    previous, logger.propagate = logger.propagate, False  # Apprise's lines may name the URL
    try:
        sender = apprise.Apprise()
        if not sender.add(target):
            return "Apprise does not accept this URL"
        attach = apprise.AppriseAttachment(list(attachments)) if attachments else None
        level = str(fields.get("level", "INFO"))
        ok = sender.notify(
            body=body,
            title=subject,
            notify_type=_TYPES.get(level, "info"),
            body_format=apprise.NotifyFormat.TEXT,
            attach=attach,
        )
    except Exception as error:  # a plugin's own failure is a failed delivery, not a crash
        return scrub(f"{type(error).__name__}: {error}", [url, target])
    finally:
        logger.removeHandler(collector)
        logger.propagate = previous
    if ok:
        return None
    said = "; ".join(dict.fromkeys(collector.lines)) or "Apprise reported a failure"
    return scrub(said, [url, target])[-1000:]


def deliver_due(
    config: Config, db: History, *, now: Callable[[], float] = time.time, limit: int = 50
) -> int:
    """Send what is due; return how many were delivered."""
    if config.notify is None:
        return 0
    try:
        urls = {target_id(url): url for url in read_urls(config.notify.urls_file)}
    except (OSError, ValueError) as error:
        log.error("notify.urls_file %s: %s", config.notify.urls_file, error)
        return 0
    sent = 0
    for message in outbox.due(db, now(), limit=limit):
        url = urls.get(message.target)
        if url is None:
            outbox.give_up(db, message, "the URL is no longer in notify.urls_file", now())
            continue
        problem = send(
            url,
            message.subject,
            message.body,
            fields=message.fields,
            attachments=message.attachments,
        )
        if problem is None:
            outbox.delivered(db, message, now())
            sent += 1
            log.info(
                "notification %d (%s) delivered: %s", message.id, message.event, message.subject
            )
        else:
            outbox.failed(db, message, problem, now())
            log.warning(
                "notification %d (%s) not delivered (attempt %d): %s",
                message.id,
                message.event,
                message.attempts + 1,
                problem,
            )
    return sent


def test_all(config: Config, subject: str, body: str) -> list[tuple[str, str | None]]:
    """Send a test message to every URL directly; return (masked URL, error or None)."""
    from bdr.apprise_urls import masked

    assert config.notify is not None
    results = []
    for url in read_urls(config.notify.urls_file):
        error = send(url, subject, body, fields={"level": "INFO", "event": "test"})
        results.append((masked(url), error))
    return results
