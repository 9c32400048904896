"""`bdr prune [REPOSITORY]`: restic prune, on its own schedule, off the backup path.

Retention after a backup only forgets snapshots (cheap); freeing their data means repacking
the repository, which takes long and holds an exclusive lock: it runs as its own job, weekly
by default (`[repositories.X] prune_schedule`), with restic's `--max-unused`.
"""

from __future__ import annotations

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.config.units import format_size
from bdr.errors import UsageError
from bdr.restic import argv as build
from bdr.restic.messages import pruned_bytes
from bdr.restic.result import require_ok
from bdr.store.outcomes import PruneOutcome


def pruned_repositories(ctx: Context, repository: str | None) -> list[str]:
    """The repositories `bdr prune [REPOSITORY]` prunes: the one named, else every one a plan
    with a retention policy writes to."""
    if repository is not None:
        _refuse_append_only(ctx, repository)
        return [repository]
    return ctx.config.pruned_repositories()


def _refuse_append_only(ctx: Context, repository: str) -> None:
    """restic 0.14 retries a deletion an append-only server refuses for ~45 s, then fails
    with a stack trace: bdr never starts one there."""
    if ctx.repository(repository).append_only:
        raise UsageError(
            f"repositories.{repository} is append_only: the appliance may not delete there; "
            "its retention and prune run on the MSP's steward"
        )


def prune_repository(ctx: Context, repository: str) -> RunSummary:
    _refuse_append_only(ctx, repository)
    settings = ctx.repository(repository)
    with (
        recorded_run(ctx, "prune", repository=repository) as record,
        ctx.lock(repository, purpose=f"prune of {repository}"),
    ):
        record.outcome = PruneOutcome(max_unused=settings.max_unused)
        ctx.say(f"pruning {repository}")
        result = require_ok(
            ctx.restic.run(
                ctx.restic.args(build.prune, max_unused=settings.max_unused),
                ctx.env(repository),
            ),
            f"prune of {repository}",
        )
        freed = pruned_bytes(result.stdout)
        record.outcome = PruneOutcome(freed_bytes=freed, max_unused=settings.max_unused)
        record.message = "pruned" + (f", {format_size(freed)} freed" if freed is not None else "")
    return RunSummary.of(record)
