"""Judging a backup on the typed fake of restic: when the diff runs, what a suspect verdict
does to the run, and that a judgement that cannot be made never fails the backup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bdr.actions.context import Context, recorded_run
from bdr.actions.detect import judge_backup, watch_backup
from bdr.config.ownership import canary_dir
from bdr.errors import ExitCode
from bdr.restic.messages import BackupSummary
from bdr.store import judgements, runs
from bdr.store.database import connect
from bdr.store.outcomes import BackupOutcome
from tests.unit.appliance import office_config
from tests.unit.fake_restic import FakeRestic, Reply

PREVIOUS = "a" * 64
CURRENT = "b" * 64


def summary(*, new: int = 0, changed: int = 1, unmodified: int = 99) -> BackupSummary:
    # The canary is one changed file in every backup.
    return BackupSummary(
        snapshot_id=CURRENT[:8], files_new=new, files_changed=changed,
        files_unmodified=unmodified, data_added=1, total_files_processed=new + changed + unmodified,
        total_bytes_processed=1, total_duration=1.0,
    )  # fmt: skip


def diff(*paths: tuple[str, str]) -> Reply:
    lines = [json.dumps({"message_type": "change", "path": p, "modifier": m}) for m, p in paths]
    return Reply(stdout=[line + "\n" for line in lines])


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    config = office_config(tmp_path, plan={"sources": [str(tmp_path / "srv")]})
    (tmp_path / "srv").mkdir()
    return Context(config=config, db=connect(config.appliance.state_dir), restic=FakeRestic())


def previous_backup(ctx: Context, files: int = 100) -> None:
    run_id = runs.start_run(ctx.db, "backup", plan="office", repository="local")
    runs.finish_run(ctx.db, run_id, runs.OK, snapshot_id=PREVIOUS[:8], files_processed=files)


def verbose(action: str, item: str) -> str:
    return json.dumps({"message_type": "verbose_status", "action": action, "item": item})


def judge(ctx: Context, made: BackupSummary, *said: str) -> runs.Run:
    """Judge a backup whose restic said `said` of its files (verbose status lines)."""
    plan = ctx.config.plans["office"]
    watch = watch_backup(ctx, "office", 1000.0)
    for line in said:
        assert watch is not None and watch.feed(line)
    with recorded_run(ctx, "backup", plan="office", repository="local") as record:
        record.outcome = BackupOutcome()
        record.snapshot_id = made.snapshot_id
        record.message = "snapshot made"
        judge_backup(ctx, record, "office", plan, made, 1000.0, (), watch)
    found = runs.get_run(ctx.db, record.id)
    assert found is not None
    return found


def test_the_first_backup_is_judged_without_a_diff(ctx: Context):
    run = judge(ctx, summary(new=100, changed=0, unmodified=0))
    assert ctx.restic.calls == []  # type: ignore[attr-defined]
    assert run.status == runs.OK
    (found,) = judgements.matching(ctx.db, CURRENT[:8])
    assert not found.suspect and found.previous_total == 0


def test_when_no_file_was_removed_no_diff_runs(ctx: Context, tmp_path: Path):
    previous_backup(ctx)
    edited = tmp_path / "srv" / "letter.txt"
    edited.write_text("Dear client,\n")
    run = judge(ctx, summary(changed=2, unmodified=98), verbose("modified", str(edited)))
    assert ctx.restic.calls == []  # type: ignore[attr-defined]
    assert run.status == runs.OK
    assert isinstance(run.outcome, BackupOutcome) and run.outcome.verdict == "clean"


def test_a_ransom_note_makes_the_run_a_warning_that_says_why(ctx: Context, tmp_path: Path):
    previous_backup(ctx)
    note = tmp_path / "srv" / "HOW_TO_DECRYPT.txt"
    note.write_text("pay at http://" + "a" * 56 + ".onion\n")
    own = str(canary_dir(ctx.config.appliance.state_dir, "office") / "bdr-canary.txt")
    run = judge(ctx, summary(new=1), verbose("new", str(note)), verbose("modified", own))
    assert ctx.restic.calls == []  # type: ignore[attr-defined]
    assert run.status == runs.WARNING
    assert run.exit_code == int(ExitCode.PARTIAL)
    assert run.error is not None and run.error.startswith("suspect: 1 new file(s) named as")
    (found,) = judgements.open_suspects(ctx.db, "office")
    assert [s["kind"] for s in found.signals] == ["names", "onion"]
    assert found.signals[0]["examples"] == [str(note)]


def test_many_files_removed_run_the_diff_that_tells_renames_from_deletes(ctx: Context):
    previous_backup(ctx, files=400)
    gone = [("-", f"/srv/scans/img{n}.tif") for n in range(300)]
    renamed = [("+", f"/srv/scans/img{n}.tif.x7q") for n in range(300)]
    restic = FakeRestic({"diff": lambda _: diff(*gone, *renamed)})
    ctx.restic = restic
    said = [verbose("new", path) for _, path in renamed]
    run = judge(ctx, summary(new=300, changed=1, unmodified=99), *said)
    assert restic.calls == [("restic", "diff", "--json", PREVIOUS[:8], CURRENT[:8])]
    (found,) = judgements.matching(ctx.db, CURRENT[:8])
    assert (found.renamed, found.deleted) == (300, 0)
    assert "folder-renames" in [s["kind"] for s in found.signals]
    assert run.status == runs.OK, "one weak signal: the plan has no normal yet"


def test_a_diff_restic_cannot_make_leaves_the_snapshot_unjudged_and_the_backup_ok(ctx: Context):
    previous_backup(ctx, files=400)
    ctx.restic = FakeRestic({"diff": lambda _: Reply(code=1, stderr="Fatal: no matching ID")})
    run = judge(ctx, summary(new=0, changed=1, unmodified=99))
    assert run.status == runs.OK
    assert judgements.matching(ctx.db, CURRENT[:8]) == []
    assert isinstance(run.outcome, BackupOutcome) and run.outcome.verdict is None


def test_detection_turned_off_judges_nothing(tmp_path: Path):
    config = office_config(tmp_path, detection={"enabled": False})
    ctx = Context(config=config, db=connect(config.appliance.state_dir), restic=FakeRestic())
    previous_backup(ctx)
    judge(ctx, summary(new=5))
    assert judgements.matching(ctx.db, CURRENT[:8]) == []
