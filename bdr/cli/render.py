"""Terminal rendering shared by the commands: tables, run summaries, times and ages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bdr.config.units import format_duration
from bdr.localtime import zone

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

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
    "unproven": "yellow",
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


PIPED_WIDTH = 100
WRAP_MIN_WIDTH = 12


def console(stderr: bool = False) -> Console:
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # A terminal's own width (rich also honours $COLUMNS); piped, see _piped_width. Lines that
    # are not tables are never wrapped (soft_wrap).
    width = None if stream.isatty() else _piped_width()
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _piped_width() -> int:
    """The width of output to a pipe or a file: $COLUMNS, or 100 so tables fit a mail or a
    ticket."""
    import os

    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else PIPED_WIDTH


def table(
    title: str | None,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    wrap: str | None = None,
) -> None:
    """Print a table that fits the console. The `wrap` column (free text: a reason, paths)
    takes the width that is left and folds onto more lines; the other columns keep the width
    of their widest cell, so times, ids and verdicts are never cut."""
    import sys

    plain_text = _plain_table(title, headers, rows, wrap)
    if plain_text is not None:
        sys.stdout.write(plain_text)
        return
    from rich.text import Text

    # Text as it is: a file called `[conceal]x.xlsx` or `[/x]` is data, not markup.
    cells = [
        [Text.from_markup(cell) if isinstance(cell, Markup) else Text(str(cell)) for cell in row]
        for row in rows
    ]
    out = console()
    widest = [
        max([len(header), *(row[index].cell_len for row in cells)])
        for index, header in enumerate(headers)
    ]
    widths = _column_widths(headers, widest, wrap, out.width)
    if widths is not None:
        out.print(_laid_out(out, title, headers, cells, widths), end="")
    else:
        _shared(title, headers, cells, widest, wrap, keep=False)


# The layout of rich's SIMPLE_HEAD table without edge padding: a space at either side, two
# between columns, a blank line above and below, a rule under the header.
_SIDES = 2
_GAP = 2


def _column_widths(
    headers: Sequence[str], widest: Sequence[int], wrap: str | None, width: int
) -> list[int] | None:
    """The columns' widths when the table fits `width` with whole columns: each at its widest
    cell, but `wrap` (free text), which takes the room left to fold in, at least
    WRAP_MIN_WIDTH. None when it does not fit: rich then shares the width out."""
    widths = list(widest)
    spacing = _SIDES + _GAP * (len(headers) - 1)
    if wrap is not None and wrap in headers:
        index = list(headers).index(wrap)
        room = width - spacing - (sum(widths) - widths[index])
        if room < WRAP_MIN_WIDTH:
            return None
        widths[index] = min(max(widths[index], WRAP_MIN_WIDTH), room)
    elif sum(widths) + spacing > width:
        return None
    return widths


def _uncoloured() -> bool:
    """Whether standard output takes no colours or styles: a pipe or a file, and neither
    FORCE_COLOR nor TTY_COMPATIBLE asks rich for them."""
    import os
    import sys

    return not (
        sys.stdout.isatty() or os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE")
    )


def _printable_ascii(texts: Sequence[str]) -> bool:
    """Whether every text is printable ASCII: a character is a column, nothing for rich to
    measure, strip or escape."""
    return all(text.isascii() and text.isprintable() for text in texts)


def _plain_table(
    title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], wrap: str | None
) -> str | None:
    """Return the table as rich would print it, made without rich, when that is simple: output
    to a pipe or a file (no colours, the piped width), printable ASCII only (a character is a
    column), no styled cell, and every cell within its column (nothing to fold). Otherwise
    None. Importing rich costs a script that reads `bdr snapshots` about 25 ms a call."""

    if not _uncoloured():
        return None  # colours, or rich styles the header even in a pipe
    if any(isinstance(cell, Markup) for row in rows for cell in row):
        return None
    texts = [[str(cell) for cell in row] for row in rows]
    every = [title or "", *headers, *(cell for row in texts for cell in row)]
    if not _printable_ascii(every):
        return None
    widest = [
        max([len(header), *(len(row[index]) for row in texts)])
        for index, header in enumerate(headers)
    ]
    widths = _column_widths(headers, widest, wrap, _piped_width())
    if widths is None or any(size > w for w, size in zip(widths, widest, strict=True)):
        return None  # rich shares the width out, or folds the free text
    total = _SIDES + sum(widths) + _GAP * (len(headers) - 1)
    blank = " " * total
    lines = [title] if title else []
    lines.append(blank)
    for row in [list(headers), None, *texts]:
        if row is None:
            lines.append(" " + "─" * (total - _SIDES) + " ")
            continue
        # Trailing spaces become padding, as rich's layout makes them.
        cells = (cell.ljust(size) for cell, size in zip(row, widths, strict=True))
        lines.append(" " + (" " * _GAP).join(cells) + " ")
    lines.append(blank)
    return "\n".join(lines) + "\n"


def _laid_out(
    out: Console,
    title: str | None,
    headers: Sequence[str],
    cells: list[list[Text]],
    widths: list[int],
) -> Text:
    """Return the table as rich lays it out in columns of `widths` (see _column_widths),
    built line by line: rich's own layout costs a tenth of a second per 500 rows, which
    `bdr snapshots` of a year of hourly snapshots would pay on every call."""
    from rich.text import Text

    total = _SIDES + sum(widths) + _GAP * (len(headers) - 1)
    text = Text()
    if title:
        text.append(title, style="table.title")
        text.append("\n")
    blank = " " * total + "\n"
    text.append(blank)
    heading = [Text(header, style="bold") for header in headers]
    for row in [heading, None, *cells]:
        if row is None:
            text.append(" " + "─" * (total - _SIDES) + " \n")
            continue
        columns = [
            cell.wrap(out, width, overflow="fold") if cell.cell_len > width else [cell]
            for cell, width in zip(row, widths, strict=True)
        ]
        for line in range(max(len(lines) for lines in columns)):
            text.append(" ")
            for position, (lines, width) in enumerate(zip(columns, widths, strict=True)):
                if position:
                    text.append(" " * _GAP)
                piece = lines[line].copy() if line < len(lines) else Text()
                piece.rstrip()
                piece.pad_right(width - piece.cell_len)
                text.append(piece)
            text.append(" \n")
    text.append(blank)
    return text


def _shared(
    title: str | None,
    headers: Sequence[str],
    cells: list[list[Text]],
    widest: list[int],
    wrap: str | None,
    keep: bool,
) -> None:
    """Print the table with rich's own layout, which shares out a width too narrow for it."""
    from rich import box
    from rich.table import Table

    grid = Table(
        title=plain(title) if title else None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for header, width in zip(headers, widest, strict=True):
        if header == wrap and keep:
            grid.add_column(header, overflow="fold", ratio=1, min_width=WRAP_MIN_WIDTH)
        elif keep:
            grid.add_column(header, width=width, no_wrap=True)
        else:
            # Too narrow for whole columns (an 80-column terminal): every column shares the
            # width and folds, so an id comes out on two lines instead of being cut short.
            grid.add_column(header, overflow="fold")
    for row in cells:
        grid.add_row(*row)
    console().print(grid)


def when(timestamp: float | None, *, short: bool = False) -> str:
    """Return a local time, ISO ordered with its zone (`2026-12-06 00:43 CET`): `12-06` is
    the 12th of June to half of Europe. `short` drops the seconds, for table columns."""
    if timestamp is None:
        return "-"
    moment = datetime.fromtimestamp(timestamp, zone())
    return moment.strftime("%Y-%m-%d %H:%M %Z" if short else "%Y-%m-%d %H:%M:%S %Z")


def age(seconds: float | None, *, in_future: bool = False) -> str:
    if in_future:
        return "in the future"
    return "-" if seconds is None else f"{format_duration(seconds)} ago"


def styled(status: str) -> Markup:
    """Return `status` in the colour a technician reads at a glance."""
    style = _STATUS_STYLE.get(status) or _STATUS_STYLE.get(status.rsplit(" ", 1)[-1], "")
    return Markup(f"[{style}]{plain(status)}[/{style}]" if style else plain(status))


def summaries(items: Sequence[RunSummary]) -> None:
    """Print one line per run: what ran, on what, and how it ended (its status in colour)."""
    import sys

    lines = []
    for item in items:
        where = " ".join(
            part for part in (item.plan, "->" if item.plan else "", item.repository) if part
        )
        lines.append((f"{item.kind:<9} {where:<28} ", f"{item.status:<10}", f" {item.message}"))
    every = [part for line in lines for part in line]
    if _uncoloured() and _printable_ascii(every):
        # What rich would print, without importing it: a backup's summary in a cron mail.
        sys.stdout.write("".join(f"{''.join(line)}\n" for line in lines))
        return
    from rich.text import Text

    out = console()
    for item, (head, status, tail) in zip(items, lines, strict=True):
        out.print(
            Text.assemble(
                head, Text.from_markup(styled(item.status)), status[len(item.status) :], tail
            )
        )


def listing(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print aligned columns whose last one (a path) is never folded or cut: the technician
    copies it into the next command. Characters a terminal would act on (a newline in a file
    name, an escape sequence) are printed as `\\x..` escapes."""
    import click

    texts = [[_visible(cell) for cell in row] for row in [list(headers), *rows]]
    widths = [max(len(row[index]) for row in texts) for index in range(len(headers) - 1)]
    for row in texts:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


def _visible(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)
