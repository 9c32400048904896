"""`bdr steward report APPLIANCE --month M`: a lost appliance's report, from the cloud alone.

The newest upload of the appliance's evidence is restored and verified against the key the MSP
registered, as the audit does. When the appliance uploaded its own signed report of the month,
those files are the report (copied with their signatures). Otherwise the report is built here
from the uploaded chain (each run as its record tells it) and `setup.json` (what a report needs
of the appliance's configuration): the month the appliance was lost in has no report of its own.
Such a report is not signed (the steward has no appliance key) and says on its first page how
it was made.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bdr import __version__
from bdr.actions.audit import audited_appliances, fetch_newest, scratch_folder
from bdr.actions.context import Context
from bdr.actions.report import report_path
from bdr.atomic import write_atomic
from bdr.errors import BdrError, UsageError
from bdr.evidence import sshsig, upload
from bdr.evidence.chain import CHAIN, line_hash
from bdr.evidence.keys import principal
from bdr.evidence.records import from_rfc3339, run_from_record
from bdr.evidence.verify import read_key, verify_directory
from bdr.localtime import zone as local_zone
from bdr.period import period
from bdr.report.load import LOOKBACK
from bdr.report.model import DrillSpec, EvidenceFacts, Finding, Inputs, PlanSpec, Setup
from bdr.store.runs import Run


@dataclass(frozen=True)
class Printed:
    paths: tuple[Path, ...]
    rebuilt: bool  # built from the chain here, not the appliance's signed files
    upload: str  # the upload it came from


def cloud_report(ctx: Context, appliance: str, month: str, out: Path) -> Printed:
    audited_appliances(ctx, [appliance])  # UsageError naming the configured ones
    key_file = ctx.config.audit[appliance].allowed_signers
    try:
        key = read_key(key_file)
    except ValueError as error:
        raise UsageError(f"audit.{appliance}.allowed_signers: {error}") from None
    scratch = Path(tempfile.mkdtemp(prefix="report-", dir=scratch_folder(ctx)))
    try:
        fetched = fetch_newest(ctx, appliance, scratch)
        verification = verify_directory(fetched.root, key)
        if not verification.ok:
            raise BdrError(
                f"the evidence of {appliance} in upload {fetched.snapshot.short_id} does not "
                f"verify against {key_file}: {verification.problems[0]}; no report is printed "
                "from it (bdr steward audit)"
            )
        signed = sorted((fetched.root / upload.REPORTS / month).glob(f"bdr-{appliance}-*"))
        if signed:
            paths = _copy_signed(signed, out / month)
            return Printed(paths, rebuilt=False, upload=fetched.snapshot.id)
        inputs = _inputs(ctx, fetched.root, appliance, month, fetched.snapshot.short_id, key)
        paths = _render(inputs, out, appliance)
        return Printed(paths, rebuilt=True, upload=fetched.snapshot.id)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_signed(files: list[Path], folder: Path) -> tuple[Path, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in files:
        write_atomic(folder / path.name, path.read_bytes(), mode=0o644)
        if path.suffix != ".sig":
            copied.append(folder / path.name)
    return tuple(copied)


def setup_from(data: dict[str, Any]) -> Setup:
    """The Setup that `upload.stage` wrote as JSON."""
    return Setup(
        appliance=str(data["appliance"]),
        client=str(data["client"]),
        site=str(data.get("site", "")),
        msp=str(data.get("msp", "")),
        contact=str(data.get("contact", "")),
        plans=tuple(
            PlanSpec(
                **{
                    **plan,
                    "copy_to": tuple(plan["copy_to"]),
                    "sources": tuple(plan["sources"]),
                    "tier_rpo": tuple((str(t), float(s)) for t, s in plan.get("tier_rpo", ())),
                }
            )
            for plan in data.get("plans", ())
        ),
        drills=tuple(
            DrillSpec(
                **{
                    **drill,
                    "checks": tuple(drill["checks"]),
                    "checked_on": tuple(drill["checked_on"]),
                }
            )
            for drill in data.get("drills", ())
        ),
        checks=tuple((str(repo), int(cycle)) for repo, cycle in data.get("checks", ())),
    )


def _zone(name: object) -> tzinfo:
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return local_zone()


def _inputs(
    ctx: Context, root: Path, appliance: str, month: str, upload_id: str, key: Any
) -> Inputs:
    try:
        facts = json.loads((root / upload.SETUP).read_text())
        setup = setup_from(facts["setup"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BdrError(
            f"upload {upload_id} of {appliance}: {upload.SETUP} cannot be read ({error}): the "
            "report cannot be rebuilt"
        ) from None
    tz = _zone(facts.get("zone"))
    now = ctx.now()
    chosen = period(month, now=now, zone=tz)
    found: list[Run] = []
    records = 0
    in_period = 0
    last: tuple[int, str] | None = None
    with open(root / CHAIN, "rb") as lines:
        for line in lines:
            records += 1
            record = json.loads(line)
            try:
                run = run_from_record(record)
            except ValueError:
                continue
            ended = record.get("ended")
            if isinstance(ended, str) and chosen.start <= from_rfc3339(ended) < chosen.end:
                in_period += 1
                last = (int(record["seq"]), line_hash(line))
            if chosen.start - LOOKBACK <= run.started_at < now:
                found.append(run)
    head = json.loads((root / "head").read_bytes())
    evidence = EvidenceFacts(
        records=records,
        records_in_period=in_period,
        head_seq=int(head["seq"]),
        head_sha256=str(head["sha256"]),
        fingerprint=sshsig.fingerprint(key),
        principal=principal(appliance),
        period_last_seq=last[0] if last else None,
        period_last_sha256=last[1] if last else None,
    )
    note = Finding(
        "warning",
        f"this report was rebuilt by the MSP's steward from the evidence {appliance} uploaded "
        f"to the cloud (upload {upload_id}, verified against the registered key): the "
        "appliance did not make or sign it, and a drill's phases and application checks, "
        "which the chain does not hold, are not shown",
    )
    return Inputs(
        setup=setup,
        period=chosen,
        generated_at=now,
        zone=tz,
        runs=tuple(found),
        bdr_version=__version__,
        restic_version="",
        evidence=evidence,
        chain_findings=(note,),
    )


def _render(inputs: Inputs, out: Path, appliance: str) -> tuple[Path, ...]:
    from bdr.report.build import build
    from bdr.report.render import Branding, to_html, to_json, to_pdf

    model = build(inputs)
    chosen = inputs.period
    html = to_html(model, chosen, inputs.zone, Branding())
    title = f"Restore-test report {chosen.month}: {inputs.setup.client} (rebuilt from the cloud)"
    rendered = {
        "html": html.encode("utf-8"),
        "pdf": to_pdf(html, title=title, generated_at=inputs.generated_at),
        "json": to_json(model),
    }
    (out / chosen.month).mkdir(parents=True, exist_ok=True)
    paths = []
    for extension, data in rendered.items():
        path = report_path(out, appliance, chosen.month, extension)
        write_atomic(path, data, mode=0o644)
        paths.append(path)
    return tuple(paths)
