"""The history's errors are the store's own: callers never see SQLite's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bdr.errors import ExitCode
from bdr.store.database import connect, reader
from bdr.store.errors import StoreBusy, StoreDamaged, StoreError


def test_a_history_held_by_another_writer_is_busy(tmp_path: Path):
    holder, waiter = connect(tmp_path), connect(tmp_path)
    holder.execute("BEGIN IMMEDIATE")
    waiter.execute("PRAGMA busy_timeout = 0")  # the history's own waits 30 s
    with pytest.raises(StoreBusy, match=f"the history in {tmp_path} is busy") as raised:
        waiter.execute("BEGIN IMMEDIATE")
    assert raised.value.exit_code is ExitCode.LOCKED
    holder.execute("ROLLBACK")


def test_a_file_that_is_not_a_database_is_damaged(tmp_path: Path):
    (tmp_path / "bdr.sqlite").write_bytes(b"not a database, " * 512)
    with reader(tmp_path) as db, pytest.raises(StoreDamaged, match="is damaged"):
        assert db is not None
        db.execute("SELECT * FROM runs").fetchall()


def test_a_programming_error_is_shown_as_it_is(tmp_path: Path):
    db = connect(tmp_path)
    with pytest.raises(sqlite3.ProgrammingError) as raised:
        db.execute("SELECT ?", (1, 2))
    assert not isinstance(raised.value, StoreError)
    assert raised.value.__cause__ is None
