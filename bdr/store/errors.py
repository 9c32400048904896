"""The store's own errors: what callers catch instead of knowing SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bdr.errors import BdrError, ExitCode


class StoreError(BdrError):
    """The history could not be read or written."""


class StoreFull(StoreError):
    """appliance.state_dir has no room for the history's next write."""


class StoreBusy(StoreError):
    """Another process held the history's write lock longer than the busy timeout."""

    exit_code = ExitCode.LOCKED


class StoreDamaged(StoreError):
    """The history's file is not a sound database; the next process to open it salvages it."""


def full_message(state_dir: Path) -> str:
    """One line naming the full state directory and its free space."""
    from bdr.config.units import format_size
    from bdr.fsutil import free_bytes

    try:
        free = format_size(free_bytes(state_dir))
    except OSError:
        free = "no"
    return (
        f"appliance.state_dir {state_dir} is full ({free} free): bdr cannot write its history; "
        "free space there"
    )


def translated_error(error: sqlite3.Error, state_dir: Path) -> StoreError | None:
    """The store's error for SQLite's `error`; None for a programming error (a bug to show)."""
    text = str(error)
    if isinstance(error, sqlite3.OperationalError):
        if "is full" in text:
            return StoreFull(full_message(state_dir))
        if "locked" in text or "busy" in text:
            return StoreBusy(f"the history in {state_dir} is busy: {text}")
        return StoreError(f"the history in {state_dir} cannot be used: {text}")
    if type(error) is sqlite3.DatabaseError:  # not a database, malformed
        return StoreDamaged(f"the history in {state_dir} is damaged: {text}")
    return None
