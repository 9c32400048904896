"""The outcome of one run, as the CLI shows it and a script reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bdr.actions.context import RunRecord, exit_code_of
from bdr.errors import ExitCode
from bdr.store.outcomes import Outcome, to_details


@dataclass(frozen=True)
class RunSummary:
    run_id: int | None  # None: it ran while state_dir was full, not recorded yet
    kind: str
    plan: str | None
    repository: str | None
    status: str
    exit_code: ExitCode
    message: str
    snapshot_id: str | None = None
    outcome: Outcome | None = None

    @classmethod
    def of(cls, record: RunRecord) -> RunSummary:
        code = exit_code_of(record.status, record.exit_code)
        return cls(
            run_id=record.id or None,
            kind=record.kind,
            plan=record.plan,
            repository=record.repository,
            status=record.status,
            exit_code=code,
            message=record.error or record.message,
            snapshot_id=record.snapshot_id,
            outcome=record.outcome,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "plan": self.plan,
            "repository": self.repository,
            "status": self.status,
            "exit_code": int(self.exit_code),
            "message": self.message,
            "snapshot_id": self.snapshot_id,
            "details": to_details(self.outcome),
        }
