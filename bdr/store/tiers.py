"""What status and metrics both show of a plan's tier: one query of the history for both."""

from __future__ import annotations

from dataclasses import dataclass

from bdr.config.model import Config
from bdr.store import judgements, runs, verified
from bdr.store.database import History


@dataclass(frozen=True)
class TierFacts:
    """A plan in one repository: its last run, last good run, newest and verified snapshots."""

    plan: str
    repository: str
    kind: str  # backup for the plan's own repository, copy for its other tiers
    last_run: runs.Run | None
    last_success: runs.Run | None
    latest: runs.LatestSnapshot | None
    verified: runs.LatestSnapshot | None
    # The newest verified snapshot taken before the plan's oldest snapshot suspect of
    # ransomware that is not cleared (the verified one while none is open).
    last_clean: runs.LatestSnapshot | None = None
    suspect: judgements.Judgement | None = None  # the oldest open suspect snapshot of the plan


def tier_facts(db: History, plan: str, repository: str, kind: str) -> TierFacts:
    """Return the facts of `plan` in `repository`, whose runs are of `kind`."""
    newest_verified = verified.newest(db, plan, repository)
    suspect = judgements.open_suspects(db, plan)
    return TierFacts(
        plan=plan,
        repository=repository,
        kind=kind,
        last_run=runs.last_run(db, kind, plan=plan, repository=repository, statuses=runs.FINISHED),
        last_success=runs.last_run(
            db, kind, plan=plan, repository=repository, statuses=(runs.OK, runs.WARNING)
        ),
        latest=runs.latest_snapshot(db, plan, repository),
        verified=newest_verified,
        last_clean=verified.last_clean(db, plan, repository) if suspect else newest_verified,
        suspect=suspect[0] if suspect else None,
    )


def all_tiers(db: History, config: Config) -> list[TierFacts]:
    """Return the facts of every plan in every repository it uses, its own one first."""
    return [
        tier_facts(db, name, repository, "backup" if repository == plan.repository else "copy")
        for name, plan in config.plans.items()
        for repository in (plan.repository, *plan.copy_to)
    ]
