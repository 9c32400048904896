"""`bdr report`: the monthly restore-test report, recorded as a run and signed.

The files go to `output_dir/YYYY-MM/bdr-<appliance>-YYYY-MM.{html,pdf,json}`, each written
atomically with a detached SSH signature (`.sig`) by the appliance's evidence key, so a
client or auditor checks a report the same way as the evidence chain.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.atomic import write_atomic
from bdr.config.model import Reports
from bdr.config.ownership import report_dir
from bdr.errors import BdrError, UsageError
from bdr.localtime import zone
from bdr.period import Period, last_full_month, period
from bdr.store.outcomes import ReportOutcome

log = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "json")


@dataclass(frozen=True)
class Request:
    month: str | None = None  # default: the last full month
    out: Path | None = None  # default: [reports] output_dir
    formats: tuple[str, ...] = FORMATS


def parse_formats(text: str) -> tuple[str, ...]:
    """'html,pdf' -> ('html', 'pdf'); raise UsageError naming an unknown format."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"--format {text!r}: choose from {', '.join(FORMATS)}")
    return chosen


def report_path(directory: Path, appliance: str, month: str, extension: str) -> Path:
    return directory / month / f"bdr-{appliance}-{month}.{extension}"


def make_report(ctx: Context, request: Request) -> RunSummary:
    """Render the report of the requested month from the history; write and sign its files."""
    tz = zone()
    now = ctx.now()
    month = request.month if request.month is not None else last_full_month(now, tz)
    chosen = period(month, now=now, zone=tz)
    settings = ctx.config.reports or Reports()
    directory = request.out or report_dir(ctx.config)
    with recorded_run(ctx, "report", subject=chosen.month) as record:
        record.outcome = ReportOutcome(month=chosen.month, partial=chosen.partial)
        files = _write(ctx, chosen, now, directory, settings, request.formats)
        record.outcome = ReportOutcome(
            month=chosen.month,
            partial=chosen.partial,
            report_id=files.report_id,
            files=tuple(str(path) for path in files.paths),
        )
        record.message = f"report of {chosen.month} written: " + ", ".join(
            str(path) for path in files.paths
        )
        _mail(ctx, chosen, files)
    return RunSummary.of(record)


def _mail(ctx: Context, chosen: Period, files: _Written) -> None:
    """Queue the report's mail to `[reports] mail_to` (PDF and HTML attached), if set."""
    from bdr.notify.engine import Notifier

    attached = [str(path) for path in files.paths if path.suffix in (".pdf", ".html")]
    if not attached:
        return
    client = ctx.config.appliance.client
    subject = f"Restore-test report {chosen.month}, {client}: {files.verdict}"
    body = (
        f"The restore-test report of {chosen.month} for {client}"
        + (" (partial period)" if chosen.partial else "")
        + f" is attached (report {files.report_id}).\n\n{files.verdict}\n\n"
        "Each file has a detached signature (.sig) by the appliance's evidence key, kept on the "
        "appliance next to the report.\n"
    )
    try:
        Notifier(ctx.config, ctx.db, now=ctx.now).mail_report(subject[:250], body, attached)
    except Exception as error:  # the report is written; its mail is not worth failing it
        log.error("report of %s: its mail was not queued: %s", chosen.month, error)


@dataclass(frozen=True)
class _Written:
    report_id: str
    paths: tuple[Path, ...]
    verdict: str  # the summary in one line


def _write(
    ctx: Context,
    chosen: Period,
    now: float,
    directory: Path,
    settings: Reports,
    formats: tuple[str, ...],
) -> _Written:
    from bdr.evidence.keys import ensure_key
    from bdr.logo import data_uri
    from bdr.report import load
    from bdr.report.build import build
    from bdr.report.render import Branding, to_html, to_json, to_pdf

    tz = zone()
    inputs = load.inputs(
        ctx.config,
        ctx.db,
        chosen,
        generated_at=now,
        zone=tz,
        restic_version=ctx.restic.features.version_text,
    )
    if inputs.chain_findings:
        # The report shows the chain's figures; the disagreement is the evidence problem too.
        from bdr.evidence.journal import note_verified

        note_verified(ctx.db, inputs.chain_findings[0].text)
    model = build(inputs)
    try:
        logo = data_uri(settings.logo) if settings.logo else None
    except ValueError as error:
        raise BdrError(f"reports.logo: {error}") from None
    appliance = ctx.config.appliance.id
    html = to_html(model, chosen, tz, Branding(accent=settings.accent, logo_uri=logo))
    rendered: dict[str, bytes] = {}
    if "html" in formats:
        rendered["html"] = html.encode("utf-8")
    if "pdf" in formats:
        title = f"Restore-test report {chosen.month}: {ctx.config.appliance.client}"
        rendered["pdf"] = to_pdf(html, title=title, generated_at=now)
    if "json" in formats:
        rendered["json"] = to_json(model)
    key = ensure_key(ctx.config.appliance.state_dir, appliance)
    paths = []
    try:
        (directory / chosen.month).mkdir(parents=True, exist_ok=True, mode=0o750)
        for extension, data in rendered.items():
            path = report_path(directory, appliance, chosen.month, extension)
            write_atomic(path, data, mode=0o640)
            write_atomic(path.with_name(path.name + ".sig"), key.sign(data).encode(), mode=0o640)
            paths.append(path)
    except OSError as error:
        where = error.filename or directory
        raise BdrError(
            f"report of {chosen.month} not written to {where}: {os.strerror(error.errno or 0)}"
        ) from None
    verdict = "; ".join(
        f"plan {plan.plan}: {plan.headline}" if len(model.summary.plans) > 1 else plan.headline
        for plan in model.summary.plans
    )
    return _Written(model.cover.report_id, tuple(paths), verdict or "no plan is configured")
