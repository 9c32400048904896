"""`bdr check`: `restic check --read-data-subset=n/t`, rotating n so every pack is read per cycle.

n advances after every check, failed or not: a damaged pack in one subset must not stop the
rest of the cycle from being read. Coverage counts only subsets read without error.
"""

from __future__ import annotations

from dataclasses import replace

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.errors import BdrError
from bdr.restic import argv as build
from bdr.restic.messages import check_errors, stats_total_size
from bdr.restic.outcome import Outcome
from bdr.restic.result import require_ok
from bdr.store import checks
from bdr.store.outcomes import CheckOutcome

DEFAULT_CYCLE = 30
MAX_ERROR_LINES = 20


def checks_to_run(ctx: Context, repository: str | None) -> dict[str, int]:
    """Return {repository: read cycle} for `bdr check [REPOSITORY]`."""
    configured = {check.repository: check.read_data_cycle for check in ctx.config.checks.values()}
    if repository is not None:
        ctx.repository(repository)
        return {repository: configured.get(repository, DEFAULT_CYCLE)}
    return configured or dict.fromkeys(ctx.config.repositories, DEFAULT_CYCLE)


def read_coverage(ctx: Context, repository: str, cycle: int, *, current: int) -> float:
    """Return the fraction of the cycle read without error: `current` and the last runs'."""
    done = {current} | checks.subsets_read(ctx.db, repository, cycle, limit=cycle - 1)
    return len(done) / cycle


def check_repository(ctx: Context, repository: str, cycle: int) -> RunSummary:
    """Check `repository` and read its next subset of packs; record coverage and errors."""
    with (
        recorded_run(ctx, "check", repository=repository) as record,
        ctx.lock(repository, purpose=f"check of {repository}"),
    ):
        subset = checks.next_subset(ctx.db, repository, cycle)
        outcome = record.outcome = CheckOutcome(subset=subset, cycle=cycle)
        ctx.say(f"checking {repository}, reading pack subset {subset}/{cycle}")
        result = ctx.restic.run(ctx.restic.args(build.check, subset, cycle), ctx.env(repository))
        checks.advance_subset(ctx.db, repository, subset, cycle)
        outcome = record.outcome = replace(outcome, restic_exit_code=result.exit_code)
        if result.outcome not in (Outcome.FAILED, Outcome.DAMAGED):
            require_ok(result, f"check of {repository}")
        else:
            # restic 0.14 writes what it found to stderr, newer versions partly to stdout.
            errors = check_errors([*result.stdout, *result.stderr_tail.splitlines()])
            record.outcome = replace(outcome, errors=tuple(errors[:MAX_ERROR_LINES]))
            first = errors[0] if errors else result.error_text()
            raise BdrError(f"check of {repository} found errors: {first}")
        size = _stored_size(ctx, repository)
        coverage = read_coverage(ctx, repository, cycle, current=subset)
        record.outcome = replace(outcome, repository_size_bytes=size, coverage=coverage)
        record.message = f"no errors; read subset {subset}/{cycle}; cycle coverage {coverage:.0%}"
    return RunSummary.of(record)


def _stored_size(ctx: Context, repository: str) -> int | None:
    """Measure the repository for bdr_repository_size_bytes; the check already holds the lock."""
    result = ctx.restic.run(ctx.restic.args(build.stats_raw), ctx.env(repository))
    return stats_total_size(result.stdout) if result.ok else None
