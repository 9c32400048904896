"""`bdr check`: `restic check --read-data-subset=n/t`, rotating n so every pack is read per cycle.

n advances after every check, failed or not: a damaged pack in one subset must not stop the
rest of the cycle from being read. Coverage counts only subsets read without error.
"""

from __future__ import annotations

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.errors import BdrError
from bdr.restic import argv as build
from bdr.restic.messages import json_objects
from bdr.restic.outcome import Outcome
from bdr.restic.runner import require_ok
from bdr.store import runs

DEFAULT_CYCLE = 30
MAX_ERROR_LINES = 20
# restic's progress and phase lines, which say nothing about what is wrong.
_ROUTINE = (
    "[",
    "using temporary",
    "load ",
    "check ",
    "create ",
    "read ",
    "no errors",
    "Fatal:",
)


def checks_to_run(ctx: Context, repository: str | None) -> dict[str, int]:
    """Return {repository: read cycle} for `bdr check [REPOSITORY]`."""
    configured = {check.repository: check.read_data_cycle for check in ctx.config.checks.values()}
    if repository is not None:
        ctx.repository(repository)
        return {repository: configured.get(repository, DEFAULT_CYCLE)}
    return configured or dict.fromkeys(ctx.config.repositories, DEFAULT_CYCLE)


def read_coverage(ctx: Context, repository: str, cycle: int, *, current: int) -> float:
    """Return the fraction of the cycle read without error: `current` and the last runs'."""
    done = {current} | {
        run.details.get("subset")
        for run in runs.finished_runs(ctx.db, "check", repository=repository, limit=cycle - 1)
        if run.status == runs.OK and run.details.get("cycle") == cycle
    }
    return len(done) / cycle


def check_repository(ctx: Context, repository: str, cycle: int) -> RunSummary:
    """Check `repository` and read its next subset of packs; record coverage and errors."""
    with (
        recorded_run(ctx, "check", repository=repository) as record,
        ctx.lock(repository, purpose=f"check of {repository}"),
    ):
        subset = runs.next_check_subset(ctx.db, repository, cycle)
        record.details.update(subset=subset, cycle=cycle)
        ctx.say(f"checking {repository}, reading pack subset {subset}/{cycle}")
        result = ctx.restic.run(ctx.restic.args(build.check, subset, cycle), ctx.env(repository))
        runs.advance_check_subset(ctx.db, repository, subset, cycle)
        record.details["restic_exit_code"] = result.exit_code
        if result.outcome not in (Outcome.FAILED, Outcome.DAMAGED):
            require_ok(result, f"check of {repository}")
        else:
            # restic 0.14 writes what it found to stderr, newer versions partly to stdout.
            lines = [*result.stdout, *result.stderr_tail.splitlines()]
            errors = [
                line.strip()
                for line in lines
                if line.strip()
                and not line.startswith(_ROUTINE)
                and "repository contains errors" not in line
            ]
            record.details["errors"] = errors[:MAX_ERROR_LINES]
            first = errors[0] if errors else result.error_text()
            raise BdrError(f"check of {repository} found errors: {first}")
        size = _stored_size(ctx, repository)
        if size is not None:
            record.details["repository_size_bytes"] = size
        coverage = read_coverage(ctx, repository, cycle, current=subset)
        record.details["coverage"] = coverage
        record.message = f"no errors; read subset {subset}/{cycle}; cycle coverage {coverage:.0%}"
    return RunSummary.of(record)


def _stored_size(ctx: Context, repository: str) -> int | None:
    """Measure the repository for bdr_repository_size_bytes; the check already holds the lock."""
    result = ctx.restic.run(ctx.restic.args(build.stats_raw), ctx.env(repository))
    for data in json_objects(result.stdout) if result.ok else []:
        if isinstance(data, dict) and isinstance(data.get("total_size"), int):
            return int(data["total_size"])
    return None
