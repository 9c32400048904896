"""`bdr backup`: per plan, preflight, hooks, canary, restic backup, then copy and retention.

Each of backup, copy and forget/prune is its own run in the history. A failed copy (the cloud
is down) fails only the copy run: the local snapshot stands and the next copy catches up,
since `restic copy` skips what the target already has.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

from bdr.actions import decoys
from bdr.actions.canary import renew_canary
from bdr.actions.context import (
    Context,
    RunRecord,
    load_run_end,
    record_latest_snapshot,
    recorded_run,
)
from bdr.actions.copy import copy_plan
from bdr.actions.detect import judge_backup, watch_backup
from bdr.actions.hooks import run_hooks
from bdr.actions.retention import apply_retention
from bdr.actions.summary import RunSummary
from bdr.config.model import Plan
from bdr.config.ownership import backup_set
from bdr.errors import BdrError, ExitCode, RepositoryDamaged
from bdr.fsnames import shown
from bdr.restic import argv as build
from bdr.restic.environment import every_secret
from bdr.restic.messages import BackupSummary, ItemError, backup_messages
from bdr.restic.outcome import Outcome
from bdr.restic.result import require_ok
from bdr.store import runs
from bdr.store.outcomes import BackupOutcome, SourcePath

MAX_NAMED_ERRORS = 20


def missing_sources(sources: list[str]) -> list[str]:
    """Return the sources that do not exist (restic 0.14 would silently skip some of them).

    A symlink whose target is gone is missing too: it is the target that is backed up.
    """
    return [source for source in sources if not os.path.exists(source)]


def backup_plans(ctx: Context, plans: dict[str, Plan]) -> list[RunSummary]:
    """Back up each plan, copy it to its other tiers (unless they are copied on a
    copy_schedule of their own) and apply its retention to the tiers it reached."""
    summaries: list[RunSummary] = []
    for name, plan in plans.items():
        backup = backup_plan(ctx, name, plan)
        summaries.append(backup)
        if backup.status not in (runs.OK, runs.WARNING):
            continue
        tiers = ctx.config.retained_tiers(plan)
        if plan.copy_schedule is None:
            summaries += [copy_plan(ctx, name, plan.repository, t) for t in plan.copy_to]
        else:
            tiers = [tier for tier in tiers if tier == plan.repository]
        summaries += _retentions(ctx, name, plan, tiers)
    return summaries


def copy_tiers(ctx: Context, name: str, plan: Plan) -> list[RunSummary]:
    """The copy job of a plan with a copy_schedule: copy its snapshots to each copy_to tier,
    then apply its retention there."""
    summaries = [copy_plan(ctx, name, plan.repository, target) for target in plan.copy_to]
    tiers = [tier for tier in ctx.config.retained_tiers(plan) if tier != plan.repository]
    return summaries + _retentions(ctx, name, plan, tiers)


def _retentions(ctx: Context, name: str, plan: Plan, tiers: list[str]) -> list[RunSummary]:
    """The plan's retention on each of `tiers`, each by its own policy or the plan's."""
    found = []
    for tier in tiers:
        policy = plan.retention_of(tier)
        if policy is not None:
            found.append(apply_retention(ctx, name, tier, policy))
    return found


def backup_plan(ctx: Context, name: str, plan: Plan) -> RunSummary:
    """Run one backup of plan `name` into its own repository and return its summary."""
    with (
        recorded_run(ctx, "backup", plan=name, repository=plan.repository) as record,
        ctx.plan_lock(name, purpose=f"backup of plan {name}"),
        ctx.lock(plan.repository, purpose=f"backup of plan {name}", exclusive=False),
    ):
        if plan.before:
            secrets = every_secret(ctx.config.repositories.values())
            run_hooks(
                plan.before, timeout=plan.hook_timeout, where=f"plans.{name}", secrets=secrets
            )
        missing = missing_sources(plan.sources)
        record.outcome = BackupOutcome(missing_sources=tuple(missing))
        if len(missing) == len(plan.sources):
            raise BdrError(f"plans.{name}.sources: none of the sources exist: {', '.join(missing)}")
        state_dir = ctx.config.appliance.state_dir
        canary = renew_canary(state_dir, name)
        # Resolved after the hooks, which may mount or link a source.
        selection = backup_set(ctx.config, name, plan)
        present = [s for s in selection.sources if s.configured not in missing]
        decoys_touched = _tend_decoys(state_dir, name, plan, [s.backed_up for s in present])
        outcome = replace(
            record.outcome,
            canary_sha256=canary.sha256,
            canary_path=str(canary.path),
            sources=tuple(SourcePath(s.configured, s.backed_up) for s in present),
            automatic_excludes=selection.automatic,
        )
        record.outcome = outcome
        started = ctx.now()
        watch = watch_backup(ctx, name, started)
        kept: list[str] = []  # restic's messages but the per-file ones, which `watch` reads

        def on_line(line: str) -> None:
            if watch is None or not watch.feed(line):
                kept.append(line)

        ctx.say(f"backing up plan {name} into {plan.repository}")
        result = ctx.restic.run(
            ctx.restic.args(
                build.backup,
                [*(s.backed_up for s in present), selection.canary_dir],
                plan=name,
                excludes=selection.excludes,
                each_file=watch is not None,
            ),
            ctx.env(plan.repository),
            on_start=load_run_end,
            on_line=on_line,
            keep_stdout=False,
        )
        outcome = record.outcome = replace(outcome, restic_exit_code=result.exit_code)
        summary: BackupSummary | None = None
        item_errors: list[ItemError] = []
        for message in backup_messages([*kept, *result.stderr_json]):
            if isinstance(message, BackupSummary):
                summary = message
            elif isinstance(message, ItemError):
                item_errors.append(message)
        if summary is None or result.outcome not in (Outcome.OK, Outcome.PARTIAL):
            require_ok(result, f"backup of plan {name}")
            raise BdrError(f"backup of plan {name}: restic reported no snapshot")
        _record_summary(record, outcome, summary, item_errors)
        damage = repository_side(item_errors)
        if damage:
            first = damage[0]
            raise RepositoryDamaged(
                f"backup of plan {name}: the repository {plan.repository} may be damaged: restic "
                f"could not read its own data while archiving {shown(first.item)}, which bdr "
                f"reads well ({len(damage)} such error(s)); snapshot {summary.snapshot_id} may "
                f"be incomplete and is not counted as the newest; run `bdr check {plan.repository}`"
            )
        record_latest_snapshot(ctx, record, name, plan.repository, summary.snapshot_id, started)
        _judge_partial(record, result.outcome, missing, item_errors)
        record.message = (
            f"snapshot {summary.snapshot_id}: {summary.total_files_processed} files, "
            f"{summary.total_bytes_processed} bytes processed, {summary.data_added} bytes added"
        )
        judge_backup(ctx, record, name, plan, summary, started, decoys_touched, watch)
    return RunSummary.of(record)


def _tend_decoys(state_dir: Path, name: str, plan: Plan, roots: list[str]) -> tuple[str, ...]:
    """The plan's decoys touched since the last backup; fresh ones planted where theirs are
    free (removed, unchanged, when the plan's `decoys` was turned off)."""
    if not plan.decoys:
        decoys.remove(state_dir, name)
        return ()
    touched = decoys.check(state_dir, name, roots)
    decoys.plant(state_dir, name, roots)
    return touched


# Words of restic's own data in an error's text: what failed is the repository, not a file.
_REPOSITORY_WORDS = ("blob", "tree", "pack", "index")


def repository_side(errors: list[ItemError]) -> list[ItemError]:
    """The errors restic reported on paths bdr reads itself, with no reason of the file system
    (restic 0.14 says `"error":{}` when it cannot load the parent snapshot's trees, as with a
    deleted index) or a reason about restic's own data: the repository's, not the client's."""
    return [
        error
        for error in errors
        if (not error.message or any(w in error.message.lower() for w in _REPOSITORY_WORDS))
        and _readable(error.item)
    ]


def _readable(path: str) -> bool:
    """Whether bdr reads `path` (a directory's entries, a regular file's first byte); a FIFO or
    a device is never opened."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            os.listdir(path)
        elif stat.S_ISREG(info.st_mode):
            with open(path, "rb") as handle:
                handle.read(1)
        else:
            return False
    except (OSError, ValueError):
        return False
    return True


def _record_summary(
    record: RunRecord, outcome: BackupOutcome, summary: BackupSummary, errors: list[ItemError]
) -> None:
    record.snapshot_id = summary.snapshot_id
    record.bytes_added = summary.data_added
    record.bytes_processed = summary.total_bytes_processed
    record.files_processed = summary.total_files_processed
    record.outcome = replace(
        outcome,
        files_new=summary.files_new,
        files_changed=summary.files_changed,
        restic_duration=summary.total_duration,
        unreadable=tuple(f"{error.item}: {error.message}" for error in errors[:MAX_NAMED_ERRORS]),
        unreadable_count=len(errors),
    )


def _judge_partial(
    record: RunRecord, outcome: Outcome, missing: list[str], errors: list[ItemError]
) -> None:
    """Mark the run as a warning when sources were missing or files unreadable."""
    problems = []
    if missing:
        problems.append(f"missing source{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if errors or outcome is Outcome.PARTIAL:
        first = f" (first: {errors[0].item})" if errors else ""
        problems.append(f"{len(errors) or 'some'} file(s) could not be read{first}")
    if problems:
        record.status = runs.WARNING
        record.error = "partial backup: " + "; ".join(problems)
        record.exit_code = int(ExitCode.PARTIAL)
