"""Terminal rendering shared by the commands: tables, run summaries, times and ages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bdr.config.units import format_duration

if TYPE_CHECKING:
    from rich.console import Console

    from bdr.actions.summary import RunSummary

# Run statuses, tier states and drill verdicts; "last run failed" is styled by its last word.
_STATUS_STYLE = {
    "ok": "green",
    "passed": "green",
    "warning": "yellow",
    "failed": "red",
    "interrupted": "red",
    "exceeded": "red",
    "never backed up": "red",
    "data": "red",
    "rto": "red",
    "check": "red",
    "error": "red",
    "future": "red",
}


class Markup(str):
    """Text that is rich markup already (a styled status); every other text is escaped."""


def plain(text: object) -> str:
    """Return `text` (a path, a reason, a name) escaped, so rich prints it as it is:
    a file called `[conceal]x.xlsx` or `[/x]` is data, not markup."""
    from rich.markup import escape

    return escape(str(text))


def console(stderr: bool = False) -> Console:
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is read by grep and scripts: never wrap a line there.
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.table import Table

    grid = Table(title=plain(title) if title else None, title_justify="left", header_style="bold")
    for header in headers:
        grid.add_column(header)
    for row in rows:
        grid.add_row(*(cell if isinstance(cell, Markup) else plain(cell) for cell in row))
    console().print(grid)


def when(timestamp: float | None, *, short: bool = False) -> str:
    """Return a local time; `short` drops the year and seconds, for narrow table columns."""
    if timestamp is None:
        return "-"
    form = "%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S"
    return datetime.fromtimestamp(timestamp).astimezone().strftime(form)


def age(seconds: float | None, *, in_future: bool = False) -> str:
    if in_future:
        return "in the future"
    return "-" if seconds is None else f"{format_duration(seconds)} ago"


def styled(status: str) -> Markup:
    """Return `status` in the colour a technician reads at a glance."""
    style = _STATUS_STYLE.get(status) or _STATUS_STYLE.get(status.rsplit(" ", 1)[-1], "")
    return Markup(f"[{style}]{plain(status)}[/{style}]" if style else plain(status))


def summaries(items: Sequence[RunSummary]) -> None:
    """Print one line per run: what ran, on what, and how it ended."""
    out = console()
    for item in items:
        where = " ".join(
            part for part in (item.plan, "->" if item.plan else "", item.repository) if part
        )
        out.print(
            f"{item.kind:<9} {plain(where):<28} {styled(item.status):<10} {plain(item.message)}"
        )
