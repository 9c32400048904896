"""A drill's application checks: argv lists run on the restored data, locally or over SSH."""

from __future__ import annotations

import time
from pathlib import Path

from bdr.actions.commands import CommandProblem, Completed, run_command
from bdr.config.model import AppCheck, Remote
from bdr.config.ownership import resolve_source
from bdr.errors import BdrError
from bdr.restic.environment import redact
from bdr.store.outcomes import AppCheckResult

OUTPUT_TAIL = 300


def expand(argument: str, scratch: Path, sources: list[str]) -> str:
    """Replace {restore} (the plan's first source, as restored) and {root} (the scratch root)."""
    restored_source = scratch / resolve_source(sources[0]).lstrip("/")
    return argument.replace("{restore}", str(restored_source)).replace("{root}", str(scratch))


def expected_output(stdout: str, expect: str | None) -> bool:
    """A check passes its `expect` when one line of its output is exactly that text."""
    if expect is None:
        return True
    return any(line.strip() == expect.strip() for line in stdout.splitlines())


def run_checks(
    checks: list[AppCheck],
    remotes: dict[str, Remote],
    scratch: Path,
    sources: list[str],
    secrets: frozenset[str] = frozenset(),
) -> tuple[AppCheckResult, ...]:
    """Run each check in order and return what each gave; what a check printed is kept as a
    bounded tail with `secrets` masked (it goes to the history, reports and notifications)."""
    results = []
    for index, check in enumerate(checks):
        argv = [expand(argument, scratch, sources) for argument in check.run]
        started = time.monotonic()
        problem = _run_check(check, remotes, argv)
        problem = None if problem is None else redact(problem, secrets)
        results.append(
            AppCheckResult(
                check=f"checks.{index} ({' '.join(check.run)})",
                ok=problem is None,
                problem=problem,
                seconds=time.monotonic() - started,
            )
        )
    return tuple(results)


def _run_check(check: AppCheck, remotes: dict[str, Remote], argv: list[str]) -> str | None:
    """Run one application check; return None when it passed, else what went wrong."""
    if check.remote is not None:
        from bdr.remote.ssh import run_remote

        try:
            remote = run_remote(check.remote, remotes[check.remote], argv, timeout=check.timeout)
        except BdrError as error:
            return error.message
        completed = Completed(remote.exit_code, remote.stdout, remote.stderr)
    else:
        try:
            completed = run_command(argv, timeout=check.timeout)
        except CommandProblem as problem:
            return str(problem)
    failure = completed.failure()
    if failure is not None:
        return failure
    if not expected_output(completed.stdout, check.expect):
        return f"printed {completed.stdout.strip()[-OUTPUT_TAIL:]!r}, expected {check.expect!r}"
    return None
