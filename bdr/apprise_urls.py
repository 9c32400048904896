"""The Apprise URLs of `[notify] urls_file`: read, checked, and never shown whole.

A URL holds credentials (an SMTP password, a webhook token), so it is known elsewhere by its
target id (a hash), shown masked (scheme and host), and scrubbed from any error text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

MAIL_SCHEMES = ("mailto", "mailtos")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)
# Parts of a URL this long or longer are scrubbed from error text: tokens, passwords, keys.
_SECRET_MIN = 4


def parse_urls(text: str) -> list[str]:
    """The URLs of a urls_file's text: one a line; blank lines and `#` comments skipped."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def read_urls(path: Path) -> list[str]:
    return parse_urls(path.read_text(encoding="utf-8"))


def url_problems(text: str) -> Iterator[str]:
    """What is wrong with a urls_file's text, by line number (never quoting a URL)."""
    found = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found += 1
        if not _URL.match(stripped):
            yield f"line {number} is not an Apprise URL (scheme://...)"
    if not found:
        yield "holds no URL"


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()


def target_id(url: str) -> str:
    """A stable name of a URL that reveals nothing of it: what the outbox records."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def masked(url: str) -> str:
    """The URL as it may be shown: its scheme and host, nothing that could be a secret."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return f"{scheme(url)}://{host or '…'}/…"


def secrets_of(url: str) -> list[str]:
    """The parts of `url` that may be secret: user, password, path segments, query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [url]
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2:
        found += [unquote(piece) for piece in netloc[0].split(":")]
    found += [unquote(segment) for segment in parts.path.split("/")]
    found += [unquote(value) for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    return sorted({piece for piece in found if len(piece) >= _SECRET_MIN}, key=len, reverse=True)


def scrub(text: str, urls: Iterable[str]) -> str:
    """`text` with every possibly secret part of `urls` replaced by `***`."""
    for url in urls:
        for secret in secrets_of(url):
            text = text.replace(secret, "***")
    return text


def rejected(text: str) -> Iterator[str]:
    """The lines of a urls_file's text that Apprise does not accept (it is imported here)."""
    import apprise

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not apprise.Apprise().add(stripped):
            yield f"line {number}: Apprise does not accept this {scheme(stripped)}:// URL"
