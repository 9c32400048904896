"""The evidence record of a run: what a report quotes, as canonical JSON (pure).

Canonical: keys sorted, no spaces, UTF-8, one line. The same record gives the same bytes
whatever order it was built in, so its SHA-256 is stable.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bdr.fsnames import shown
from bdr.store.outcomes import BackupOutcome, CheckOutcome, DrillOutcome, ReviewOutcome
from bdr.store.runs import Run


def encode(record: dict[str, Any]) -> bytes:
    """The canonical bytes of `record`, newline included (what a chain line holds)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


def rfc3339(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return (
        datetime.fromtimestamp(timestamp, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def from_rfc3339(text: str) -> float:
    """The timestamp of a time as records carry it (`...Z`); ValueError when it is not one."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def figures(run: Run, appliance: str) -> dict[str, Any]:
    """The fields of `run` that go into its evidence record (None values left out)."""
    record: dict[str, Any] = {
        "appliance": appliance,
        "run": run.id,
        "kind": run.kind,
        "plan": run.plan,
        "repository": run.repository,
        "status": run.status,
        "started": rfc3339(run.started_at),
        "ended": rfc3339(run.ended_at),
        "snapshot": run.snapshot_id,
        "bytes_added": run.bytes_added,
        "bytes_processed": run.bytes_processed,
        "files": run.files_processed,
        "error": shown(run.error) if run.error else None,
    }
    outcome = run.outcome
    if isinstance(outcome, DrillOutcome):
        record.update(
            drill=run.subject,
            drill_kind=outcome.drill_kind,
            snapshot_time=rfc3339(outcome.snapshot_time),
            bytes=outcome.bytes,
            files=outcome.files,
            full_bytes=outcome.full_bytes,
            full_files=outcome.full_files,
            recovery_seconds=outcome.recovery_seconds,
            projected_seconds=outcome.projected_seconds,
            projection_error_seconds=outcome.projected_error_seconds,
            projection_method=outcome.projection_method,
            rto_seconds=outcome.rto,
            verdict=outcome.verdict,
            reason=shown(outcome.reason),
            canary=outcome.canary,
            verified_files=outcome.verified_files,
            mismatched_files=outcome.mismatched_files,
        )
    elif isinstance(outcome, CheckOutcome):
        record.update(subset=outcome.subset, cycle=outcome.cycle, coverage=outcome.coverage)
    elif isinstance(outcome, BackupOutcome):
        record.update(canary_sha256=outcome.canary_sha256, verdict=outcome.verdict)
    elif isinstance(outcome, ReviewOutcome):
        record.update(decision=outcome.decision, note=shown(outcome.note))
    return {key: value for key, value in record.items() if value is not None}


# What a record holds besides the run's figures: the chain's own links, and the appliance's id
# (renaming an appliance changes no figure).
NOT_FIGURES = frozenset({"appliance", "seq", "chain", "prev", "repaired"})


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """The figures of a record or of `figures(...)`: what must agree between the two."""
    return {key: value for key, value in record.items() if key not in NOT_FIGURES}


def run_from_record(record: dict[str, Any], base: Run | None = None) -> Run:
    """The run as the chain records it: `base` (the history's row, when there is one) with
    every figure the record holds put in; what the chain does not hold (a drill's phases and
    checks) stays the history's. Raises ValueError for a record that names no run."""
    if not isinstance(record.get("run"), int) or not isinstance(record.get("started"), str):
        raise ValueError("the record names no run")

    def text(key: str) -> str | None:
        value = record.get(key)
        return value if isinstance(value, str) else None

    def number(key: str) -> int | None:
        value = record.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def seconds(key: str) -> float | None:
        value = record.get(key)
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )

    def moment(key: str) -> float | None:
        value = text(key)
        return None if value is None else from_rfc3339(value)

    kind = str(record.get("kind"))
    outcome = base.outcome if base is not None and base.kind == kind else None
    if kind == "drill":
        drill = outcome if isinstance(outcome, DrillOutcome) else DrillOutcome()
        outcome = replace(
            drill,
            drill_kind=text("drill_kind") or drill.drill_kind,
            snapshot_time=moment("snapshot_time"),
            bytes=number("bytes"),
            files=number("files"),
            full_bytes=number("full_bytes"),
            full_files=number("full_files"),
            recovery_seconds=seconds("recovery_seconds"),
            projected_seconds=seconds("projected_seconds"),
            projected_error_seconds=seconds("projection_error_seconds"),
            projection_method=text("projection_method"),
            rto=number("rto_seconds"),
            verdict=text("verdict") or drill.verdict,
            reason=text("reason") or "",
            canary=text("canary"),
            verified_files=number("verified_files"),
            mismatched_files=number("mismatched_files"),
        )
    elif kind == "check":
        check = outcome if isinstance(outcome, CheckOutcome) else CheckOutcome()
        outcome = replace(
            check,
            subset=number("subset"),
            cycle=number("cycle"),
            coverage=seconds("coverage"),
        )
    elif kind == "backup":
        backup = outcome if isinstance(outcome, BackupOutcome) else BackupOutcome()
        outcome = replace(backup, canary_sha256=text("canary_sha256"), verdict=text("verdict"))
    elif kind == "review":
        outcome = ReviewOutcome(decision=text("decision") or "", note=text("note") or "")
    return Run(
        id=int(record["run"]),
        kind=kind,
        plan=text("plan"),
        repository=text("repository"),
        subject=text("drill") if kind == "drill" else (base.subject if base else None),
        status=text("status") or "",
        started_at=from_rfc3339(str(record["started"])),
        ended_at=moment("ended"),
        snapshot_id=text("snapshot"),
        exit_code=base.exit_code if base else None,
        error=text("error"),
        bytes_added=number("bytes_added"),
        bytes_processed=number("bytes_processed"),
        # A drill's "files" is its outcome's (figures puts it over the run's).
        files_processed=(base.files_processed if base else None)
        if kind == "drill"
        else number("files"),
        outcome=outcome,
    )
