"""Opening the SQLite history: WAL mode, schema migrations, salvage of a damaged one.

Every connection is a `History`, whose errors are the store's own (errors.py): nothing outside
the store knows SQLite."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from bdr.errors import BdrError
from bdr.store import salvage
from bdr.store.errors import StoreError, StoreFull, full_message, translated_error
from bdr.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

FILENAME = "bdr.sqlite"


class History(sqlite3.Connection):
    """A connection to the history in `state_dir`; SQLite's errors come out as the store's."""

    state_dir: Path

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor = self.cursor(_Cursor)
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        cursor = self.cursor(_Cursor)
        return cursor.executemany(sql, parameters)


class _Cursor(sqlite3.Cursor):
    """A cursor whose errors, as it runs a statement and as it reads rows, are the store's."""

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        try:
            super().execute(sql, parameters)
        except sqlite3.Error as error:
            self._raise(error)
        return self

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> _Cursor:
        try:
            super().executemany(sql, parameters)
        except sqlite3.Error as error:
            self._raise(error)
        return self

    # A try block, not a context manager: rows are read by the thousand (a report, a scrape).
    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as error:
            self._raise(error)

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as error:
            self._raise(error)

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as error:
            self._raise(error)

    def _raise(self, error: sqlite3.Error) -> NoReturn:
        connection = self.connection
        assert isinstance(connection, History)
        _raise_as_store_error(error, connection.state_dir)


def _raise_as_store_error(error: sqlite3.Error, state_dir: Path) -> NoReturn:
    """Raise the store's error for `error`, or `error` itself (a programming error)."""
    translated = translated_error(error, state_dir)
    if translated is None:
        raise error
    raise translated from error


def connect(state_dir: Path, *, check: bool = True) -> History:
    """Open (creating if needed) the history in `state_dir`, migrated to the current schema;
    with `check` (a process's first open), salvage it first when it is damaged.

    Raises BdrError when the directory cannot be created or the database is from a newer bdr,
    StoreFull when state_dir has no room to open it.
    """
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as error:
        raise BdrError(
            f"appliance.state_dir: cannot create {state_dir}: {error.strerror}"
        ) from None
    path = state_dir / FILENAME
    if check and path.exists():
        _check_once(path)
    try:
        try:
            connection = _open(path)
            migrate(connection, path)
        except sqlite3.Error as error:  # opening: before the connection translates its own
            _raise_as_store_error(error, state_dir)
    except StoreError as error:
        # SQLite cannot make its shared-memory file on a full disk, and says "disk I/O error".
        if not isinstance(error, StoreFull) and _no_space(state_dir):
            raise StoreFull(full_message(state_dir)) from error
        raise
    return connection


def _no_space(state_dir: Path) -> bool:
    from bdr.fsutil import free_bytes

    try:
        return free_bytes(state_dir) < 64 * 1024
    except OSError:
        return False


def _open(path: Path) -> History:
    # Autocommit: every write stands alone, so a run's start is on disk before restic starts.
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, factory=History)
    connection.state_dir = path.parent
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _check_once(path: Path) -> None:
    """Salvage a damaged history, under a lock so that two processes do it once (PRAGMA
    quick_check: ~50 ms for 100,000 runs)."""
    try:
        lock = open(path.with_name(f".{FILENAME}.salvage.lock"), "a")  # noqa: SIM115
    except OSError as error:
        # A state directory this process cannot write: opening the history says why.
        log.debug("history check skipped: %s", error)
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            connection = sqlite3.connect(path, timeout=30)
            try:
                problem = salvage.damage(connection)
            finally:
                connection.close()
        except sqlite3.OperationalError as error:
            # Not damage: a full disk, an I/O error, a lock. Moving a sound history aside for
            # it would be worse than the fault; opening it again says what is wrong.
            log.debug("history check not done: %s", error)
            problem = None
        except sqlite3.DatabaseError as error:  # not a database, malformed
            problem = str(error)
        if problem is not None:
            _recover(path, problem)


def _recover(path: Path, problem: str) -> None:
    from bdr.store import runs

    log.error("history %s is damaged: %s; moving it aside and salvaging it", path, problem)
    aside = salvage.move_aside(path)
    fresh = _open(path)
    try:
        migrate(fresh, path)
        counts, lost = salvage.copy_readable(aside, fresh)
        result = salvage.Salvage(problem, aside, counts, lost)
        run_id = runs.start_run(fresh, "history", subject=aside.name)
        runs.finish_run(fresh, run_id, runs.WARNING, error=result.summary())
    finally:
        fresh.close()
    log.error("run=%d history: %s", run_id, result.summary())


@contextlib.contextmanager
def reader(state_dir: Path) -> Iterator[History | None]:
    """Open the history read-only for one scrape or report; None when there is none yet.

    A connection of its own each time: safe in any thread, and never a writer's lock.
    """
    path = state_dir / FILENAME
    if not path.exists():
        yield None
        return
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, factory=History)
    connection.state_dir = state_dir
    connection.row_factory = sqlite3.Row
    try:
        yield connection
    finally:
        connection.close()


def _statements(script: str) -> Iterator[str]:
    """The statements of `script` one by one (executescript would commit the migration's
    transaction first); a trigger's body holds semicolons of its own."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def migrate(connection: sqlite3.Connection, path: Path | str = "history") -> None:
    """Apply the migrations this database has not seen yet, each in its own transaction."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise BdrError(
            f"{path} has schema version {version}, newer than this bdr knows ({SCHEMA_VERSION})",
            hint="upgrade bdr; a downgrade would misread the history",
        )
    for number in range(version, SCHEMA_VERSION):
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the write lock.
            current = connection.execute("PRAGMA user_version").fetchone()[0]
            if current > number:
                connection.execute("COMMIT")
                continue
            for statement in _statements(MIGRATIONS[number]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
