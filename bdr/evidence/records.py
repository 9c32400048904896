"""The evidence record of a run: what a report quotes, as canonical JSON (pure).

Canonical: keys sorted, no spaces, UTF-8, one line. The same record gives the same bytes
whatever order it was built in, so its SHA-256 is stable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bdr.fsnames import shown
from bdr.store.outcomes import BackupOutcome, CheckOutcome, DrillOutcome
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
        record.update(canary_sha256=outcome.canary_sha256)
    return {key: value for key, value in record.items() if value is not None}
