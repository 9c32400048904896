"""Running a plan's `before` hooks: argv lists, no shell, each with a timeout."""

from __future__ import annotations

import shlex

from bdr.actions.commands import CommandProblem, run_command
from bdr.errors import BdrError
from bdr.restic.environment import redact


class HookFailed(BdrError):
    pass


def run_hooks(
    hooks: list[list[str]],
    *,
    timeout: float,
    where: str,
    secrets: frozenset[str] = frozenset(),
) -> None:
    """Run each hook in order; raise HookFailed naming the first that fails, with the tail of
    its output (`secrets` masked: it is kept in the history and notified)."""
    for index, argv in enumerate(hooks):
        label = f"{where}.before.{index} ({shlex.join(argv)})"
        try:
            failure = run_command(argv, timeout=timeout).failure()
        except CommandProblem as problem:
            raise HookFailed(redact(f"{label}: {problem}", secrets)) from None
        if failure is not None:
            raise HookFailed(redact(f"{label}: {failure}", secrets))
