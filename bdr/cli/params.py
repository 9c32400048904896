"""Command-line values checked where click reads them: a clear exit 2, never a crash later."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

_SNAPSHOT_ID = re.compile(r"^[0-9a-f]{4,64}$")


def snapshot_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """'latest' or a snapshot id as `bdr snapshots` lists it (hex): anything else could reach
    restic as one of its own flags (`--snapshot=--cache-dir=X`)."""
    if value is None or value == "latest" or _SNAPSHOT_ID.match(value):
        return value
    if not value.strip():
        raise click.UsageError("--snapshot is empty: give 'latest' or a snapshot id")
    raise click.BadParameter(
        f"{value!r} is not a snapshot id (hex, as bdr snapshots lists them) or 'latest'"
    )


def seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A finite, non-negative number of seconds (`nan` would wait for ever)."""
    if value is None:
        return None
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value} is not a number of seconds (0 or more)")
    return value


def _configured(ctx: click.Context, table: str) -> list[str]:
    """The names of `[table.*]` in the config this command line names, for shell completion:
    read as plain TOML (a config with an error still completes), nothing on any failure."""
    import tomllib

    from bdr.config.load import config_path

    root = ctx.find_root()
    try:
        text = config_path(root.params.get("config_option")).read_text(encoding="utf-8")
        names = tomllib.loads(text).get(table, {})
    except (OSError, ValueError):
        return []
    return sorted(names) if isinstance(names, dict) else []


Completer = Callable[[click.Context, click.Parameter, str], list["CompletionItem"]]


def _completer(table: str) -> Completer:
    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in _configured(ctx, table) if n.startswith(incomplete)]

    return complete


complete_plans = _completer("plans")
complete_drills = _completer("drills")
complete_repositories = _completer("repositories")
