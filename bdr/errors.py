"""The exit codes of every bdr command, and the errors that carry them.

One table, shared by the CLI and the daemon, so that scripts and monitoring can rely on it:

| code | meaning                                            |
|------|----------------------------------------------------|
| 0    | ok                                                 |
| 1    | failed                                             |
| 2    | usage or configuration error                       |
| 3    | partial: done, with a warning (unreadable files)   |
| 4    | drill failed (data, RTO, check) or RTO not proven  |
| 5    | repository locked or busy                          |
| 6    | repository missing, wrong password, or damaged     |
| 130  | interrupted by Ctrl-C (SIGINT)                     |
| 143  | stopped by SIGTERM                                 |
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    PARTIAL = 3
    DRILL_FAILED = 4
    LOCKED = 5
    REPOSITORY = 6
    INTERRUPTED = 130
    TERMINATED = 143


class BdrError(Exception):
    """An error meant for a person: one line, an optional hint, and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(BdrError):
    """The configuration is invalid; `problems` holds every problem found, each with a key path."""

    exit_code = ExitCode.USAGE

    def __init__(self, problems: list[str], *, source: str) -> None:
        self.problems = problems
        self.source = source
        count = len(problems)
        super().__init__(f"{source}: {count} configuration error{'s' if count != 1 else ''}")


class UsageError(BdrError):
    exit_code = ExitCode.USAGE


class RepositoryBusyError(BdrError):
    exit_code = ExitCode.LOCKED


class RunTimedOut(BdrError):
    """A run took longer than its `appliance.max_run_time`: its restic was stopped."""


class RepositoryDamaged(BdrError):
    """restic could not read the repository's own data (a deleted index, a lost tree)."""

    exit_code = ExitCode.REPOSITORY


class RepositoryAccessError(BdrError):
    """The repository does not exist, or does not open with the configured password."""

    exit_code = ExitCode.REPOSITORY


class Interrupted(BaseException):
    """bdr was asked to stop (SIGTERM, or the daemon shutting down a run).

    Like KeyboardInterrupt it is not an ordinary error: runs end as `interrupted`, not failed.
    """


def interrupted_by(stop: BaseException) -> str:
    """What a run stopped by `stop` (KeyboardInterrupt or Interrupted) says of it."""
    if isinstance(stop, KeyboardInterrupt):
        return "interrupted by Ctrl-C (SIGINT)"
    text = str(stop)
    if not text:
        return "interrupted by a signal"
    return text if text.startswith("interrupted") else f"interrupted: {text}"


def worst(codes: list[ExitCode]) -> ExitCode:
    """Return the code that should end a command made of several runs.

    A failure outranks a lock, which outranks a repository problem, which outranks a warning:
    the technician must see the most serious thing first.
    """
    order = [
        ExitCode.FAILED,
        ExitCode.DRILL_FAILED,
        ExitCode.LOCKED,
        ExitCode.REPOSITORY,
        ExitCode.PARTIAL,
        ExitCode.USAGE,
        ExitCode.OK,
    ]
    present = set(codes)
    for code in order:
        if code in present:
            return code
    return ExitCode.OK


def unknown_name(what: str, name: str, known: Iterable[str]) -> UsageError:
    """The error for a plan, drill or repository name the config does not have: the names it
    has, and the one a typo most likely meant."""
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    return UsageError(
        f"no {what} named {name!r} (configured: {', '.join(names) or 'none'})"
        + (f"; did you mean {close[0]!r}?" if close else "")
    )
