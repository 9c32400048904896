"""The verdict of a drill, with a reason a person understands.

A measured recovery (a full drill) is held against the RTO as it is. A projected one (a sample
drill) is held with its error: it passes only when projection + error is within the RTO, fails
when projection - error is over it, and is `unproven` in between: a projection of 55 min
± 12 min proves nothing about a one-hour RTO, either way. An uncalibrated projection (no full
drill of the tier yet) over the RTO is `unproven` too, never a failure: it is the sample's own
throughput scaled up, no evidence that the full restore is slow.

The reason says where the recovery was proven (restored from which tier, verified on the
appliance, checked where), and no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bdr.config.units import format_duration
from bdr.store.outcomes import CHECK, DATA, ERROR, INTERRUPTED, PASSED, RTO, UNPROVEN

__all__ = ["CHECK", "DATA", "ERROR", "INTERRUPTED", "PASSED", "RTO", "UNPROVEN", "Verdict", "judge"]


@dataclass(frozen=True)
class Verdict:
    kind: str
    reason: str

    @property
    def passed(self) -> bool:
        return self.kind == PASSED


def judge(
    *,
    data_problems: list[str],
    failed_checks: list[str],
    recovery_seconds: float,
    judged_seconds: float,
    rto: int,
    projected: bool,
    calibrated: bool = True,
    error_seconds: float = 0.0,
    repository: str = "",
    checks_on: Sequence[str] = (),
) -> Verdict:
    """Return the verdict: data problems first, then failed checks, then the RTO.

    `judged_seconds` is what is held against the RTO: the measured time of a full drill, the
    projected full recovery time of a sample drill, whose error is `error_seconds`.
    `repository` is the tier restored from; `checks_on`, where the application checks that
    passed ran ("the appliance", "recovery host db1").
    """
    if data_problems:
        return Verdict(DATA, "the restored data is wrong: " + "; ".join(data_problems))
    if failed_checks:
        return Verdict(CHECK, "application check failed: " + "; ".join(failed_checks))
    error = max(0.0, error_seconds) if projected else 0.0
    took = _spoken(judged_seconds, error)
    limit = format_duration(rto)
    if projected and judged_seconds > rto and not calibrated:
        # A projection from the sample's own rate is not evidence either way.
        return Verdict(
            UNPROVEN,
            f"data verified; RTO not proven: the uncalibrated projection of the full recovery is "
            f"{took}, over the RTO of {limit}; a full drill of this tier calibrates it",
        )
    if judged_seconds - error > rto:
        what = "projected full recovery" if projected else "recovery"
        return Verdict(RTO, f"data verified, but the {what} takes {took}, over the RTO of {limit}")
    if judged_seconds + error > rto:
        return Verdict(
            UNPROVEN,
            f"data verified; RTO not proven: the projected full recovery of {took} may or may "
            f"not be within the RTO of {limit}; a full drill of this tier measures it",
        )
    source = f" from {repository}" if repository else ""
    proven = f"restored{source} and verified on the appliance"
    checked = (
        "; application checks passed on " + " and ".join(dict.fromkeys(checks_on))
        if checks_on
        else ""
    )
    if projected:
        return Verdict(
            PASSED,
            f"{proven}: a {format_duration(recovery_seconds)} sample projects the full recovery "
            f"at {took}, within the RTO of {limit}{checked}",
        )
    return Verdict(PASSED, f"{proven} in {took}, within the RTO of {limit}{checked}")


def _spoken(seconds: float, error: float) -> str:
    return format_duration(seconds) + (f" ± {format_duration(error)}" if error > 0 else "")
