"""`bdr suspect`: the snapshots judged suspect of ransomware, and a technician's review.

`clear` says the judgement was wrong (a false positive): the snapshot counts as clean again,
the plan's normal learns from it, and the retention hold ends when no other is open.
`confirm` says it was right: the snapshot stays suspect and the hold stays. Each review is a
run in the history and a record of the evidence chain, with the technician's note.
"""

from __future__ import annotations

from dataclasses import dataclass

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.errors import UsageError
from bdr.store import judgements, verified
from bdr.store.judgements import Judgement
from bdr.store.outcomes import ReviewOutcome
from bdr.store.runs import LatestSnapshot


def find(ctx: Context, snapshot: str) -> Judgement:
    """The judgement of the snapshot whose id is or begins with `snapshot`."""
    text = snapshot.strip().lower()
    if not text:
        raise UsageError("snapshot: give a snapshot id (bdr suspect list names them)")
    found = judgements.matching(ctx.db, text)
    if not found:
        raise UsageError(
            f"snapshot {snapshot}: bdr judged no snapshot with this id (bdr suspect list names "
            "the suspect ones)"
        )
    if len(found) > 1:
        ids = ", ".join(f"{j.snapshot_id[:12]} ({j.plan} in {j.repository})" for j in found)
        raise UsageError(f"snapshot {snapshot}: more than one snapshot begins so: {ids}")
    return found[0]


def review(ctx: Context, snapshot: str, decision: str, note: str) -> RunSummary:
    """Clear or confirm the suspect snapshot `snapshot`, with the technician's `note`."""
    judgement = find(ctx, snapshot)
    short = judgement.snapshot_id[:8]
    if not judgement.suspect:
        raise UsageError(f"snapshot {short} of plan {judgement.plan} was judged clean")
    if not note.strip() and decision == judgements.CLEARED:
        raise UsageError("--note: say why the snapshot is clean (it goes into the evidence)")
    with recorded_run(
        ctx, "review", plan=judgement.plan, repository=judgement.repository, subject=decision
    ) as record:
        judgements.set_review(ctx.db, judgement, decision, note.strip(), ctx.now())
        record.snapshot_id = judgement.snapshot_id
        record.outcome = ReviewOutcome(decision=decision, note=note.strip())
        still = judgements.open_suspects(ctx.db, judgement.plan)
        record.message = f"snapshot {short} of plan {judgement.plan} {decision}" + (
            f"; retention stays held: {len(still)} suspect snapshot(s) open"
            if still
            else "; retention of the plan resumes"
        )
    _update_problem(ctx, judgement.plan)
    return RunSummary.of(record)


def _update_problem(ctx: Context, plan: str) -> None:
    """Resolve (or keep) the plan's `suspicious` problem now, not at the daemon's next minute."""
    from bdr.notify.engine import Notifier

    notifier = Notifier(ctx.config, ctx.db, now=ctx.now)
    notifier.observe(notifier.suspicion(plan))


@dataclass(frozen=True)
class CleanPoint:
    plan: str
    repository: str
    snapshot: LatestSnapshot | None


def clean_points(ctx: Context, plan: str) -> list[CleanPoint]:
    """The plan's last clean restore point in each of its tiers."""
    config = ctx.config.plans[plan]
    return [
        CleanPoint(plan, tier, verified.last_clean(ctx.db, plan, tier))
        for tier in (config.repository, *config.copy_to)
    ]
