"""What the actions may ask of restic: the one seam between bdr and the binary.

`runner.Restic` is the implementation; the unit tests drive drills, retention, shutdown and
the daemon through a typed fake of the same protocol. Nothing here knows the config: a command
is an argv from `argv.py` and a `ResticEnv` made from the `RepositoryAccess` restic/ owns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bdr.restic.environment import ResticEnv
from bdr.restic.result import Result
from bdr.restic.supervisor import Supervisor
from bdr.restic.version import Features

LineSink = Callable[[str], None]


class Running(Protocol):
    """A restic command started beside the caller's own (a listing beside a restore)."""

    def result(self) -> Result:
        """Wait for the command; return its Result or raise what it raised."""
        ...

    def stop(self) -> None:
        """Stop the command as Ctrl-C would, if it still runs, and wait for it."""
        ...


class ResticGateway(Protocol):
    features: Features
    supervisor: Supervisor

    def args(
        self, builder: Callable[..., tuple[str, ...]], *a: object, **kw: object
    ) -> tuple[str, ...]:
        """The argv of `builder` for this binary and cache directory."""
        ...

    def run(
        self,
        args: tuple[str, ...],
        env: ResticEnv,
        *,
        on_line: LineSink | None = None,
        on_start: Callable[[int], None] | None = None,
        unlock_retry: bool = True,
        keep_stdout: bool = True,
    ) -> Result:
        """Run restic to its end (one retry after `restic unlock` when it found a lock)."""
        ...

    def retry_if_locked(
        self,
        result: Result,
        args: tuple[str, ...],
        env: ResticEnv,
        on_line: LineSink | None = None,
        on_start: Callable[[int], None] | None = None,
        keep_stdout: bool = True,
    ) -> Result:
        """`result`, or the result of `args` run again after `restic unlock`."""
        ...

    def start(
        self, args: tuple[str, ...], env: ResticEnv, *, on_line: LineSink | None = None
    ) -> Running:
        """Start restic beside the caller's own restic."""
        ...
