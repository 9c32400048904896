"""What each kind of scheduled job runs: one table from the job's kind to its action.

The actions are imported when a job runs, not when the daemon starts: the daemon idles small.
"""

from __future__ import annotations

from collections.abc import Callable

from bdr.actions.context import Context
from bdr.schedule.jobs import JobSpec


def _backup(ctx: Context, plan: str) -> None:
    from bdr.actions.backup import backup_plans

    backup_plans(ctx, ctx.config.plans_named([plan]))


def _drill(ctx: Context, drill: str) -> None:
    from bdr.actions.drill import run_drill

    run_drill(ctx, drill)


def _check(ctx: Context, name: str) -> None:
    from bdr.actions.check import check_repository

    check = ctx.config.checks[name]
    check_repository(ctx, check.repository, check.read_data_cycle)


def _prune(ctx: Context, repository: str) -> None:
    from bdr.actions.prune import prune_repository

    prune_repository(ctx, repository)


def _steward(ctx: Context, name: str) -> None:
    from bdr.actions.steward import keep_cloud

    keep_cloud(ctx, name)


def _copy(ctx: Context, plan: str) -> None:
    from bdr.actions.backup import copy_tiers

    copy_tiers(ctx, plan, ctx.config.plans[plan])


def _audit(ctx: Context, appliance: str) -> None:
    from bdr.actions.audit import audit_appliance

    audit_appliance(ctx, appliance)


def _report(ctx: Context, _: str) -> None:
    from bdr.actions.report import Request, make_report

    make_report(ctx, Request())


ACTIONS: dict[str, Callable[[Context, str], None]] = {
    "backup": _backup,
    "drill": _drill,
    "check": _check,
    "prune": _prune,
    "copy": _copy,
    "steward": _steward,
    "audit": _audit,
    "report": _report,
}


def execute(ctx: Context, spec: JobSpec) -> None:
    """Run the action of `spec` on its subject (a plan, drill, check or repository name)."""
    ACTIONS[spec.kind](ctx, spec.subject)
