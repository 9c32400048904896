"""`bdr report [--month YYYY-MM] [--out DIR] [--format html,pdf,json]` and `bdr report list`."""

from __future__ import annotations

from pathlib import Path

import click

from bdr.cli.app import App


@click.group(invoke_without_command=True)
@click.option(
    "--month",
    metavar="YYYY-MM",
    help="The month to report (default: the last full month; the current one is partial).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write under this directory instead of [reports] output_dir.",
)
@click.option(
    "--format",
    "formats",
    default="html,pdf,json",
    show_default=True,
    help="Comma-separated: html, pdf, json.",
)
@click.pass_context
def report(click_ctx: click.Context, month: str | None, out: Path | None, formats: str) -> None:
    """Write the monthly restore-test report (HTML, PDF, JSON), each with a .sig signature."""
    if click_ctx.invoked_subcommand is not None:
        return
    from bdr.actions.report import Request, make_report, parse_formats
    from bdr.errors import UsageError

    app: App = click_ctx.obj
    try:
        request = Request(month=month, out=out, formats=parse_formats(formats))
    except UsageError as error:
        app.abort(error.message, 2)
    result = make_report(app.context(), request)

    def show() -> None:
        from bdr.cli.render import console, plain, styled

        out = console()
        if result.status != "ok":
            out.print(f"report: {styled(result.status)}: {plain(result.message)}")
            return
        from bdr.store.outcomes import ReportOutcome

        outcome = result.outcome
        assert isinstance(outcome, ReportOutcome)
        partial = " (partial period)" if outcome.partial else ""
        out.print(f"report of {outcome.month}{partial}, run {result.run_id}:")
        for path in outcome.files:
            out.print(f"  {plain(path)}")

    app.finish_runs([result], show)


@report.command(name="list")
@click.pass_obj
def list_reports(app: App) -> None:
    """List the reports written so far, newest month first."""
    from bdr.config.ownership import report_dir
    from bdr.store import runs

    output_dir = report_dir(app.config)
    written = []
    appliance = app.config.appliance.id
    if output_dir.is_dir():
        for month_dir in sorted(output_dir.iterdir(), reverse=True):
            files = sorted(month_dir.glob(f"bdr-{appliance}-{month_dir.name}.*"))
            reports = [f for f in files if f.suffix in (".html", ".pdf", ".json")]
            if reports:
                written.append((month_dir.name, reports))
    last: dict[str | None, runs.Run] = {}
    for run in runs.finished_runs(app.history(), "report", limit=1000):
        last.setdefault(run.subject, run)
    if app.json_output:
        app.print_json(
            [
                {
                    "month": month,
                    "files": [str(f) for f in files],
                    "signed": [f.with_name(f.name + ".sig").exists() for f in files],
                    "run_id": last[month].id if month in last else None,
                    "status": last[month].status if month in last else None,
                }
                for month, files in written
            ]
        )
        return
    if not written:
        click.echo(f"no report written under {output_dir} yet")
        return
    from bdr.cli.render import table

    table(
        f"reports under {output_dir}",
        ["month", "formats", "signed", "last run", "files"],
        [
            [
                month,
                ",".join(f.suffix[1:] for f in files),
                "yes" if all(f.with_name(f.name + ".sig").exists() for f in files) else "no",
                f"{last[month].id} {last[month].status}" if month in last else "-",
                str(files[0].parent),
            ]
            for month, files in written
        ],
        wrap="files",
    )
