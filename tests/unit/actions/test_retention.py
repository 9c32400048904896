"""Retention on the typed fake of restic: the policy's own answer, less the verified snapshots.

No process runs. The fake answers `forget --dry-run --json` with the groups restic 0.14 prints
and records each `forget -- IDS` it is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bdr.actions.context import Context
from bdr.actions.retention import IDS_PER_FORGET, apply_retention
from bdr.config.model import Retention
from bdr.store import judgements, runs
from bdr.store.database import connect
from bdr.store.outcomes import DrillOutcome, RetentionOutcome
from tests.unit.appliance import office_config
from tests.unit.fake_restic import FakeRestic, Reply

IDS = [f"{index:08x}" * 8 for index in range(1, 11)]  # oldest first


def dry_run(keep: list[str], remove: list[str]) -> Reply:
    group = {
        "tags": ["bdr-plan=office"],
        "keep": [{"id": sid, "short_id": sid[:8]} for sid in keep],
        "remove": [{"id": sid, "short_id": sid[:8]} for sid in remove],
    }
    return Reply(stdout=[json.dumps([group]) + "\n"])


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    config = office_config(tmp_path)
    return Context(config=config, db=connect(config.appliance.state_dir), restic=FakeRestic())


def passed_drill(ctx: Context, snapshot_id: str, kind: str = "full") -> None:
    run_id = runs.start_run(ctx.db, "drill", plan="office", repository="local", subject="d")
    outcome = DrillOutcome(drill_kind=kind, verdict="passed", snapshot_time=1.0)
    runs.finish_run(
        ctx.db, run_id, runs.OK, snapshot_id=snapshot_id[:8], outcome=outcome, snapshot_time=1.0
    )


def forgets(restic: FakeRestic) -> list[tuple[str, ...]]:
    """The ids of each `forget -- IDS` restic was asked for."""
    return [call[call.index("--") + 1 :] for call in restic.calls if "--" in call]


def test_without_a_verified_snapshot_the_policy_forgets_in_one_call(ctx: Context):
    restic = FakeRestic({"forget": lambda _: dry_run(IDS[-7:], IDS[:3])})
    ctx.restic = restic
    summary = apply_retention(ctx, "office", "local", Retention(daily=7))
    assert [call[1:3] for call in restic.calls] == [("forget", "--json")]
    assert "--dry-run" not in restic.calls[0]
    assert summary.status == runs.OK and "3 snapshot(s) forgotten" in summary.message


def test_a_verified_snapshot_the_policy_would_remove_is_kept(ctx: Context):
    passed_drill(ctx, IDS[1])
    restic = FakeRestic({"forget": lambda _: dry_run(IDS[-7:], IDS[:3])})
    ctx.restic = restic
    summary = apply_retention(ctx, "office", "local", Retention(daily=7))
    assert "--dry-run" in restic.calls[0]
    assert forgets(restic) == [(IDS[0], IDS[2])], "all the policy removes but the verified one"
    assert "kept beyond the policy, verified by a drill: " + IDS[1][:8] in summary.message
    (run,) = runs.list_runs(ctx.db)[:1]
    assert run.kind == "retention"
    outcome = runs.typed(run, RetentionOutcome).outcome
    assert outcome.forgotten == 2 and outcome.kept_verified == (IDS[1][:8],)


def test_a_verified_snapshot_gone_from_the_listing_is_noted_and_the_previous_one_kept(
    ctx: Context,
):
    passed_drill(ctx, IDS[0])
    passed_drill(ctx, "deadbeef" * 8)  # forgotten by hand since: the listing lacks it
    restic = FakeRestic({"forget": lambda _: dry_run(IDS[-7:], IDS[:3])})
    ctx.restic = restic
    summary = apply_retention(ctx, "office", "local", Retention(daily=7))
    assert forgets(restic) == [(IDS[1], IDS[2])]
    assert IDS[0][:8] in summary.message


def test_many_removals_are_forgotten_in_batches(ctx: Context):
    many = [f"{index:08x}" * 8 for index in range(1, 2 * IDS_PER_FORGET + 12)]
    passed_drill(ctx, many[-1])
    restic = FakeRestic({"forget": lambda _: dry_run(many[-1:], many[:-1])})
    ctx.restic = restic
    apply_retention(ctx, "office", "local", Retention(last=1))
    assert [len(batch) for batch in forgets(restic)] == [IDS_PER_FORGET, IDS_PER_FORGET, 10]


def suspect_judgement(snapshot_id: str, *, when: float = 100.0) -> judgements.Judgement:
    return judgements.Judgement(
        plan="office", repository="local", snapshot_id=snapshot_id, snapshot_time=when,
        run_id=None, judged_at=when, suspect=True,
        signals=({"kind": "names", "strong": True, "text": "1 new file(s)", "examples": []},),
        total=10, previous_total=10, new=1, changed=0, deleted=0, renamed=0, moved=0,
        patterns_version="test",
    )  # fmt: skip


def test_a_suspect_snapshot_holds_retention_until_it_is_cleared(ctx: Context):
    judgements.record(ctx.db, suspect_judgement(IDS[5]))
    restic = FakeRestic({"forget": lambda _: dry_run(IDS[-7:], IDS[:3])})
    ctx.restic = restic
    held = apply_retention(ctx, "office", "local", Retention(daily=7))
    assert restic.calls == [], "not even a dry run: nothing may be forgotten"
    assert held.message.startswith(f"nothing forgotten: snapshot {IDS[5][:8]} of plan office")
    assert held.outcome == RetentionOutcome(frozen_by=IDS[5][:8])
    (found,) = judgements.matching(ctx.db, IDS[5][:8])
    judgements.set_review(ctx.db, found, judgements.CLEARED, "a test", 200.0)
    resumed = apply_retention(ctx, "office", "local", Retention(daily=7))
    assert "3 snapshot(s) forgotten" in resumed.message
