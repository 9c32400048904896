"""Command-line values checked where click reads them: a clear exit 2, never a crash later."""

from __future__ import annotations

import math
import re

import click

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
