"""Tables: bdr lays out a table that fits line by line (rich's own layout costs a tenth of a
second per 500 rows); rich's layout is the reference it must match character for character."""

from __future__ import annotations

import contextlib
import functools
import io
import random
from collections.abc import Sequence

import pytest
from rich.text import Text

from bdr.cli import render
from bdr.cli.render import Markup

WORDS = [
    "/srv/data",
    "a",
    "a-long-name-with-no-space-in-it-that-must-be-folded-somewhere",
    "x y z",
    "[bold]not markup[/bold]",
    "[/x]",
    "ünïcode",
    "日本語の名前",
    "",
    "-",
]


def printed(monkeypatch: pytest.MonkeyPatch, width: int, show: object) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        show()  # type: ignore[operator]
    return out.getvalue()


def by_rich(
    title: str | None, headers: Sequence[str], rows: list[list[str]], wrap: str | None
) -> None:
    cells = [
        [Text.from_markup(c if isinstance(c, Markup) else render.plain(c)) for c in row]
        for row in rows
    ]
    widest = [
        max([len(header), *(row[index].cell_len for row in cells)])
        for index, header in enumerate(headers)
    ]
    render._shared(title, headers, cells, widest, wrap, keep=True)


def random_table(rng: random.Random) -> tuple[str | None, list[str], list[list[str]], str | None]:
    headers = [f"h{index}" * rng.randint(1, 4) for index in range(rng.randint(1, 5))]
    wrap = rng.choice([None, headers[-1], headers[0]])
    rows: list[list[str]] = []
    for _ in range(rng.randint(0, 4)):
        row = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
            if header == wrap
            else rng.choice(WORDS)
            for header in headers
        ]
        if rng.random() < 0.3:
            row[0] = Markup("[green]ok[/green]")
        rows.append(row)
    return rng.choice([None, "Plans"]), headers, rows, wrap


def test_tables_that_fit_are_laid_out_as_rich_lays_them_out(monkeypatch: pytest.MonkeyPatch):
    """Both ways bdr lays a table out itself: plain lines (ASCII, piped, nothing to fold) and
    rich Text built line by line."""
    used: dict[str, int] = {"_laid_out": 0, "_plain_table": 0}

    def counting(name: str) -> None:
        original = getattr(render, name)

        def counted(*args: object, **kwargs: object) -> object:
            result = original(*args, **kwargs)
            used[name] += result is not None
            return result

        monkeypatch.setattr(render, name, counted)

    counting("_laid_out")
    counting("_plain_table")
    rng = random.Random(14)
    for _ in range(600):
        title, headers, rows, wrap = random_table(rng)
        width = rng.randint(30, 120)
        before = sum(used.values())
        ours = printed(
            monkeypatch, width, functools.partial(render.table, title, headers, rows, wrap=wrap)
        )
        if sum(used.values()) == before:
            continue  # too narrow: rich's layout shares out the width
        reference = printed(
            monkeypatch, width, functools.partial(by_rich, title, headers, rows, wrap)
        )
        assert ours == reference, (title, headers, rows, wrap, width)
    assert used["_laid_out"] > 200, "most random tables fit and are laid out by bdr"
    assert used["_plain_table"] > 50, "plain ASCII tables are laid out without rich"


def test_paths_fold_and_nothing_else_is_cut(monkeypatch: pytest.MonkeyPatch):
    path = "/srv/data/" + "x" * 80
    text = printed(
        monkeypatch,
        60,
        lambda: render.table(
            None, ["id", "time", "paths"], [["d7495d99", "12:00", path]], wrap="paths"
        ),
    )
    lines = text.splitlines()
    assert all(len(line) == 60 for line in lines)
    assert lines[3].startswith(" d7495d99  12:00  /srv/data/xxx")
    assert "".join(line[18:-1] for line in lines[3:-1]).replace(" ", "") == path
    # A name that looks like markup is printed as it is.
    shown = printed(monkeypatch, 60, lambda: render.table(None, ["name"], [["[red]x[/red]"]]))
    assert " [red]x[/red] " in shown


def test_too_narrow_for_whole_columns_every_column_folds_and_nothing_is_cut(
    monkeypatch: pytest.MonkeyPatch,
):
    """`bdr status` on an 80-column terminal: nine columns do not fit whole; the snapshot id
    the technician copies into `bdr restore` must not lose characters to an ellipsis."""
    headers = ["plan", "repository", "last run", "result", "snapshot", "age", "verified", "rpo"]
    row = ["office", "onsite", "11-26 03:03", "ok", "67c0de5a", "8h 11m ago", "8h 11m ago"]
    row += ["4h 00m"]
    headers.append("state")
    row.append("rpo exceeded")
    text = printed(monkeypatch, 80, lambda: render.table(None, headers, [row], wrap="state"))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in text
    # The id, folded: its pieces stacked in one column.
    at = next(index for index, line in enumerate(lines) if "67c0de" in line)
    start = lines[at].index("67c0de")
    assert lines[at][start:].split()[0] + lines[at + 1][start:].split()[0] == "67c0de5a"


def test_run_summaries_line_up_and_print_without_rich_as_rich_prints_them(
    monkeypatch: pytest.MonkeyPatch,
):
    from bdr.actions.summary import RunSummary
    from bdr.errors import ExitCode

    rng = random.Random(5)
    for _ in range(100):
        items = [
            RunSummary(
                run_id=1,
                kind=rng.choice(["backup", "copy", "retention", "drill"]),
                plan=rng.choice([None, "office", "[/x]"]),
                repository=rng.choice([None, "local", "cloud"]),
                status=rng.choice(["ok", "warning", "failed", "interrupted"]),
                exit_code=ExitCode.OK,
                message=" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4))),
            )
            for _ in range(rng.randint(1, 4))
        ]
        plain = printed(monkeypatch, 100, functools.partial(render.summaries, items))
        monkeypatch.setenv("TTY_COMPATIBLE", "0")  # rich's path, still without colours
        monkeypatch.setattr(render, "_uncoloured", lambda: False)
        rich = printed(monkeypatch, 100, functools.partial(render.summaries, items))
        monkeypatch.undo()
        assert plain == rich
        for item, line in zip(items, plain.splitlines(), strict=True):
            # The status starts in the same column on every line, whatever the plan's name.
            assert line[39:].startswith(item.status)
