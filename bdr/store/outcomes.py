"""What each kind of run produced, as frozen types: the one contract between the actions that
write runs and everything that reads them (status, metrics, CLI, reports, evidence).

Stored as the run's `details` JSON; only this module knows its keys. The keys are the field
names, the same as rows written before these types existed, so old rows read as they are;
a key a row lacks takes the field's default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list | tuple) else ()


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class SourcePath:
    """A plan's source as configured, and what restic was given (a symlink resolved)."""

    configured: str
    backed_up: str


@dataclass(frozen=True)
class BackupOutcome:
    kind: ClassVar[str] = "backup"
    missing_sources: tuple[str, ...] = ()
    canary_sha256: str | None = None
    canary_path: str | None = None
    sources: tuple[SourcePath, ...] = ()
    automatic_excludes: tuple[str, ...] = ()
    restic_exit_code: int | None = None
    files_new: int = 0
    files_changed: int = 0
    restic_duration: float | None = None
    unreadable: tuple[str, ...] = ()
    unreadable_count: int = 0
    # The ransomware verdict (bdr/detection): "clean", "suspect", or None when not judged.
    verdict: str | None = None
    suspect_reason: str | None = None

    @property
    def incomplete(self) -> bool:
        """Whether the snapshot lacks what the plan asked for (a source missing, a file
        unreadable, restic's own "partial" exit)."""
        return bool(self.missing_sources or self.unreadable_count or self.restic_exit_code == 3)

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> BackupOutcome:
        return cls(
            missing_sources=_tuple(d.get("missing_sources")),
            canary_sha256=_str(d.get("canary_sha256")),
            canary_path=_str(d.get("canary_path")),
            sources=tuple(
                SourcePath(str(item.get("configured")), str(item.get("backed_up")))
                for item in _tuple(d.get("sources"))
                if isinstance(item, dict)
            ),
            automatic_excludes=_tuple(d.get("automatic_excludes")),
            restic_exit_code=_opt_int(d.get("restic_exit_code")),
            files_new=_int(d.get("files_new")),
            files_changed=_int(d.get("files_changed")),
            restic_duration=_float(d.get("restic_duration")),
            unreadable=_tuple(d.get("unreadable")),
            unreadable_count=_int(d.get("unreadable_count")),
            verdict=_str(d.get("verdict")),
            suspect_reason=_str(d.get("suspect_reason")),
        )


@dataclass(frozen=True)
class CopyOutcome:
    kind: ClassVar[str] = "copy"
    copied_snapshots: int = 0
    restic_exit_code: int | None = None
    # The time of the newest snapshot on the target after the copy: the tier's age for RPO.
    snapshot_time: float | None = None

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> CopyOutcome:
        return cls(
            copied_snapshots=_int(d.get("copied_snapshots")),
            restic_exit_code=_opt_int(d.get("restic_exit_code")),
            snapshot_time=_float(d.get("snapshot_time")),
        )


@dataclass(frozen=True)
class RetentionOutcome:
    kind: ClassVar[str] = "retention"
    forgotten: int = 0
    pruned: bool = False
    # Snapshots the policy would have forgotten that were kept: a drill verified them.
    kept_verified: tuple[str, ...] = ()
    # Nothing forgotten: this snapshot of the plan is suspect of ransomware and not cleared.
    frozen_by: str | None = None

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> RetentionOutcome:
        return cls(
            forgotten=_int(d.get("forgotten")),
            pruned=bool(d.get("pruned")),
            kept_verified=_tuple(d.get("kept_verified")),
            frozen_by=_str(d.get("frozen_by")),
        )


@dataclass(frozen=True)
class PruneOutcome:
    kind: ClassVar[str] = "prune"
    freed_bytes: int | None = None
    max_unused: str | None = None

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> PruneOutcome:
        return cls(freed_bytes=_opt_int(d.get("freed_bytes")), max_unused=_str(d.get("max_unused")))


@dataclass(frozen=True)
class CheckOutcome:
    kind: ClassVar[str] = "check"
    subset: int | None = None
    cycle: int | None = None
    coverage: float | None = None
    errors: tuple[str, ...] = ()
    repository_size_bytes: int | None = None
    restic_exit_code: int | None = None

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> CheckOutcome:
        return cls(
            subset=_opt_int(d.get("subset")),
            cycle=_opt_int(d.get("cycle")),
            coverage=_float(d.get("coverage")),
            errors=_tuple(d.get("errors")),
            repository_size_bytes=_opt_int(d.get("repository_size_bytes")),
            restic_exit_code=_opt_int(d.get("restic_exit_code")),
        )


@dataclass(frozen=True)
class RestoreOutcome:
    kind: ClassVar[str] = "restore"
    target: str | None = None
    includes: tuple[str, ...] = ()
    verified: bool = True
    seconds: float | None = None
    skipped: int = 0  # files already in the target, kept (--conflict skip)
    renamed: tuple[str, ...] = ()  # restored files put beside the one there (--conflict rename)

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> RestoreOutcome:
        return cls(
            target=_str(d.get("target")),
            includes=_tuple(d.get("includes")),
            verified=bool(d.get("verified", True)),
            seconds=_float(d.get("seconds")),
            skipped=_int(d.get("skipped")),
            renamed=_tuple(d.get("renamed")),
        )


@dataclass(frozen=True)
class Phases:
    """Seconds of each phase of a drill; their sum is the measured recovery time."""

    restore: float
    verify: float
    checks: float


@dataclass(frozen=True)
class AppCheckResult:
    check: str
    ok: bool
    problem: str | None
    seconds: float


PASSED = "passed"
DATA = "data"
RTO = "rto"
CHECK = "check"
ERROR = "error"
# The data was verified, but only an uncalibrated projection of the recovery time exists, and it
# is over the RTO: not proven, not failed (a warning).
UNPROVEN = "unproven"
# Stopped by a signal (Ctrl-C, SIGTERM) or a dying process before it could judge: no verdict.
INTERRUPTED = "interrupted"
VERDICTS = (PASSED, DATA, RTO, CHECK, ERROR, UNPROVEN, INTERRUPTED)


@dataclass(frozen=True)
class DrillOutcome:
    kind: ClassVar[str] = "drill"
    drill_kind: str = "full"  # full | sample (stored as "kind")
    rto: int | None = None
    scratch: str | None = None
    snapshot_time: float | None = None
    canary_path: str | None = None
    full_bytes: int | None = None
    full_files: int | None = None
    bytes: int | None = None
    files: int | None = None
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    size_different: tuple[str, ...] = ()
    canary: str | None = None
    compared_files: int = 0
    changed_files: int = 0
    gone_files: int = 0
    content_mismatches: tuple[str, ...] = ()
    verified_files: int | None = None
    mismatched_files: int | None = None
    restore_errors: tuple[str, ...] = ()
    phases: Phases | None = None
    recovery_seconds: float | None = None
    projected_seconds: float | None = None
    projected_error_seconds: float | None = None
    projection_method: str | None = None
    checks: tuple[AppCheckResult, ...] = ()
    kept_scratch: str | None = None
    verdict: str = ERROR
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED

    @property
    def data_good(self) -> bool:
        """Whether the data was restored and verified intact (passed, or failed on time/check)."""
        return self.verdict in (PASSED, RTO, CHECK, UNPROVEN)

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> DrillOutcome:
        phases = d.get("phases")
        verdict = d.get("verdict")
        return cls(
            drill_kind=_str(d.get("kind")) or "full",
            rto=_opt_int(d.get("rto")),
            scratch=_str(d.get("scratch")),
            snapshot_time=_float(d.get("snapshot_time")),
            canary_path=_str(d.get("canary_path")),
            full_bytes=_opt_int(d.get("full_bytes")),
            full_files=_opt_int(d.get("full_files")),
            bytes=_opt_int(d.get("bytes")),
            files=_opt_int(d.get("files")),
            missing=_tuple(d.get("missing")),
            extra=_tuple(d.get("extra")),
            size_different=_tuple(d.get("size_different")),
            canary=_str(d.get("canary")),
            compared_files=_int(d.get("compared_files")),
            changed_files=_int(d.get("changed_files")),
            gone_files=_int(d.get("gone_files")),
            content_mismatches=_tuple(d.get("content_mismatches")),
            verified_files=_opt_int(d.get("verified_files")),
            mismatched_files=_opt_int(d.get("mismatched_files")),
            restore_errors=_tuple(d.get("restore_errors")),
            phases=Phases(
                restore=float(phases.get("restore", 0.0)),
                verify=float(phases.get("verify", 0.0)),
                checks=float(phases.get("checks", 0.0)),
            )
            if isinstance(phases, dict)
            else None,
            recovery_seconds=_float(d.get("recovery_seconds")),
            projected_seconds=_float(d.get("projected_seconds")),
            projected_error_seconds=_float(d.get("projected_error_seconds")),
            projection_method=_str(d.get("projection_method")),
            checks=tuple(
                AppCheckResult(
                    check=str(item.get("check", "")),
                    ok=bool(item.get("ok")),
                    problem=_str(item.get("problem")),
                    seconds=_float(item.get("seconds")) or 0.0,
                )
                for item in _tuple(d.get("checks"))
                if isinstance(item, dict)
            ),
            kept_scratch=_str(d.get("kept_scratch")),
            verdict=verdict if verdict in VERDICTS else ERROR,
            reason=_str(d.get("reason")) or "",
        )


@dataclass(frozen=True)
class ReportOutcome:
    kind: ClassVar[str] = "report"
    month: str | None = None
    partial: bool = False
    report_id: str | None = None
    files: tuple[str, ...] = ()

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> ReportOutcome:
        return cls(
            month=_str(d.get("month")),
            partial=bool(d.get("partial")),
            report_id=_str(d.get("report_id")),
            files=tuple(str(f) for f in _tuple(d.get("files"))),
        )


@dataclass(frozen=True)
class StewardOutcome:
    """The steward's retention of an appliance's cloud (bdr/actions/steward.py)."""

    kind: ClassVar[str] = "steward"
    listed: int = 0
    forgotten: int = 0
    # Snapshots not trusted (a forged time), "id: why": never forgotten by the policy.
    forged: tuple[str, ...] = ()
    held: str | None = None  # the reason nothing was forgotten

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> StewardOutcome:
        return cls(
            listed=_int(d.get("listed")),
            forgotten=_int(d.get("forgotten")),
            forged=_tuple(d.get("forged")),
            held=_str(d.get("held")),
        )


@dataclass(frozen=True)
class AuditOutcome:
    """The steward's audit of an appliance's evidence in the cloud (bdr/actions/audit.py)."""

    kind: ClassVar[str] = "audit"
    upload: str | None = None  # the newest upload's snapshot id
    records: int = 0
    uploads: int = 0
    findings: tuple[str, ...] = ()

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> AuditOutcome:
        return cls(
            upload=_str(d.get("upload")),
            records=_int(d.get("records")),
            uploads=_int(d.get("uploads")),
            findings=_tuple(d.get("findings")),
        )


@dataclass(frozen=True)
class ReviewOutcome:
    """A technician's review of a snapshot judged suspect of ransomware (bdr suspect)."""

    kind: ClassVar[str] = "review"
    decision: str = ""  # "cleared" (a false positive) or "confirmed"
    note: str = ""

    @classmethod
    def from_details(cls, d: dict[str, Any]) -> ReviewOutcome:
        return cls(decision=_str(d.get("decision")) or "", note=_str(d.get("note")) or "")


Outcome = (
    BackupOutcome
    | CopyOutcome
    | RetentionOutcome
    | PruneOutcome
    | CheckOutcome
    | RestoreOutcome
    | DrillOutcome
    | ReportOutcome
    | ReviewOutcome
    | StewardOutcome
    | AuditOutcome
)

_TYPES: dict[str, Any] = {
    cls.kind: cls
    for cls in (
        BackupOutcome,
        CopyOutcome,
        RetentionOutcome,
        PruneOutcome,
        CheckOutcome,
        RestoreOutcome,
        DrillOutcome,
        ReportOutcome,
        ReviewOutcome,
        StewardOutcome,
        AuditOutcome,
    )
}

# A field whose stored key differs from its name (the drill's kind was stored as "kind").
_KEYS = {"drill_kind": "kind"}


def to_details(outcome: Outcome | None) -> dict[str, Any]:
    """Return `outcome` as the JSON object stored in the run's details (and shown by --json)."""
    if outcome is None:
        return {}
    data = dataclasses.asdict(outcome)
    return {_KEYS.get(key, key): _plain(value) for key, value in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def from_details(kind: str, details: dict[str, Any]) -> Outcome | None:
    """Return the typed outcome of a run of `kind` from its stored details (None for kinds
    without one, or a run that recorded nothing)."""
    cls = _TYPES.get(kind)
    if cls is None or not details:
        return None
    outcome: Outcome = cls.from_details(details)
    return outcome


__all__ = [
    "AppCheckResult",
    "BackupOutcome",
    "CheckOutcome",
    "CopyOutcome",
    "DrillOutcome",
    "Outcome",
    "Phases",
    "PruneOutcome",
    "ReportOutcome",
    "RestoreOutcome",
    "RetentionOutcome",
    "SourcePath",
    "from_details",
    "to_details",
]
