"""The daemon's jobs, derived from the config: pure data, no scheduler here."""

from __future__ import annotations

from dataclasses import dataclass

from bdr.config.model import Config, Reports


@dataclass(frozen=True)
class JobSpec:
    job_id: str  # "backup:office", "drill:office-onsite", "check:cloud"
    kind: str  # backup | copy | drill | check | prune | steward | audit | report
    subject: str  # the plan, drill or check it runs
    cron: str


def job_specs(config: Config) -> list[JobSpec]:
    """Return one job per plan, drill and check of `config`, and the monthly report, in a
    stable order. The report runs without a `[reports]` section too, on its defaults: it is
    the client's proof."""
    specs = [
        JobSpec(f"backup:{name}", "backup", name, plan.schedule)
        for name, plan in config.plans.items()
    ]
    specs += [
        JobSpec(f"copy:{name}", "copy", name, plan.copy_schedule)
        for name, plan in config.plans.items()
        if plan.copy_schedule is not None
    ]
    specs += [
        JobSpec(f"drill:{name}", "drill", name, drill.schedule)
        for name, drill in config.drills.items()
    ]
    specs += [
        JobSpec(f"check:{name}", "check", name, check.schedule)
        for name, check in config.checks.items()
    ]
    specs += [
        JobSpec(f"prune:{name}", "prune", name, config.repositories[name].prune_schedule)
        for name in config.pruned_repositories()
    ]
    specs += [
        JobSpec(f"steward:{name}", "steward", name, steward.schedule)
        for name, steward in config.steward.items()
    ]
    specs += [
        JobSpec(f"audit:{name}", "audit", name, audit.schedule)
        for name, audit in config.audit.items()
    ]
    schedule = config.reports.schedule if config.reports else Reports().schedule
    specs.append(JobSpec("report:monthly", "report", "monthly", schedule))
    return specs
