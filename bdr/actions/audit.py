"""`bdr steward audit`: on the MSP's steward host, check each appliance's evidence in the cloud.

For each `[audit.APPLIANCE]`: list the uploads in its evidence store, restore the newest
into a scratch folder, verify its chain link by link and its signed head against the key the
MSP registered (`allowed_signers`), then steward/audit.py's checks: the head the previous audit
saw is still in the chain, every upload not seen before holds a head of that chain, the chain
grew within `stalled_after`, each uploaded report is signed by the key and quotes a head the
chain holds. One run (kind `audit`) per appliance; any finding makes it fail (exit 1).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bdr.actions.context import Context, recorded_run
from bdr.actions.steward import picked
from bdr.actions.summary import RunSummary
from bdr.errors import BdrError, UsageError
from bdr.evidence import sshsig, upload
from bdr.evidence.chain import CHAIN, line_hash
from bdr.evidence.keys import NAMESPACE
from bdr.evidence.records import from_rfc3339
from bdr.evidence.verify import read_key, verify_directory
from bdr.localtime import with_offset
from bdr.restic import argv as build
from bdr.restic.messages import Snapshot, snapshot_list
from bdr.restic.result import require_ok
from bdr.steward import audit
from bdr.store import steward as seen
from bdr.store.outcomes import AuditOutcome

# Findings named in the run's error; the rest are counted (all are in `bdr steward audit`).
MAX_NAMED = 5


def audited_appliances(ctx: Context, names: Sequence[str]) -> list[str]:
    """The `[audit.*]` entries `names` picks (all of them when none is named)."""
    return picked(ctx.config.audit, names, "audit", "it audits no appliance's evidence")


@dataclass(frozen=True)
class Fetched:
    """The newest upload of an appliance, restored: where its files are, and what it holds."""

    snapshot: Snapshot
    root: Path  # the staged folder as uploaded (chain.jsonl, head, reports/, setup.json)
    listed: tuple[Snapshot, ...]  # every upload, oldest first


def fetch_newest(ctx: Context, appliance: str, into: Path) -> Fetched:
    """Restore the newest upload of `appliance`'s evidence store under `into`; raise BdrError
    when the store cannot be read, UsageError when it holds no upload."""
    store = ctx.config.audit[appliance].repository
    env = ctx.env(store)
    listing = require_ok(
        ctx.restic.run(ctx.restic.args(build.snapshots, tagged=upload.TAG), env),
        f"listing {store}",
    )
    listed = tuple(snapshot_list(listing.stdout))
    if not listed:
        raise UsageError(f"{store} holds no evidence of {appliance}: nothing was uploaded yet")
    # Newest by time: an upload dated forward on purpose is newest too, and must then hold
    # every head seen before, which a chain cut short does not.
    newest = max(listed, key=lambda s: s.time)
    require_ok(
        ctx.restic.run(ctx.restic.args(build.restore, newest.id, str(into), verify=False), env),
        f"restoring upload {newest.short_id} of {store}",
    )
    root = into / newest.paths[0].lstrip("/")
    return Fetched(newest, root, listed)


def audit_appliance(ctx: Context, appliance: str) -> RunSummary:
    settings = ctx.config.audit[appliance]
    store = settings.repository
    with recorded_run(ctx, "audit", repository=store, subject=appliance) as record:
        scratch = Path(tempfile.mkdtemp(prefix="audit-", dir=scratch_folder(ctx)))
        try:
            fetched = fetch_newest(ctx, appliance, scratch)
            findings, state = _findings(ctx, appliance, fetched)
        except BdrError as error:
            # One appliance's store out of reach is its finding; the others are audited.
            record.fail(f"evidence of {appliance}: {error.message}", exit_code=error.exit_code)
            return RunSummary.of(record)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        record.outcome = AuditOutcome(
            upload=fetched.snapshot.id,
            records=state.seq if state else 0,
            uploads=len(fetched.listed),
            findings=tuple(findings),
        )
        if findings:
            named = "; ".join(findings[:MAX_NAMED])
            more = f" and {len(findings) - MAX_NAMED} more" if len(findings) > MAX_NAMED else ""
            record.fail(f"evidence of {appliance}: {named}{more}")
        else:
            record.message = (
                f"evidence of {appliance} intact: chain to record {state.seq if state else 0}, "
                f"{len(fetched.listed)} upload(s)"
            )
        if state is not None and not findings:
            # Only a chain that passed becomes the one later uploads must extend.
            seen.note_audited(ctx.db, appliance, state)
        seen.note_seen(ctx.db, store, [s.id for s in fetched.listed], ctx.now())
    return RunSummary.of(record)


def scratch_folder(ctx: Context) -> Path:
    folder = ctx.config.appliance.scratch_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _findings(
    ctx: Context, appliance: str, fetched: Fetched
) -> tuple[list[str], seen.Audited | None]:
    settings = ctx.config.audit[appliance]
    try:
        key = read_key(settings.allowed_signers)
    except ValueError as error:
        raise UsageError(f"audit.{appliance}.allowed_signers: {error}") from None
    verification = verify_directory(fetched.root, key)
    if not verification.ok:
        return [f"upload {fetched.snapshot.short_id}: {p}" for p in verification.problems], None
    if verification.head_seq != verification.records:
        return [
            f"upload {fetched.snapshot.short_id}: its signed head names record "
            f"{verification.head_seq}, the chain holds {verification.records}"
        ], None
    hashes, records = _read_chain(fetched.root / CHAIN)
    uploaded = audit.Uploaded(
        chain=str(verification.chain), hashes=hashes, last_ended=_ended(records)
    )
    previous = seen.audited(ctx.db, appliance)
    findings: list[str] = []
    if previous is not None:
        when = with_offset(datetime.fromtimestamp(previous.audited_at, UTC))
        rolled = audit.rollback(
            uploaded,
            audit.Head(previous.chain, previous.seq, previous.sha256),
            seen_at=when,
        )
        if rolled:
            findings.append(rolled)
    before = seen.seen_before(ctx.db, settings.repository)
    unseen = [s for s in fetched.listed if s.id not in before and s.id != fetched.snapshot.id]
    findings += audit.stray_heads(uploaded, [(s.id, _head_of(ctx, appliance, s)) for s in unseen])
    stopped = audit.stalled(uploaded, now=ctx.now(), stalled_after=settings.stalled_after)
    if stopped:
        findings.append(stopped)
    findings += _report_findings(fetched.root, key, uploaded)
    state = seen.Audited(
        chain=uploaded.chain,
        seq=len(hashes),
        sha256=hashes[-1] if hashes else "",
        audited_at=ctx.now(),
        suspects=tuple(audit.open_suspects(records)),
    )
    return findings, state


def _read_chain(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    hashes: list[str] = []
    records: list[dict[str, Any]] = []
    with open(path, "rb") as lines:
        for line in lines:
            hashes.append(line_hash(line))
            records.append(json.loads(line))
    return hashes, records


def _ended(records: list[dict[str, Any]]) -> float | None:
    """When the run of the chain's last record with an end ended."""
    for record in reversed(records):
        value = record.get("ended")
        if isinstance(value, str):
            return from_rfc3339(value)
    return None


def _head_of(ctx: Context, appliance: str, snapshot: Snapshot) -> audit.Head | None:
    """The signed head an upload holds (read with `restic dump`), or None when it has none."""
    if not snapshot.paths:
        return None
    path = f"{snapshot.paths[0].rstrip('/')}/head"
    env = ctx.env(ctx.config.audit[appliance].repository)
    result = ctx.restic.run(ctx.restic.args(build.dump, snapshot.id, path), env)
    if not result.ok:
        return None
    return _head("".join(result.stdout).encode())


def _head(data: bytes) -> audit.Head | None:
    try:
        value = json.loads(data)
        return audit.Head(str(value["chain"]), int(value["seq"]), str(value["sha256"]))
    except (ValueError, KeyError, TypeError):
        return None


def _report_findings(root: Path, key: Any, uploaded: audit.Uploaded) -> list[str]:
    """Each uploaded report file signed by the key; each report's JSON quoting a held head."""
    findings: list[str] = []
    quoted: list[tuple[str, audit.Head | None]] = []
    for path in sorted((root / upload.REPORTS).glob("*/bdr-*")):
        if path.suffix == ".sig":
            continue
        data = path.read_bytes()
        try:
            sshsig.verify(path.with_name(path.name + ".sig").read_text(), data, NAMESPACE, key)
        except (OSError, ValueError) as error:
            findings.append(f"report {path.name}: its signature does not verify: {error}")
            continue
        if path.suffix == ".json":
            quoted.append((path.name, _quoted_head(data, uploaded.chain)))
    return findings + audit.report_heads(uploaded, quoted)


def _quoted_head(data: bytes, chain: str) -> audit.Head | None:
    try:
        evidence = json.loads(data).get("evidence") or {}
        return audit.Head(chain, int(evidence["head_seq"]), str(evidence["head_sha256"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
