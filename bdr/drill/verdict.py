"""The verdict of a drill, with a reason a person understands."""

from __future__ import annotations

from dataclasses import dataclass

from bdr.config.units import format_duration
from bdr.store.outcomes import CHECK, DATA, ERROR, PASSED, RTO, UNPROVEN

__all__ = ["CHECK", "DATA", "ERROR", "PASSED", "RTO", "UNPROVEN", "Verdict", "judge"]


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
) -> Verdict:
    """Return the verdict: data problems first, then failed checks, then the RTO.

    `judged_seconds` is what is held against the RTO: the measured time of a full drill, the
    projected full recovery time of a sample drill.
    """
    if data_problems:
        return Verdict(DATA, "the restored data is wrong: " + "; ".join(data_problems))
    if failed_checks:
        return Verdict(CHECK, "application check failed: " + "; ".join(failed_checks))
    what = "projected full recovery" if projected else "recovery"
    if judged_seconds > rto and projected and not calibrated:
        # A projection from the sample's own rate is not evidence either way.
        return Verdict(
            UNPROVEN,
            f"data verified; RTO not proven: the uncalibrated projection of the full recovery is "
            f"{format_duration(judged_seconds)}, over the RTO of {format_duration(rto)}; a full "
            "drill of this tier calibrates it",
        )
    if judged_seconds > rto:
        return Verdict(
            RTO,
            f"data verified, but the {what} takes {format_duration(judged_seconds)}, "
            f"over the RTO of {format_duration(rto)}",
        )
    return Verdict(
        PASSED,
        f"restored and verified; {what} in {format_duration(judged_seconds)} "
        f"within the RTO of {format_duration(rto)}"
        + ("" if not projected else f" (sample took {format_duration(recovery_seconds)})"),
    )
