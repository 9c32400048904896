"""The daemon's jobs, derived from the config: pure data, no scheduler here."""

from __future__ import annotations

from dataclasses import dataclass

from bdr.config.model import Config, Reports


@dataclass(frozen=True)
class JobSpec:
    job_id: str  # "backup:office", "drill:office-onsite", "check:cloud"
    kind: str  # backup | drill | check | prune | report
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
    schedule = config.reports.schedule if config.reports else Reports().schedule
    specs.append(JobSpec("report:monthly", "report", "monthly", schedule))
    return specs


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_day_of_week(field: str) -> str:
    """Translate a cron day-of-week field (0 or 7 = Sunday) into APScheduler's names.

    APScheduler 3 numbers days from Monday = 0, so numbers must not reach it: every value,
    range and step is expanded into a list of day names.
    """
    if field == "*":
        return field
    days: list[int] = []
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low_text, high_text = base.split("-")
            low, high = _day(low_text), _day(high_text)
            if high == 0 and low > 0:  # "5-7" or "fri-sun" end on Sunday
                high = 7
        else:
            low = high = _day(base)
        days += [value % 7 for value in range(low, high + 1, step)]
    return ",".join(_DAYS[day] for day in sorted(set(days)))


def _day(text: str) -> int:
    return int(text) % 7 if text.isdigit() else _DAYS.index(text.lower()[:3])
