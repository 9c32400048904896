"""After each backup: judge the new snapshot clean or suspect of ransomware (bdr/detection).

What is read: what restic says of each file as it backs it up (new, modified: `watch_backup`
is the backup's line reader), restic's summary, `restic diff` against the plan's previous
snapshot only when enough files were removed for their paths to matter, the first bytes of
an even sample of the new and modified files from the live source, and the plan's decoys. A
suspect snapshot makes the backup run a warning (exit 3) with reason `suspect: ...`; its
problem, the retention hold and the last clean restore point follow from the judgement
stored here.

Judging never fails a backup: a diff restic cannot make is logged and the snapshot stays
unjudged (the run's message says so).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bdr.actions.context import DEFERRED, Context, RunRecord
from bdr.config.model import Config, Detection, Plan
from bdr.config.ownership import canary_dir
from bdr.detection import changes as diffs
from bdr.detection import content, names, score
from bdr.detection.watch import BackupWatch
from bdr.errors import BdrError, ExitCode, RunTimedOut
from bdr.fsutil import read_head
from bdr.restic import argv as build
from bdr.restic.messages import BackupSummary
from bdr.restic.result import require_ok
from bdr.store import backups, judgements, runs
from bdr.store.errors import StoreError
from bdr.store.outcomes import BackupOutcome

log = logging.getLogger(__name__)


def settings_of(detection: Detection) -> score.Settings:
    return score.Settings(
        sample_files=detection.sample_files,
        sample_bytes=detection.sample_bytes,
        baseline_backups=detection.baseline_backups,
        k=detection.sensitivity,
        min_count=detection.min_files,
    )


def watch_backup(ctx: Context, name: str, started: float) -> BackupWatch | None:
    """The reader of the backup's per-file messages, or None when detection is off."""
    detection = ctx.config.detection
    if not detection.enabled:
        return None
    try:
        patterns = names.shipped(detection.extra_patterns)
    except OSError as error:  # an installation that lost its data file: back up all the same
        log.error("plan %s: not judged for ransomware: bdr's list of names: %s", name, error)
        return None
    return BackupWatch(
        patterns,
        detection.sample_files,
        seed=f"{name}:{started}",
        ignore=_own_prefix(ctx.config, name),
    )


def judge_backup(
    ctx: Context,
    record: RunRecord,
    name: str,
    plan: Plan,
    summary: BackupSummary,
    started: float,
    decoys_touched: tuple[str, ...],
    watch: BackupWatch | None,
) -> None:
    """Judge the snapshot the backup `record` made, store the verdict, and make the run a
    warning when it is suspect."""
    if watch is None:
        return
    if record.id == DEFERRED:
        log.warning("plan %s: snapshot %s not judged: state_dir is full", name, summary.snapshot_id)
        return
    try:
        verdict = _verdict(ctx, record.id, name, plan, summary, decoys_touched, watch)
        judgements.record(
            ctx.db,
            judgements.Judgement(
                plan=name,
                repository=plan.repository,
                snapshot_id=summary.snapshot_id,
                snapshot_time=started,
                run_id=record.id,
                judged_at=ctx.now(),
                suspect=verdict.suspect,
                signals=tuple(_signal_json(signal) for signal in verdict.signals),
                total=verdict.counts.total,
                previous_total=verdict.counts.previous_total,
                new=verdict.counts.new,
                changed=verdict.counts.changed,
                deleted=verdict.counts.deleted,
                renamed=verdict.counts.renamed,
                moved=verdict.counts.moved,
                patterns_version=watch.patterns.version,
            ),
        )
    except RunTimedOut:
        raise
    except (BdrError, StoreError, OSError) as error:
        log.error("plan %s: snapshot %s not judged: %s", name, summary.snapshot_id, error)
        record.message += f"; not judged for ransomware: {error}"
        return
    assert isinstance(record.outcome, BackupOutcome)
    record.outcome = replace(
        record.outcome,
        verdict="suspect" if verdict.suspect else "clean",
        suspect_reason=verdict.reason if verdict.suspect else None,
    )
    if verdict.suspect:
        record.status = runs.WARNING
        record.exit_code = int(ExitCode.PARTIAL)
        reason = f"suspect: {verdict.reason}"
        record.error = f"{reason}; {record.error}" if record.error else reason
        log.warning("plan %s: snapshot %s %s", name, summary.snapshot_id, reason)


def _verdict(
    ctx: Context,
    run_id: int,
    name: str,
    plan: Plan,
    summary: BackupSummary,
    decoys_touched: tuple[str, ...],
    watch: BackupWatch,
) -> score.Verdict:
    settings = settings_of(ctx.config.detection)
    found = backups.previous(ctx.db, name, plan.repository, before_run=run_id)
    previous = found.run if found else None
    made = score.Summary(
        total=summary.total_files_processed,
        previous_total=previous.files_processed or 0 if previous else 0,
        new=summary.files_new,
        changed=summary.files_changed,
        unmodified=summary.files_unmodified,
    )
    history = judgements.recent_clean(ctx.db, name, plan.repository, settings.baseline_backups)
    facts = score.Facts(
        summary=made,
        compared=previous is not None,
        name_hits=tuple(watch.name_hits),
        name_hit_count=watch.name_hit_count,
        decoys_touched=decoys_touched,
        history=tuple(score.Rates.of(_counts(j)) for j in history),
    )
    if previous is None or not previous.snapshot_id:
        return score.judge(facts, settings)
    removed = None
    if score.needs_diff(made, settings):
        changes = _diff(ctx, plan.repository, previous.snapshot_id, summary.snapshot_id)
        removed = _without_bdrs_own(ctx.config, name, changes)
    facts = replace(
        facts,
        removed=removed,
        inspections=_inspect(watch.sample, settings.sample_bytes),
        population=watch.added + watch.modified,
    )
    return score.judge(facts, settings)


def _counts(judgement: judgements.Judgement) -> score.Counts:
    return score.Counts(
        total=judgement.total,
        previous_total=judgement.previous_total,
        new=judgement.new,
        changed=judgement.changed,
        deleted=judgement.deleted,
        renamed=judgement.renamed,
        moved=judgement.moved,
    )


def _diff(ctx: Context, repository: str, previous: str, current: str) -> diffs.Changes:
    reader = diffs.DiffReader()
    result = ctx.restic.run(
        ctx.restic.args(build.diff, previous, current),
        ctx.env(repository),
        on_line=reader.feed,
        keep_stdout=False,
    )
    require_ok(result, f"diff of snapshots {previous[:8]} and {current[:8]} in {repository}")
    return reader.changes()


def _own_prefix(config: Config, plan: str) -> str:
    """The path prefix of bdr's own files in the plan's snapshots (its canary's folder)."""
    return str(canary_dir(config.appliance.state_dir, plan)) + "/"


def _without_bdrs_own(config: Config, plan: str, changes: diffs.Changes) -> diffs.Changes:
    """The changes less bdr's own files: the canary is new content in every backup."""
    own = _own_prefix(config, plan)

    def keep(paths: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(path for path in paths if not path.startswith(own))

    return diffs.Changes(keep(changes.added), keep(changes.removed), keep(changes.modified))


def _inspect(sample: list[tuple[str, bool]], limit: int) -> tuple[content.Inspection, ...]:
    """Each sampled file's first bytes, read from the live source (a file gone since the
    backup, or one restic named in bytes that are not UTF-8, is left out). An onion address
    counts only in a new file: a ransom note is written, not edited."""
    found: list[content.Inspection] = []
    for path, new in sample:
        head = read_head(path, limit)
        if head is None:
            continue
        inspection = content.inspect(path, head)
        if inspection.onion and not new:
            inspection = replace(inspection, onion=False)
        found.append(inspection)
    return tuple(found)


def _signal_json(signal: score.Signal) -> dict[str, object]:
    return {
        "kind": signal.kind,
        "strong": signal.strong,
        "text": signal.text,
        "examples": list(signal.examples),
    }
