"""The report's English: the sentences and figures a client reads, from the model's numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from bdr.report.model import DrillRow, recovery_seconds


def tier_statement(
    repository: str,
    configured: bool,
    own: Sequence[DrillRow],
    passed: Sequence[DrillRow],
    slowest: DrillRow | None,
    checked_on: Sequence[str],
    zone: tzinfo,
) -> str:
    """What the drills of a tier proved this month, and how many did not pass, when."""
    failed = [d for d in own if d.verdict != "passed"]
    if passed and own[-1].verdict == "passed" and slowest is not None:
        full = sum(1 for d in passed if d.kind == "full")
        against = f" against {spoken(slowest.rto)}" if slowest.rto else ""
        checks = f"; application checks passed on {' and '.join(checked_on)}" if checked_on else ""
        said = (
            f"restored from {repository} and verified on the appliance by "
            f"{_kinds(full, len(passed) - full)}, slowest {spoken(recovery_seconds(slowest))}"
            f"{against}{checks}"
        )
        if failed:
            said += f"; {describe_failures(failed, zone)}, and a later drill passed"
        return said
    if not configured and not own:
        return f"no drill is configured for the {repository} tier"
    if not own:
        return f"no drill of the {repository} tier ran this month"
    last = own[-1]
    if not passed and last.verdict != "unproven":
        failures = describe_failures(failed, zone)
        return f"no drill of the {repository} tier passed this month: {failures}"
    when = _at(last.started_at, zone)
    more = (
        f"; {len(failed)} of {len(own)} drills of the tier did not pass" if len(failed) > 1 else ""
    )
    if last.verdict == "unproven":
        error = last.projected_error_seconds
        bar = f" ± {spoken(error)}" if error else ""
        return (
            f"the RTO of the {repository} tier is not proven: the last drill, on {when}, projects "
            f"the full recovery at {spoken(recovery_seconds(last))}{bar} against "
            f"{spoken(last.rto or 0.0)}{more}"
        )
    return (
        f"the last drill of the {repository} tier, on {when}, failed "
        f"({last.verdict}: {last.reason}){more}"
    )


def _at(timestamp: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M")


def describe_failures(failed: Sequence[DrillRow], zone: tzinfo) -> str:
    """'2 drills did not pass, the last on 2026-11-14 02:00 (rto)'."""
    last = failed[-1]
    when = _at(last.started_at, zone)
    if len(failed) == 1:
        return f"1 drill did not pass, on {when} ({last.verdict})"
    return f"{len(failed)} drills did not pass, the last on {when} ({last.verdict})"


def _kinds(full: int, sample: int) -> str:
    parts = [f"{full} full drill{'s' if full != 1 else ''}"] if full else []
    parts += [f"{sample} sample drill{'s' if sample != 1 else ''}"] if sample else []
    return " and ".join(parts)


NO_RUNS = "No runs in this period: the appliance was not in service yet"


def joined(names: Iterable[str]) -> str:
    found = list(dict.fromkeys(names))
    return ", ".join(found[:-1]) + " and " + found[-1] if len(found) > 1 else "".join(found)


def spoken(seconds: float) -> str:
    """A duration as a client manager reads it: '45 s', '23 min', '1 h', '1 h 5 min', '3 days'."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{round(whole / 60)} min"
    if whole < 2 * 86400:
        hours, minutes = divmod(round(whole / 60), 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days = whole / 86400
    return f"{days:.1f} days".replace(".0 days", " days")
